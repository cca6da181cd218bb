import { availableParallelism } from 'node:os';
import { builtinCatalog, type Catalog, todayUtc } from '../models/runtime.ts';
import { type BlockResult, type BlockSettings, countLines, validateBlock } from './block-validator.ts';
import { estimateCost } from './cost.ts';
import { type ByteSource, type Segment, splitLines } from './line-splitter.ts';
import { type DatasetModel, type ModelSpec, resolveDatasetModel } from './models.ts';
import type { ValidationReport } from './report.ts';
import { type DatasetRole, ReportBuilder } from './report-builder.ts';
import { inThreadCounting } from './token-counting.ts';
import { sharedTokenCounting } from './tokenizer-thread.ts';
import type { TokenCounter } from './tokens.ts';
import { BlockPool, type PoolWorker } from './worker-pool.ts';

export type { DatasetRole } from './report-builder.ts';

/** How the validator spreads the work over threads. The report is the same either way. */
export interface ParallelOptions {
  /** Worker threads at most; 0 keeps everything on the calling thread. Default: see defaultWorkers. */
  workers?: number;
  /** Bytes validated on the calling thread before workers start: below a few MB, starting a
   * worker (~100 ms under tsx) costs more than it saves. Default 4 MiB. */
  thresholdBytes?: number;
  /** Lines validated on the calling thread before workers start, as well: a file of few, long
   * lines (ten 900 KB examples) waits on the tokenizer, not on parsing, and a worker parsing
   * 1 MB lines costs ~20 MB of peak RSS for nothing. Default 64. */
  thresholdLines?: number;
  /** Bytes of whole lines per block, the unit of work. Default 1 MiB. */
  blockBytes?: number;
  /** Whether the calling thread validates blocks itself when every worker is busy or still
   * starting. Default true: on two cores that is what makes validation faster than one thread.
   * With false, once workers start every block goes to them (the caller waits). */
  callerValidates?: boolean;
  /** Filled in with where the blocks were validated, when given (for tests and benchmarks). */
  counts?: { workerBlocks: number; callerBlocks: number };
}

export interface ValidateOptions {
  /**
   * Base model id, alias or `publishers/google/models/<id>`, resolved in `catalog` on `today`: a
   * retired model is an error in the report, an unknown one a warning (checked with conservative
   * limits). Or a whole spec, already resolved by the caller: then no model issue is reported.
   */
  model: string | ModelSpec;
  /** The effective model catalog (with the operator's override). Default: the built-in one. */
  catalog?: Catalog;
  /** YYYY-MM-DD (UTC) for retirement dates. Default: today's date from the system clock. */
  today?: string;
  /**
   * Examples the provider would drop (over its token limit) become errors instead of warnings:
   * for users who want no example dropped (`validate --strict`, manifest `"strict": true`).
   */
  strict?: boolean;
  /**
   * With a whole spec: it stands for a model not in the catalog (conservative limits), so going
   * over a file-level limit is a warning. A model id resolved here sets this itself.
   */
  unknownModel?: boolean;
  role?: DatasetRole;
  /** Named in the report only. */
  fileName?: string;
  /** Epochs for the cost estimate; the model's default when absent. */
  epochs?: number;
  /** Errors (and, separately, warnings) listed in the report; the rest are counted. Default 100. */
  maxErrors?: number;
  /** A longer line is reported and skipped without being held in memory. Default 1 MiB. */
  maxLineBytes?: number;
  /** Examples counted with the tokenizer to calibrate the cost estimate (0: use a heuristic ratio).
   * Loading the tokenizer costs a second or two and about 100 MB, once. Default 0. */
  tokenSample?: number;
  onProgress?: (bytesRead: number) => void;
  /**
   * The source's size in bytes, when the caller knows it (a file's, an object's): a source at or
   * above the parallel threshold has its workers started as soon as the line threshold is met
   * (after its first block, for a file of many short lines), not after thresholdBytes went by on
   * the calling thread, so a worker is ready that much sooner. A file of few long lines still
   * starts none.
   */
  sizeBytes?: number;
  /** For tests: a tokenizer other than the Gemma 3 one, loaded lazily and run on this thread.
   * By default the Gemma 3 tokenizer runs on a worker thread of its own (tokenizer-thread.ts). */
  loadCounter?: () => Promise<TokenCounter>;
  parallel?: ParallelOptions;
}

