import { describe, expect, it } from 'vitest';
import { MAX_FREE_FORM_DEPTH, nestsDeeperThan } from '../../../shared/dataset/json-depth.ts';
import { countTextsUpTo, PIECE_CHARS, SAMPLE_PIECES } from '../../../shared/dataset/token-counting.ts';
import { sharedTokenCounting } from '../../../shared/dataset/tokenizer-thread.ts';
import { loadTokenCounter } from '../../../shared/dataset/tokens.ts';
import { line, model, user, validate } from './helpers.ts';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('a hostile line', () => {
  it('of 100,000 nested arrays is an invalid example with its line and path, not a crash', async () => {
    const bomb = `{"contents":[{"role":"user","parts":[{"text":"a"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{"x":${nested(100_000)}}}}]}]}`;
    const ok = line({ contents: [user('a'), model('b')] });
    const report = await validate(`${ok}\n${bomb}\n${ok}\n`, { model: 'gemini-3.5-flash' });
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual([
      expect.objectContaining({
        line: 2,
        code: 'too_deeply_nested',
        path: '/contents/1/parts/0/functionCall',
      }),
    ]);
    expect(report.stats.validExamples).toBe(2);
  });

  it('nested anywhere else is refused by the structure checks without any recursion', async () => {
    const lines = [
      `{"contents":${nested(100_000)}}`,
      `{"contents":[{"role":"user","parts":${nested(100_000)}}]}`,
      `{"contents":[{"role":"user","parts":[{"text":"a"}]},{"role":"model","parts":[{"text":"b"}]}],"tools":${nested(100_000)}}`,
      `{"systemInstruction":{"parts":${nested(100_000)}},"contents":[{"role":"user","parts":[{"text":"a"}]}]}`,
    ];
    const report = await validate(`${lines.join('\n')}\n`, { model: 'gemini-3.5-flash' });
    expect(new Set(report.errors.map((error) => error.line))).toEqual(new Set([1, 2, 3, 4]));
  });

  it('accepts free-form values up to the depth protobuf JSON parsers take', () => {
    let value: unknown = 'leaf';
    for (let i = 0; i < MAX_FREE_FORM_DEPTH; i++) value = [value];
    expect(nestsDeeperThan(value, MAX_FREE_FORM_DEPTH)).toBe(false);
    expect(nestsDeeperThan([value], MAX_FREE_FORM_DEPTH)).toBe(true);
  });
});

describe('counting long examples', () => {
  const recording = () => {
    const pieces: string[] = [];
    return {
      pieces,
      counter: {
        count: (text: string) => {
          pieces.push(text);
          return Math.ceil(text.length / 4);
        },
      },
    };
  };

  it('decides a text far over the limit from a counted sample, without counting it all', () => {
    const { pieces, counter } = recording();
    const text = 'word '.repeat(180_000); // 900 KB: about 225,000 tokens at 4 characters a token
    const count = countTextsUpTo(counter, [text], 131_072);
    expect(count.exact).toBe(false);
    expect(count.tokens).toBeGreaterThan(131_072);
    expect(pieces.length).toBe(SAMPLE_PIECES);
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThanOrEqual(PIECE_CHARS);
  });

  it('counts a text near the limit in pieces and stops once past it', () => {
    const { pieces, counter } = recording();
    const text = 'word '.repeat(105_000); // 525 KB: about 131,250 tokens, within the decision margin
    const count = countTextsUpTo(counter, [text], 131_072);
    expect(count).toMatchObject({ exact: false });
    expect(count.tokens).toBeGreaterThan(131_072);
    const counted = pieces.slice(SAMPLE_PIECES).reduce((sum, piece) => sum + piece.length, 0);
    expect(counted).toBeLessThan(131_072 * 4 + PIECE_CHARS + 1);
    expect(countTextsUpTo(counter, ['abcd', 'efgh'], Number.POSITIVE_INFINITY)).toEqual({
      tokens: 2,
      exact: true,
    });
  });

  it('cuts pieces at white space and never inside a surrogate pair', () => {
    const { pieces, counter } = recording();
    const words = 'word '.repeat(10_000);
    countTextsUpTo(counter, [words], Number.POSITIVE_INFINITY);
    expect(pieces.join('')).toBe(words);
    for (const piece of pieces.slice(0, -1)) expect(piece.endsWith(' ')).toBe(true);
    pieces.length = 0;
    countTextsUpTo(counter, ['🎉'.repeat(20_000)], Number.POSITIVE_INFINITY);
    expect(pieces.every((piece) => !/[\uD800-\uDBFF]$/.test(piece))).toBe(true);
  });

  it('counts on the tokenizer thread what the tokenizer counts here, in the same pieces', {
    timeout: 120_000,
  }, async () => {
    const text = 'Grüße aus München — 日本語のテキスト 🎉 function f(x) { return x * 2; }\n'.repeat(500);
    const here = countTextsUpTo(await loadTokenCounter(), [text], Number.POSITIVE_INFINITY);
    const thread = await (await sharedTokenCounting()).countUpTo([text], Number.POSITIVE_INFINITY);
    expect(thread).toEqual(here);
    expect(thread.tokens).toBeLessThanOrEqual(Buffer.byteLength(text));
  });
});

describe('the billable-token estimate', () => {
  // Dense text, as a tokenizer sees code or non-Latin scripts: 0.7 tokens per byte, where the
  // fixed 0.3 ratio of old would have estimated less than half of it.
  const dense = (i: number) =>
    line({ contents: [user(`q${i} ${'x'.repeat(100 + (i % 7) * 40)}`), model('ok')] });
  const denseTokens = (text: string) => Math.ceil(text.length * 0.7);
  const countDense = async () => ({ count: denseTokens });
  const textTokens = (lines: string[]) =>
    lines.reduce((sum, text) => {
      const value = JSON.parse(text) as { contents: { parts: { text: string }[] }[] };
      return (
        sum + value.contents.flatMap((turn) => turn.parts).reduce((n, part) => n + denseTokens(part.text), 0)
      );
    }, 0);

  it('samples dense text and adds the sampling error, so it does not fall under the true figure', async () => {
    const lines = Array.from({ length: 2_000 }, (_, i) => dense(i));
    const report = await validate(`${lines.join('\n')}\n`, { tokenSample: 64, loadCounter: countDense });
    const estimate = report.stats.estimate.tokens;
    expect(estimate.method).toBe('sampled');
    expect(estimate.margin).toBeGreaterThan(0);
    expect(estimate.tokensPerByte).toBeGreaterThan(0.65);
    expect(estimate.basis).toMatch(/of 2000 examples counted with the tokenizer/);
    expect(estimate.estimated).toBeGreaterThanOrEqual(textTokens(lines));
    expect(estimate.estimated).toBeLessThanOrEqual(estimate.upperBound);
  });

  it('is exact, with no margin, when every example was counted', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => dense(i));
    const report = await validate(`${lines.join('\n')}\n`, { tokenSample: 64, loadCounter: countDense });
    expect(report.stats.estimate.tokens).toMatchObject({ method: 'counted', margin: 0, sampleSize: 20 });
    expect(report.stats.estimate.tokens.basis).toMatch(/every example counted/);
  });

  it('says when it only assumed a ratio', async () => {
    const report = await validate(`${dense(1)}\n`);
    expect(report.stats.estimate.tokens.method).toBe('heuristic');
    expect(report.stats.estimate.tokens.basis).toMatch(/assumed 0.3 tokens per byte/);
  });
});
