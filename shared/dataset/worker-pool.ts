import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { BlockResult } from './block-validator.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './worker-messages.ts';

export interface WorkerEntry {
  filename: URL;
  execArgv?: string[];
}

/** The validator's worker threads: block validation, and the tokenizer. */
export type WorkerName = 'dataset-worker' | 'tokenizer-worker';

const entries = new Map<WorkerName, Promise<WorkerEntry | undefined>>();

/**
 * Where a worker's code is, or undefined when there is none (the validator then stays on the
 * calling thread, with the same report):
 * - bundled (dist/functions/index.js): `<name>.js` beside the bundle, built from `<name>.ts` as
 *   another entry point by scripts/build.mjs.
 * - running the TypeScript (tsx, vitest): `<name>.ts` bundled in memory, see below.
 */
export function workerEntry(name: WorkerName): Promise<WorkerEntry | undefined> {
  let entry = entries.get(name);
  if (!entry) {
    entry = findEntry(name);
    entries.set(name, entry);
  }
  return entry;
}

export function datasetWorkerEntry(): Promise<WorkerEntry | undefined> {
  return workerEntry('dataset-worker');
}

async function findEntry(name: WorkerName): Promise<WorkerEntry | undefined> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    const bundled = new URL(`./${name}.js`, here);
    return existsSync(bundled) ? { filename: bundled } : undefined;
  }
  const code = await bundleWorkerSource(fileURLToPath(new URL(`./${name}.ts`, here)));
  return code === undefined
    ? undefined
    : { filename: new URL(`data:text/javascript,${encodeURIComponent(code)}`), execArgv: [] };
}

/**
 * The worker's TypeScript bundled into one self-contained ES module with esbuild (which tsx, our
 * TypeScript runner, is built on, so it is installed wherever TypeScript runs), once, in ~30 ms.
 * Without esbuild there is no worker, and the validator stays on the calling thread.
 * A worker thread inherits no loader registered with tsx's API (as bin/tunedrop.js does), and
 * registering tsx again inside each worker costs ~20 MB more than this.
 */
async function bundleWorkerSource(entryPoint: string): Promise<string | undefined> {
  try {
    // Loaded by path at run time, never imported: the Cloud Functions bundle has no esbuild.
    const load = createRequire(import.meta.url);
    const esbuild = load('esbuild') as typeof import('esbuild');
    // Asynchronous: the calling thread goes on validating while esbuild works in its own process.
    const result = await esbuild.build({
      entryPoints: [entryPoint],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]?.text;
  } catch {
    return undefined;
  }
}

interface Job {
  resolve: (result: BlockResult) => void;
  reject: (error: Error) => void;
}

/** One worker thread and the blocks it holds. */
export interface PoolWorker {
  readonly worker: Worker;
  ready: boolean;
  dead: boolean;
  readonly jobs: Map<number, Job>;
}

export interface PoolOptions {
  size: number;
  settings: WorkerSettings;
  /** Blocks one worker holds at most (one being validated, the rest queued). */
  depth: number;
  resourceLimits?: ResourceLimits;
}

/**
 * A few worker threads that validate blocks. A failure (an exception in a worker, a worker that
 * exits) rejects the blocks it held and is kept in `failure`, so the caller never waits forever.
 * Workers are unref'd while they hold no block, so an idle pool never keeps the process alive,
 * and `close` terminates them.
 */
export class BlockPool {
  private readonly workers: PoolWorker[] = [];
  private readonly spare: ArrayBuffer[] = [];
  private nextId = 0;
  private closed = false;
  failure: Error | undefined;
  /** No worker can be started here (no worker code found): the caller validates everything. */
  unavailable = false;
  private settleStarted: () => void = () => {};
  /** Settles once a worker is ready, or the pool has failed or is unavailable. */
  readonly started = new Promise<void>((resolve) => {
    this.settleStarted = resolve;
  });

  /** Workers start in the background; until one is ready, `available` finds none. */
  constructor(private readonly options: PoolOptions) {
    datasetWorkerEntry().then(
      (entry) => {
        if (!entry || this.closed) {
          this.unavailable = true;
          this.settleStarted();
          return;
        }
        try {
          for (let i = 0; i < options.size; i++) this.workers.push(this.spawn(entry));
        } catch (error) {
          this.failure ??= error instanceof Error ? error : new Error(String(error));
          this.settleStarted();
        }
      },
      (error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
        this.settleStarted();
      },
    );
  }

  private spawn(entry: WorkerEntry): PoolWorker {
    const { settings, resourceLimits } = this.options;
    const worker = new Worker(entry.filename, {
      workerData: settings,
      ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    worker.unref();
    const slot: PoolWorker = { worker, ready: false, dead: false, jobs: new Map() };
    const fail = (error: Error) => {
      slot.dead = true;
      if (this.closed) return;
      this.failure ??= error;
      this.settleStarted();
      for (const job of slot.jobs.values()) job.reject(error);
      slot.jobs.clear();
    };
    worker.on('message', (message: FromWorker) => {
      if (message.kind === 'ready') {
        slot.ready = true;
        this.settleStarted();
        return;
      }
      const job = slot.jobs.get(message.id);
      if (!job) return;
      slot.jobs.delete(message.id);
      if (slot.jobs.size === 0) worker.unref();
      if (message.kind === 'result') {
        if (this.spare.length < this.options.size * this.options.depth) this.spare.push(message.bytes);
        job.resolve(message.result);
      } else
        job.reject(Object.assign(new Error(`dataset worker: ${message.message}`), { stack: message.stack }));
    });
    worker.on('error', (error) => fail(error));
    worker.on('messageerror', (error) => fail(error));
    worker.on('exit', (code) => fail(new Error(`dataset worker exited with code ${code}`)));
    return slot;
  }

  /** Whether a worker is ready and alive (possibly with no room for another block). */
  running(): boolean {
    return this.workers.some((slot) => slot.ready && !slot.dead);
  }

  /** The least busy ready worker with room for another block, if any. */
  available(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const slot of this.workers) {
      if (!slot.ready || slot.dead || slot.jobs.size >= this.options.depth) continue;
      if (!best || slot.jobs.size < best.jobs.size) best = slot;
    }
    return best;
  }

  /**
   * A buffer of `size` bytes to fill with a block for `run`. Block buffers go to a worker and
   * come back with its result, so a few are reused for the whole file: no new memory per block,
   * and none left for a worker's garbage collector to find.
   */
  buffer(size: number): Buffer {
    const index = this.spare.findIndex((buffer) => buffer.byteLength >= size);
    const buffer = index === -1 ? new ArrayBuffer(size) : this.spare.splice(index, 1)[0]!;
    return Buffer.from(buffer, 0, size);
  }

  /** Validates `block` (whole lines, from `buffer`) on `slot`. Its memory is transferred to the
   * worker and unusable here afterwards. */
  run(slot: PoolWorker, block: Buffer, firstLine: number, sampleStride: number): Promise<BlockResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (block.byteOffset !== 0) throw new Error('a block must start its buffer (see BlockPool.buffer)');
    const buffer = block.buffer as ArrayBuffer;
    const id = this.nextId++;
    return new Promise<BlockResult>((resolve, reject) => {
      if (slot.jobs.size === 0) slot.worker.ref();
      slot.jobs.set(id, { resolve, reject });
      const message: ToWorker = { id, bytes: buffer, length: block.length, firstLine, sampleStride };
      slot.worker.postMessage(message, [buffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((slot) => slot.worker.terminate()));
  }
}
