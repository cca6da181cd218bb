/** One batch of pieces to count, up to a limit (see countPieces in token-counting.ts). */
export interface ToTokenizer {
  id: number;
  pieces: readonly string[];
  limit: number;
}

export type FromTokenizer = { id: number; tokens: number } | { id: number; error: string };
