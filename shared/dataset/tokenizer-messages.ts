import type { TokenCount } from './token-counting.ts';

/** One example's texts to count, up to a limit (Infinity: count them all). */
export interface ToTokenizer {
  id: number;
  texts: readonly string[];
  limit: number;
}

export type FromTokenizer = { id: number; count: TokenCount } | { id: number; error: string };