/**
 * 1 MiB: an example at the 131,072-token limit is rarely more than ~600 KB of JSON text, while a
 * cap this size keeps memory flat. Raise it for datasets with inline media.
 */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_ERRORS = 100;
export const DEFAULT_PARALLEL_THRESHOLD_BYTES = 4 * 1024 * 1024;
export const DEFAULT_PARALLEL_THRESHOLD_LINES = 64;
export const DEFAULT_BLOCK_BYTES = 1024 * 1024;
/** Blocks a worker holds at once: one being validated and one waiting, so it never idles. */
const WORKER_DEPTH = 2;
/**
 * Results validated here that may wait behind a worker's block to be merged in order. They are
 * small (no bytes), and the slack lets this thread keep working when a worker falls behind (on a
 * busy machine a worker thread can be descheduled for milliseconds); with a slack of 2 this
 * thread sat idle a third of the time.
 */
const MAX_QUEUED_RESULTS = 32;
/**
 * A worker's young generation. A block's parse garbage dies within the block, so a small young
 * generation costs no speed, and it kept a few MB off the peak RSS of a 1 GB run (the target is
 * < 150 MB for the whole process).
 */
const WORKER_YOUNG_GENERATION_MB = 4;

/**
 * A worker's old generation, so a runaway ends that worker (and the validation, with an error)
 * rather than the machine. A worker holds a block or two of whole lines and their parse: JSON of
 * tiny objects takes up to ~20 times its bytes, so 64 MB per MiB of the line cap (one line may
 * fill a block) over a floor far above what a block of short lines needs.
 */
export function workerOldGenerationMb(maxLineBytes: number): number {
  return 256 + 64 * Math.ceil(maxLineBytes / (1024 * 1024));
}

/**
 * One worker beside the calling thread, which reads, splits, merges, and validates blocks itself
 * whenever the worker is full: the two cores the issue allows, and one extra isolate's memory
 * (a second worker measured +15 MB of peak RSS on a 1 GB file, over the 150 MB budget). None on
 * a single core, where a worker could only take time from the calling thread.
 */
export function defaultWorkers(): number {
  return availableParallelism() > 1 ? 1 : 0;
}

interface Pending {
  ready: boolean;
  merge: () => Promise<void>;
}

/**
 * Gathers the splitter's line runs into blocks and sends each to a free worker, or validates it
 * on this thread when none is free (or before the workers are started and ready). Results are
 * merged strictly in file order; the number of blocks in flight is bounded, so memory does not
 * grow with the file.
 */
class BlockScheduler {
  private block: Buffer = Buffer.alloc(0);
  private filled = 0;
  private slot: PoolWorker | undefined;
  private spare: Buffer | undefined;
  private nextLine = 1;
  private dispatched = 0;
  private pool: BlockPool | undefined;
  private readonly noWorkers: boolean;
  private readonly queue: Pending[] = [];
  private readonly maxQueued: number;

  constructor(
    private readonly builder: ReportBuilder,
    private readonly settings: BlockSettings,
    private readonly model: ModelSpec,
    private readonly parallel: Required<Omit<ParallelOptions, 'counts'>> & Pick<ParallelOptions, 'counts'>,
  ) {
    this.noWorkers = parallel.workers <= 0;
    this.maxQueued = parallel.workers * WORKER_DEPTH + MAX_QUEUED_RESULTS;
  }

  async push(segment: Segment): Promise<void> {
    if (segment.kind === 'lines') return this.addLines(segment.bytes);
    await this.flush();
    if (segment.kind === 'bom') this.enqueueReady(async () => this.builder.bom());
    else {
      this.nextLine++;
      const bytes = segment.bytes;
      this.enqueueReady(async () => this.builder.oversized(bytes));
    }
    await this.settle();
  }

