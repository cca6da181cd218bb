import { describe, expect, it } from 'vitest';
import { loadGemmaTokenizer, PairRanks } from '../../../shared/dataset/gemma-tokenizer.ts';
import { splitTokenizerJson, UnexpectedTokenizerJson } from '../../../shared/dataset/tokenizer-json.ts';

/** Texts that exercise every path of the tokenizer: merges, byte fallback, special tokens. */
function corpus(): string[] {
  let state = 7;
  const random = (n: number) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  const noSpace = Array.from({ length: 1500 }, () => String.fromCharCode(97 + random(26))).join('');
  const words = ['tuning', 'dataset', 'the', 'of', 'Vertex', 'bucket', '  ', '\n', '\t', 'naïve'];
  const prose = Array.from({ length: 400 }, () => words[random(words.length)]).join(' ');
  return [
    '',
    ' ',
    'a',
    'Hello, world!',
    prose,
    noSpace,
    'Grüße aus München — 日本語のテキスト 🎉 function f(x) { return x * 2; }\n'.repeat(20),
    '<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n<bos><pad><eos>',
    // Byte fallback: characters outside the vocabulary, a lone surrogate, control characters.
    '\u0000\u0001\uffff\ud800 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ꙮ ᚠᛇᚻ 𓀀𓀁',
    '\n'.repeat(40) + ' '.repeat(40) + '\t'.repeat(40),
    'const x = {"a": [1, 2, 3], "b": null}; // JSON in code\n'.repeat(10),
    'Ελληνικά Русский العربية हिन्दी 한국어 ไทย',
    // Tokens whose JSON needs escapes: quotes, backslashes.
    'C:\\Users\\x "quoted" \\n \\" \'\' \\\\server\\share ""\\',
  ];
}

describe('the compact Gemma 3 tokenizer', () => {
  it('counts exactly what the library loaded its own way counts', { timeout: 180_000 }, async () => {
    const texts = corpus();
    // One after the other, so the test holds one tokenizer at a time.
    const plain = await loadGemmaTokenizer({ resolveFrom: import.meta.url, compact: false });
    const expected = texts.map((text) => plain.count(text));
    const compact = await loadGemmaTokenizer({ resolveFrom: import.meta.url });
    // Otherwise a silent fallback would compare the library with itself.
    expect(plain.loader).toBe('library');
    expect(compact.loader).toBe('compact');
    expect(texts.map((text) => compact.count(text))).toEqual(expected);
    expect(expected[5]).toBeGreaterThan(100);
  });
});

describe('reading tokenizer.json in parts', () => {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2));

  it('parses the vocabulary apart and hands the merges over in order, escapes decoded', () => {
    const parts = splitTokenizerJson(
      json({
        version: '1.0',
        added_tokens: [{ id: 0, content: '<pad>' }],
        model: {
          type: 'BPE',
          vocab: { a: 0, 'b"\\': 1, '▁c': 2 },
          merges: [
            ['a', 'b"\\'],
            ['▁c', 'a'],
          ],
        },
        decoder: null,
      }),
    );
    expect(parts.rest).toEqual({
      version: '1.0',
      added_tokens: [{ id: 0, content: '<pad>' }],
      model: { type: 'BPE', vocab: {}, merges: [] },
      decoder: null,
    });
    expect(parts.vocab).toEqual({ a: 0, 'b"\\': 1, '▁c': 2 });
    const merges: [string, string, number][] = [];
    parts.forEachMerge((left, right, rank) => merges.push([left, right, rank]));
    expect(merges).toEqual([
      ['a', 'b"\\', 0],
      ['▁c', 'a', 1],
    ]);
  });

  it('refuses a layout it does not know, so the library parses it instead', () => {
    const old = splitTokenizerJson(json({ model: { type: 'BPE', vocab: { a: 0 }, merges: ['a b'] } }));
    expect(() => old.forEachMerge(() => {})).toThrow(UnexpectedTokenizerJson);
    expect(() => splitTokenizerJson(json({ model: { type: 'Unigram', vocab: [['a', 0]] } }))).toThrow(
      UnexpectedTokenizerJson,
    );
  });
});

describe('the merge-rank table', () => {
  it('finds every pair it holds, with the last rank given, and no other', () => {
    const table = new PairRanks(4);
    for (let i = 0; i < 5000; i++) table.set(i, (i * 7) % 5000, i);
    table.set(3, 21, 99_999);
    expect(table.size).toBe(5000);
    expect(table.get(3, 21)).toBe(99_999);
    for (let i = 0; i < 5000; i += 37) {
      if (i !== 3) expect(table.get(i, (i * 7) % 5000)).toBe(i);
      expect(table.get(i, ((i * 7) % 5000) + 1)).toBe(-1);
    }
  });
});
