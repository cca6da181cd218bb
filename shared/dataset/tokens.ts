import type { ExampleMetrics } from './example-rules.ts';
import { loadGemmaTokenizer } from './gemma-tokenizer.ts';

/**
 * Token figures, and which method produced them.
 *
 * Bound: the Gemma 3 tokenizer (what Google's local tokenizer uses for Gemini 2.x) is a
 * SentencePiece BPE with byte fallback and no normalisation beyond " " → "▁": every token covers
 * at least one byte of the input, so a text has at most as many tokens as UTF-8 bytes. Function
 * and code parts are bounded by the bytes of their JSON. Each turn adds at most
 * TURN_OVERHEAD_TOKENS template tokens (`<start_of_turn>`, role, newline, `<end_of_turn>`,
 * newline) and each example one BOS token.
 *
 * Media (inlineData, fileData) cannot be bounded without decoding the file: each such part is
 * counted as MEDIA_NOMINAL_TOKENS (Gemini's figure for one image of up to 384×384 px) in the
 * estimates, and is left out of the limit check, which therefore never rejects on a guess.
 */
export const TURN_OVERHEAD_TOKENS = 5;
export const EXAMPLE_OVERHEAD_TOKENS = 1;
export const MEDIA_NOMINAL_TOKENS = 258;
/** Tokens per UTF-8 byte assumed when no sample was counted (English prose is about 0.25). */
export const HEURISTIC_TOKENS_PER_BYTE = 0.3;

export type TokenMethod = 'bound' | 'counted';

export function templateOverhead(metrics: ExampleMetrics): number {
  return (
    EXAMPLE_OVERHEAD_TOKENS + TURN_OVERHEAD_TOKENS * (metrics.turns + (metrics.hasSystemInstruction ? 1 : 0))
  );
}

/** A provable upper bound on an example's text tokens plus template overhead (media excluded). */
export function tokenUpperBound(metrics: ExampleMetrics): number {
  return metrics.contentBytes + templateOverhead(metrics);
}

export interface TokenCounter {
  /** Exact Gemma 3 token count of a text, without special tokens. */
  count(text: string): number;
}

let loading: Promise<TokenCounter> | undefined;

/**
 * Loads the Gemma 3 tokenizer once, on first use: it takes about a second and ~100 MB (see
 * gemma-tokenizer.ts), so the validator asks for it only when a bound cannot decide (or a counted
 * sample is requested).
 */
export function loadTokenCounter(
  /** Where the tokenizer's package is resolved from: this module, unless it runs from a data: URL
   * (a worker bundled in memory), which has no node_modules of its own. */
  resolveFrom: string = import.meta.url,
): Promise<TokenCounter> {
  loading ??= loadGemmaTokenizer({ resolveFrom });
  return loading;
}
