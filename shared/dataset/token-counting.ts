/**
 * Counting an example's tokens without letting one long example stall the validator. The Gemma 3
 * tokenizer's time grows with the square of the length of what it is given at once (measured: 1 KB
 * pieces of a 100 KB text took 1.2 s, the text whole 3.2 s; texts without white space are slower
 * still), so texts are counted in pieces of about a kilobyte cut at white space. And a long example
 * is first measured on a systematic sample of its pieces: well over the limit (or well under it), the
 * exact count does not matter and is not made; only an example near the limit is counted whole, and
 * that count stops as soon as it passes the limit.
 */
import type { TokenCounter } from './tokens.ts';

export interface TokenCount {
  tokens: number;
  /** false: `tokens` is an estimate from a counted sample of the text (far from the limit), or a
   * count that stopped once past the limit (then `atLeast`: the text has at least that many). */
  exact: boolean;
  atLeast?: boolean;
}

/** Counts the texts of one example, where the tokenizer runs (a worker thread, or this one). */
export interface TokenCounting {
  countUpTo(texts: readonly string[], limit: number): Promise<TokenCount>;
}

/**
 * Characters per piece, cut at white space in the piece's second half where there is some. Pieces
 * counted apart can differ from the text counted whole by a merge across a cut: measured +0.6% on
 * repetitive prose, within the sampling margin below.
 */
export const PIECE_CHARS = 1024;
/** Texts longer than this (in characters, all texts of the example together) are sampled first. */
export const SAMPLE_ABOVE_CHARS = 64 * 1024;
/** Pieces counted for the sample, spread evenly over the text. */
export const SAMPLE_PIECES = 24;
/** How far from the limit a sampled estimate must be to decide without a full count: 24 pieces
 * spread over a long text measure its tokens per character within a few percent. Gemma 3 only
 * approximates Gemini's tokenizer anyway: Vertex AI's own count decides what it drops. */
export const DECISION_MARGIN = 0.05;

/** Characters of pieces sent to the tokenizer's thread at once: a few hundred milliseconds of
 * counting, so a message's cost is nothing beside it, and the thread never holds a whole text. */
export const BATCH_CHARS = 32 * 1024;

/** Pieces to count, and the sum past which counting them may stop (see countPieces). */
export interface PieceBatch {
  pieces: string[];
  limit: number;
}

/**
 * What to count for one example, as batches of pieces: the generator yields a batch, is given the
 * tokens counted in it, and returns the example's count. The same plan drives counting on this
 * thread (countTextsUpTo) and on the tokenizer's (TokenizerThread), so both count the same
 * pieces and stop at the same one: the figures are identical wherever they are made.
 */
export function* countingPlan(
  texts: readonly string[],
  limit: number,
  batchChars = BATCH_CHARS,
): Generator<PieceBatch, TokenCount, number> {
  const characters = texts.reduce((sum, text) => sum + text.length, 0);
  if (Number.isFinite(limit) && characters > SAMPLE_ABOVE_CHARS) {
    const sample = samplePieces(texts);
    const tokens = yield { pieces: sample.pieces, limit: Number.POSITIVE_INFINITY };
    const estimate = (tokens / sample.characters) * characters;
    if (estimate > limit * (1 + DECISION_MARGIN) || estimate < limit * (1 - DECISION_MARGIN)) {
      return { tokens: Math.round(estimate), exact: false };
    }
  }
  let total = 0;
  let batch: string[] = [];
  let batched = 0;
  for (const text of texts) {
    for (let start = 0; start < text.length; ) {
      const end = pieceEnd(text, start);
      batch.push(text.slice(start, end));
      batched += end - start;
      start = end;
      if (batched >= batchChars) {
        total += yield { pieces: batch, limit: limit - total };
        if (total > limit) return { tokens: total, exact: false, atLeast: true };
        batch = [];
        batched = 0;
      }
    }
  }
  if (batch.length > 0) {
    total += yield { pieces: batch, limit: limit - total };
    if (total > limit) return { tokens: total, exact: false, atLeast: true };
  }
  return { tokens: total, exact: true };
}

/** The tokens of `pieces` in order, stopping after the piece that takes the sum past `limit`. */
export function countPieces(counter: TokenCounter, pieces: readonly string[], limit: number): number {
  let total = 0;
  for (const piece of pieces) {
    total += counter.count(piece);
    if (total > limit) break;
  }
  return total;
}

export function countTextsUpTo(counter: TokenCounter, texts: readonly string[], limit: number): TokenCount {
  const plan = countingPlan(texts, limit);
  let step = plan.next();
  while (!step.done) step = plan.next(countPieces(counter, step.value.pieces, step.value.limit));
  return step.value;
}

/** SAMPLE_PIECES pieces spread evenly over the texts, and their characters. */
function samplePieces(texts: readonly string[]): { pieces: string[]; characters: number } {
  const joined = texts.length === 1 ? texts[0]! : texts.join('\n');
  const stride = Math.floor(joined.length / SAMPLE_PIECES);
  const pieces: string[] = [];
  let characters = 0;
  for (let i = 0; i < SAMPLE_PIECES; i++) {
    const start = i * stride;
    const end = pieceEnd(joined, start);
    pieces.push(joined.slice(start, end));
    characters += end - start;
  }
  return { pieces, characters };
}

function pieceEnd(text: string, start: number): number {
  const hard = Math.min(text.length, start + PIECE_CHARS);
  if (hard === text.length) return hard;
  for (let i = hard; i > start + PIECE_CHARS / 2; i--) {
    const code = text.charCodeAt(i - 1);
    if (code === 0x20 || code === 0x0a || code === 0x09) return i;
  }
  // Never cut a surrogate pair in two: the halves would each count as a replacement character.
  const code = text.charCodeAt(hard - 1);
  return code >= 0xd800 && code <= 0xdbff ? hard - 1 : hard;
}

/** Counting on the calling thread with a tokenizer already loaded here (tests, fallbacks). */
export function inThreadCounting(load: () => Promise<TokenCounter>): TokenCounting {
  let counter: Promise<TokenCounter> | undefined;
  return {
    async countUpTo(texts, limit) {
      counter ??= load();
      return countTextsUpTo(await counter, texts, limit);
    },
  };
}
