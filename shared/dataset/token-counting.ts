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

export function countTextsUpTo(counter: TokenCounter, texts: readonly string[], limit: number): TokenCount {
  const characters = texts.reduce((sum, text) => sum + text.length, 0);
  if (Number.isFinite(limit) && characters > SAMPLE_ABOVE_CHARS) {
    const estimate = sampledEstimate(counter, texts, characters);
    if (estimate > limit * (1 + DECISION_MARGIN) || estimate < limit * (1 - DECISION_MARGIN)) {
      return { tokens: Math.round(estimate), exact: false };
    }
  }
  let total = 0;
  for (const text of texts) {
    for (let start = 0; start < text.length; ) {
      const end = pieceEnd(text, start);
      total += counter.count(text.slice(start, end));
      if (total > limit) return { tokens: total, exact: false, atLeast: true };
      start = end;
    }
  }
  return { tokens: total, exact: true };
}

/** Tokens per character of SAMPLE_PIECES pieces spread over the texts, times their length. */
function sampledEstimate(counter: TokenCounter, texts: readonly string[], characters: number): number {
  const joined = texts.length === 1 ? texts[0]! : texts.join('\n');
  const stride = Math.floor(joined.length / SAMPLE_PIECES);
  let tokens = 0;
  let counted = 0;
  for (let i = 0; i < SAMPLE_PIECES; i++) {
    const start = i * stride;
    const end = pieceEnd(joined, start);
    tokens += counter.count(joined.slice(start, end));
    counted += end - start;
  }
  return (tokens / counted) * characters;
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
