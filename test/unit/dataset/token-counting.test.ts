import { describe, expect, it } from 'vitest';
import {
  countingPlan,
  countPieces,
  countTextsUpTo,
  PIECE_CHARS,
  type TokenCount,
} from '../../../shared/dataset/token-counting.ts';
import { sharedTokenCounting } from '../../../shared/dataset/tokenizer-thread.ts';
import { loadTokenCounter, type TokenCounter } from '../../../shared/dataset/tokens.ts';

/** Counts words and stray characters, unevenly, so that where counting stops shows in the sum. */
const counter: TokenCounter = {
  count: (text) => text.split(/\s+/).filter(Boolean).length + (text.length % 3),
};

/** Counting piece by piece, stopping past the limit: what the batches must add up to. */
function pieceByPiece(texts: readonly string[], limit: number): TokenCount {
  const pieces: string[] = [];
  const plan = countingPlan(texts, Number.POSITIVE_INFINITY, 1);
  for (let step = plan.next(); !step.done; step = plan.next(0)) pieces.push(...step.value.pieces);
  expect(pieces.join('')).toBe(texts.join(''));
  let tokens = 0;
  for (const piece of pieces) {
    tokens += counter.count(piece);
    if (tokens > limit) return { tokens, exact: false, atLeast: true };
  }
  return { tokens, exact: true };
}

function runPlan(texts: readonly string[], limit: number, batchChars: number): TokenCount {
  const plan = countingPlan(texts, limit, batchChars);
  let step = plan.next();
  while (!step.done) {
    expect(step.value.pieces.every((piece) => piece.length <= PIECE_CHARS)).toBe(true);
    step = plan.next(countPieces(counter, step.value.pieces, step.value.limit));
  }
  return step.value;
}

describe('counting in batches of pieces', () => {
  const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i % 97}`).join(' ');
  const texts = ['', words(9_000), '', words(4_000), ''];

  it('gives the same count, and stops at the same piece, whatever the batch size', () => {
    for (const limit of [Number.POSITIVE_INFINITY, 1, 5_000, 12_000, 13_500]) {
      const expected = pieceByPiece(texts, limit);
      for (const batchChars of [1, 1_000, 7_777, 32 * 1024, Number.POSITIVE_INFINITY]) {
        expect(runPlan(texts, limit, batchChars)).toEqual(expected);
      }
    }
  });

  it('hands the tokenizer a whole text only in pieces, even a text with no white space', () => {
    const plan = countingPlan(['x'.repeat(200_000)], Number.POSITIVE_INFINITY, 32 * 1024);
    let step = plan.next();
    let batches = 0;
    while (!step.done) {
      batches++;
      expect(step.value.pieces.join('').length).toBeLessThanOrEqual(32 * 1024 + PIECE_CHARS);
      step = plan.next(countPieces(counter, step.value.pieces, step.value.limit));
    }
    expect(batches).toBeGreaterThan(5);
    expect(step.value.exact).toBe(true);
  });

  it('counts on the tokenizer thread what is counted here, also when it stops past a limit', {
    timeout: 120_000,
  }, async () => {
    const text = 'Grüße aus München — 日本語のテキスト 🎉 function f(x) { return x * 2; }\n'.repeat(2_000);
    const here = await loadTokenCounter();
    const thread = await sharedTokenCounting();
    const all = countTextsUpTo(here, [text, 'tail'], Number.POSITIVE_INFINITY);
    expect(await thread.countUpTo([text, 'tail'], Number.POSITIVE_INFINITY)).toEqual(all);
    // A limit just under the total: the sample cannot decide, the full count stops in its last batch.
    const near = Math.round(all.tokens * 0.98);
    const stopped = countTextsUpTo(here, [text, 'tail'], near);
    expect(stopped).toMatchObject({ exact: false, atLeast: true });
    expect(await thread.countUpTo([text, 'tail'], near)).toEqual(stopped);
  });
});