  async end(): Promise<void> {
    await this.flush();
    while (this.queue.length > 0) await this.mergeHead();
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  /**
   * Copies whole lines into the block being filled, cutting at line ends so no block grows past
   * blockBytes (except for one line longer than a block). Copying at once means no reference to
   * the source's chunk outlives this call: held across a block's validation, a chunk would
   * survive garbage collections, be promoted, and pile up with others as tens of MB of dead
   * external memory until a full collection.
   */
  private async addLines(bytes: Buffer): Promise<void> {
    const { blockBytes } = this.parallel;
    let rest = bytes;
    while (rest.length > 0) {
      if (this.filled === 0) await this.beginBlock();
      const room = blockBytes - this.filled;
      if (rest.length <= room) {
        this.append(rest);
        if (this.filled >= blockBytes) await this.flush();
        return;
      }
      let cut = room > 0 ? rest.lastIndexOf(0x0a, room - 1) : -1;
      if (cut === -1) {
        if (this.filled > 0) {
          await this.flush();
          continue;
        }
        cut = rest.indexOf(0x0a);
        if (cut === -1) cut = rest.length - 1;
      }
      this.append(rest.subarray(0, cut + 1));
      rest = rest.subarray(cut + 1);
      await this.flush();
    }
  }

  /**
   * Picks where the next block goes: straight into a worker's buffer when a worker has room (room
   * only grows until this thread sends it a block), else into the buffer of blocks validated on
   * this thread, unless the caller must not validate, in which case it waits for a worker.
   */
  private async beginBlock(): Promise<void> {
    const pool = this.startPool();
    let slot = pool?.available();
    if (pool && !slot && this.parallel.callerValidates && pool.running()) {
      // A worker that finished a block says so in a message, which this thread only sees when
      // its event loop turns; with the next chunk already read, this loop resumes from microtasks
      // without a turn, and took a block for itself while the worker sat idle (a quarter of the
      // worker's time, measured on 200 MB). One turn first lets a finished block free its slot.
      await new Promise((resolve) => setImmediate(resolve));
      slot = pool.available();
    }
    while (pool && !slot && !this.parallel.callerValidates && !pool.unavailable) {
      if (pool.failure) throw pool.failure;
      if (this.queue.some((entry) => !entry.ready)) await this.mergeHead();
      else await pool.started;
      slot = pool.available();
    }
    this.slot = slot;
    this.block = slot && pool ? pool.buffer(this.parallel.blockBytes) : this.inlineBuffer();
  }

  /** Copies into the block being filled (see beginBlock). */
  private append(bytes: Buffer): void {
    const needed = this.filled + bytes.length;
    if (needed > this.block.length) {
      // Only one line longer than a block gets here.
      const bigger = Buffer.allocUnsafeSlow(needed);
      this.block.copy(bigger, 0, 0, this.filled);
      this.block = bigger;
      if (!this.slot) this.spare = bigger;
    }
    this.filled += bytes.copy(this.block, this.filled);
  }

  private async flush(): Promise<void> {
    if (this.filled === 0) return;
    const block = this.block.subarray(0, this.filled);
    const slot = this.slot;
    this.filled = 0;
    this.slot = undefined;
    const firstLine = this.nextLine;
    this.dispatched += block.length;
    const stride = this.builder.sampleStride;
    if (slot && this.pool) {
      // Transferred to the worker, not copied; it comes back with the result for reuse.
      this.nextLine += countLines(block);
      const result = this.pool.run(slot, block, firstLine, stride);
      if (this.parallel.counts) this.parallel.counts.workerBlocks++;
      const pending: Pending = { ready: false, merge: async () => this.builder.addBlock(await result) };
      // Also marks a rejection handled; mergeHead's await rethrows it in file order.
      result.then(
        () => {
          pending.ready = true;
        },
        () => {
          pending.ready = true;
        },
      );
      this.queue.push(pending);
    } else {
      // The result holds no reference to the buffer (strings are decoded copies): reusable now.
      const result: BlockResult = validateBlock(block, firstLine, this.settings, stride);
      if (this.parallel.counts) this.parallel.counts.callerBlocks++;
      this.nextLine += result.lines;
      this.enqueueReady(() => this.builder.addBlock(result));
    }
    await this.settle();
  }

  /** The one buffer that blocks validated on this thread are filled in, reused. */
  private inlineBuffer(): Buffer {
    this.spare ??= Buffer.allocUnsafeSlow(this.parallel.blockBytes);
    return this.spare;
  }

  /** The pool, started once enough bytes and lines have gone by, if workers are wanted and available. */
  private startPool(): BlockPool | undefined {
    if (this.pool) {
      if (this.pool.failure) throw this.pool.failure;
      return this.pool;
    }
    const { thresholdBytes, thresholdLines } = this.parallel;
    if (this.noWorkers || this.dispatched < thresholdBytes || this.nextLine - 1 < thresholdLines) {
      return undefined;
    }
    this.pool = new BlockPool({
      size: this.parallel.workers,
      depth: WORKER_DEPTH,
      resourceLimits: {
        maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
        maxOldGenerationSizeMb: workerOldGenerationMb(this.settings.maxLineBytes),
      },
      settings: {
        model: this.model,
        maxLineBytes: this.settings.maxLineBytes,
        maxErrors: this.settings.maxErrors,
      },
    });
    return this.pool;
  }

  private enqueueReady(merge: () => Promise<void>): void {
    this.queue.push({ ready: true, merge });
  }

  /** Merges every finished entry at the head, then waits while too many are in flight. */
  private async settle(): Promise<void> {
    while (this.queue[0]?.ready) await this.mergeHead();
    while (this.queue.length >= this.maxQueued) await this.mergeHead();
  }

  private async mergeHead(): Promise<void> {
    const head = this.queue.shift();
    if (head) await head.merge();
  }
}

/**
 * Validates a JSONL supervised-tuning dataset streamed from `source` (a Node Readable, e.g. a
 * Cloud Storage read stream, or any async iterable of bytes) in constant memory, on worker
 * threads for a large input. Passes through I/O errors of the source and failures of a worker;
 * every problem with the data (and with the model: retired, unknown) is in the report.
 */
export async function validateDataset(
  source: ByteSource,
  options: ValidateOptions,
): Promise<ValidationReport> {
  const resolved: DatasetModel =
    typeof options.model === 'string'
      ? resolveDatasetModel(options.model, options.catalog ?? builtinCatalog(), options.today ?? todayUtc())
      : { model: options.model, errors: [], warnings: [], unknown: options.unknownModel ?? false };
  const model = resolved.model;
  const role = options.role ?? 'training';
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  const builder = new ReportBuilder(model, role, {
    maxErrors,
    maxLineBytes,
    tokenSample: options.tokenSample ?? 0,
    counting: options.loadCounter ? async () => inThreadCounting(options.loadCounter!) : sharedTokenCounting,
    strict: options.strict ?? false,
    modelIssues: resolved,
    guessedLimits: resolved.unknown,
  });
  const thresholdBytes = options.parallel?.thresholdBytes ?? DEFAULT_PARALLEL_THRESHOLD_BYTES;
  const scheduler = new BlockScheduler(builder, { model, maxLineBytes, maxErrors }, model, {
    workers: options.parallel?.workers ?? defaultWorkers(),
    thresholdBytes: (options.sizeBytes ?? 0) >= thresholdBytes ? 0 : thresholdBytes,
    thresholdLines: options.parallel?.thresholdLines ?? DEFAULT_PARALLEL_THRESHOLD_LINES,
    blockBytes: Math.max(1, options.parallel?.blockBytes ?? DEFAULT_BLOCK_BYTES),
    callerValidates: options.parallel?.callerValidates ?? true,
    ...(options.parallel?.counts ? { counts: options.parallel.counts } : {}),
  });
  let bytes = 0;
  const onBytes = (total: number) => {
    bytes = total;
    options.onProgress?.(total);
  };
  try {
    for await (const segment of splitLines(source, { maxLineBytes, onBytes })) await scheduler.push(segment);
    await scheduler.end();
  } finally {
    await scheduler.close();
  }
  const result = await builder.finish(bytes);
  const factsAsOf = (options.catalog ?? builtinCatalog()).factsAsOf;
  const cost =
    role === 'training' ? estimateCost(model, result.stats.estimate.tokens, options.epochs, factsAsOf) : null;
  return {
    ...result,
    ...(options.fileName === undefined ? {} : { file: options.fileName }),
    model: model.id,
    role,
    stats: { ...result.stats, estimate: { ...result.stats.estimate, cost } },
  };
}
