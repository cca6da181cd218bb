/**
 * The billable-token estimate behind the cost estimate and the budget gate. Text is estimated from
 * tokenizer counts gathered during validation: examples over the byte bound are counted exactly,
 * and the rest are estimated with the tokens-per-byte ratio of a systematic sample, plus a margin
 * for the sampling error, so that dense text (0.7 tokens per byte and more) cannot slip under a
 * budget that a fixed ratio would have assumed. Never above the provable upper bound.
 */
import type { TokenEstimate } from './report.ts';
import { HEURISTIC_TOKENS_PER_BYTE, MEDIA_NOMINAL_TOKENS } from './tokens.ts';
import type { ExampleTotals } from './totals.ts';

export interface SampledExample {
  tokens: number;
  bytes: number;
}

/** Standard errors added to the sampled ratio: about a 95% one-sided bound. */
const STANDARD_ERRORS = 2;
/** A UTF-8 byte is at most one token (see tokens.ts): the ratio's ceiling. */
const MAX_TOKENS_PER_BYTE = 1;

export function estimateTokens(totals: ExampleTotals, sample: readonly SampledExample[]): TokenEstimate {
  const media = totals.mediaParts * MEDIA_NOMINAL_TOKENS;
  const estimatedBytes = totals.contentBytes - totals.countedBytes;
  const population = totals.bounded;
  const usable = sample.filter((item) => item.bytes > 0);
  let method: TokenEstimate['method'];
  let tokensPerByte: number;
  let margin = 0;
  let basis: string;
  if (usable.length === 0) {
    method = totals.bounded === 0 && totals.counted > 0 ? 'counted' : 'heuristic';
    tokensPerByte = HEURISTIC_TOKENS_PER_BYTE;
    basis =
      method === 'counted'
        ? `every example counted with the tokenizer`
        : `an assumed ${HEURISTIC_TOKENS_PER_BYTE} tokens per byte of text (no example counted with the tokenizer)`;
  } else {
    const tokens = usable.reduce((sum, item) => sum + item.tokens, 0);
    const bytes = usable.reduce((sum, item) => sum + item.bytes, 0);
    tokensPerByte = tokens / bytes;
    const complete = usable.length >= population;
    method = complete ? 'counted' : 'sampled';
    if (!complete) margin = ratioMargin(usable, tokensPerByte, population);
    basis = complete
      ? `every example counted with the tokenizer (${round(tokensPerByte)} tokens per byte)`
      : `${usable.length} of ${population} examples counted with the tokenizer: ${round(tokensPerByte)} tokens per byte, plus ${round(margin)} for the sampling error (95%)`;
  }
  if (totals.counted > 0 && method !== 'counted') {
    basis += `; ${totals.counted} long example${totals.counted === 1 ? '' : 's'} counted exactly`;
  }
  const text = Math.round(estimatedBytes * Math.min(MAX_TOKENS_PER_BYTE, tokensPerByte + margin));
  return {
    upperBound: totals.upperBoundTokens,
    estimated: Math.min(totals.upperBoundTokens, text + totals.countedTokens + totals.overheadTokens + media),
    method,
    tokensPerByte,
    sampleSize: usable.length,
    margin,
    basis,
  };
}

/**
 * About STANDARD_ERRORS standard errors of the ratio estimator tokens/bytes, with the finite
 * population correction (a sample of most of the file has little error left). One example gives
 * no spread: the margin then reaches the ratio's ceiling, the bound.
 */
function ratioMargin(sample: readonly SampledExample[], ratio: number, population: number): number {
  const n = sample.length;
  if (n < 2) return Math.max(0, MAX_TOKENS_PER_BYTE - ratio);
  const meanBytes = sample.reduce((sum, item) => sum + item.bytes, 0) / n;
  let squares = 0;
  for (const item of sample) squares += (item.tokens - ratio * item.bytes) ** 2;
  const variance = squares / (n - 1);
  const correction = Math.max(0, 1 - n / population);
  const standardError = Math.sqrt((correction * variance) / n) / meanBytes;
  return Math.min(
    MAX_TOKENS_PER_BYTE - Math.min(ratio, MAX_TOKENS_PER_BYTE),
    STANDARD_ERRORS * standardError,
  );
}

function round(value: number): string {
  return value.toFixed(3);
}
