/**
 * Reading a Hugging Face tokenizer.json (33 MB for Gemma 3) without building it as one object
 * graph: JSON.parse of the whole file held the source text, the parsed vocabulary and 514,906
 * merge pairs (each a two-element array of two strings) at once, about 200 MB of heap on top of
 * the tokenizer itself. Here the file stays a Buffer; the vocabulary is parsed on its own, and the
 * merges are read pair by pair and handed to the caller, never held as arrays.
 */

/** The file isn't laid out as expected (a tokenizer this reader does not know): use JSON.parse. */
export class UnexpectedTokenizerJson extends Error {}

export interface TokenizerJsonParts {
  /** Everything except model.vocab and model.merges (empty in it), parsed. */
  rest: { model: Record<string, unknown> } & Record<string, unknown>;
  /** model.vocab: token → id, parsed on its own. */
  vocab: Record<string, number>;
  /** Calls `pair` with each merge in order, its rank being its position. */
  forEachMerge(pair: (left: string, right: string, rank: number) => void): void;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function splitTokenizerJson(source: Buffer): TokenizerJsonParts {
  const reader = new Reader(source);
  let model: Range | undefined;
  reader.members(reader.skipWhitespace(0), (key, start, end) => {
    if (key === 'model') model = { start, end };
  });
  if (!model) throw new UnexpectedTokenizerJson('no "model" in tokenizer.json');
  let vocab: Range | undefined;
  let merges: Range | undefined;
  reader.members(model.start, (key, start, end) => {
    if (key === 'vocab') vocab = { start, end };
    else if (key === 'merges') merges = { start, end };
  });
  if (!vocab || !merges || source[vocab.start] !== 0x7b || source[merges.start] !== 0x5b) {
    throw new UnexpectedTokenizerJson('model.vocab is not an object or model.merges not an array');
  }
  const [first, second] = vocab.start < merges.start ? [vocab, merges] : [merges, vocab];
  const empty = (range: Range) => (range === vocab ? '{}' : '[]');
  const rest = JSON.parse(
    source.toString('utf8', 0, first.start) +
      empty(first) +
      source.toString('utf8', first.end, second.start) +
      empty(second) +
      source.toString('utf8', second.end),
  ) as TokenizerJsonParts['rest'];
  const vocabRange = vocab;
  const mergesRange = merges;
  return {
    rest,
    vocab: JSON.parse(source.toString('utf8', vocabRange.start, vocabRange.end)),
    forEachMerge: (pair) => reader.merges(mergesRange.start, pair),
  };
}

interface Range {
  start: number;
  end: number;
}

class Reader {
  /** The first backslash at or after `backslashFrom`: strings are mostly read in file order, so
   * one search serves many strings. */
  private backslash = -1;
  private backslashFrom = Number.POSITIVE_INFINITY;

  constructor(private readonly bytes: Buffer) {}

  skipWhitespace(i: number): number {
    const bytes = this.bytes;
    while (i < bytes.length) {
      const byte = bytes[i]!;
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return i;
      i++;
    }
    return i;
  }

  private expect(i: number, byte: number): number {
    if (this.bytes[i] !== byte) {
      throw new UnexpectedTokenizerJson(`expected "${String.fromCharCode(byte)}" at byte ${i}`);
    }
    return i + 1;
  }

  /** The index of the closing quote of the string opening at `i`. */
  private stringEnd(i: number): number {
    const bytes = this.bytes;
    let end = i;
    for (;;) {
      end = bytes.indexOf(QUOTE, end + 1);
      if (end === -1) throw new UnexpectedTokenizerJson(`unterminated string at byte ${i}`);
      let slashes = 0;
      while (bytes[end - 1 - slashes] === BACKSLASH) slashes++;
      if (slashes % 2 === 0) return end;
    }
  }

  /** The string opening at `i`, decoded, and the index after it. */
  private string(i: number): [string, number] {
    const end = this.stringEnd(i);
    if (i < this.backslashFrom || this.backslash < i) {
      const next = this.bytes.indexOf(BACKSLASH, i);
      this.backslash = next === -1 ? Number.POSITIVE_INFINITY : next;
      this.backslashFrom = i;
    }
    const text =
      this.backslash < end
        ? (JSON.parse(this.bytes.toString('utf8', i, end + 1)) as string)
        : this.bytes.toString('utf8', i + 1, end);
    return [text, end + 1];
  }

  /** The index after the value starting at `i`; nesting is followed with a counter, not recursion. */
  private valueEnd(i: number): number {
    const bytes = this.bytes;
    let depth = 0;
    do {
      const byte = bytes[i];
      if (byte === undefined) throw new UnexpectedTokenizerJson('unexpected end of tokenizer.json');
      if (byte === QUOTE) i = this.stringEnd(i);
      else if (byte === 0x7b || byte === 0x5b) depth++;
      else if (byte === 0x7d || byte === 0x5d) depth--;
      else if (depth === 0) {
        // A number, true, false or null: up to the next delimiter.
        while (i < bytes.length && !isDelimiter(bytes[i]!)) i++;
        return i;
      }
      i++;
    } while (depth > 0);
    return i;
  }

  /** Calls `member` with each key of the object at `i` and its value's byte range. */
  members(i: number, member: (key: string, start: number, end: number) => void): number {
    i = this.skipWhitespace(this.expect(i, 0x7b));
    if (this.bytes[i] === 0x7d) return i + 1;
    for (;;) {
      const [key, afterKey] = this.string(this.expectAt(i, QUOTE));
      const start = this.skipWhitespace(this.expect(this.skipWhitespace(afterKey), 0x3a));
      const end = this.valueEnd(start);
      member(key, start, end);
      i = this.skipWhitespace(end);
      if (this.bytes[i] === 0x7d) return i + 1;
      i = this.skipWhitespace(this.expect(i, 0x2c));
    }
  }

  private expectAt(i: number, byte: number): number {
    if (this.bytes[i] !== byte) {
      throw new UnexpectedTokenizerJson(`expected "${String.fromCharCode(byte)}" at byte ${i}`);
    }
    return i;
  }

  /** The merges array at `i`, in the format of tokenizers ≥ 0.20: `[["left", "right"], ...]`. */
  merges(i: number, pair: (left: string, right: string, rank: number) => void): void {
    i = this.skipWhitespace(this.expect(i, 0x5b));
    if (this.bytes[i] === 0x5d) return;
    for (let rank = 0; ; rank++) {
      i = this.skipWhitespace(this.expect(i, 0x5b));
      const [left, afterLeft] = this.string(this.expectAt(i, QUOTE));
      i = this.skipWhitespace(this.expect(this.skipWhitespace(afterLeft), 0x2c));
      const [right, afterRight] = this.string(this.expectAt(i, QUOTE));
      i = this.skipWhitespace(this.expect(this.skipWhitespace(afterRight), 0x5d));
      pair(left, right, rank);
      if (this.bytes[i] === 0x5d) return;
      i = this.skipWhitespace(this.expect(i, 0x2c));
    }
  }
}

function isDelimiter(byte: number): boolean {
  return (
    byte === 0x2c ||
    byte === 0x7d ||
    byte === 0x5d ||
    byte === 0x20 ||
    byte === 0x0a ||
    byte === 0x0d ||
    byte === 0x09
  );
}
