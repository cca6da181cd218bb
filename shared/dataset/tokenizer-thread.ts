/**
 * The tokenizer on a worker thread of its own, shared by every validation in the process: loading
 * it costs a second or two and about 100 MB, so it is loaded once, and counting long examples
 * there keeps the calling thread (a function's event loop, the block scheduler) free. Texts are
 * sent as batches of pieces (countingPlan), so a long example is never copied whole into that
 * thread. The worker is unref'd while it has nothing to count, so it never keeps a process alive;
 * a worker that fails rejects what it held, and the next count starts a new one. Where no worker
 * can be started, counting falls back to this thread.
 */
import { type ResourceLimits, Worker } from 'node:worker_threads';
import {
  countingPlan,
  inThreadCounting,
  type PieceBatch,
  type TokenCount,
  type TokenCounting,
} from './token-counting.ts';
import type { FromTokenizer, ToTokenizer } from './tokenizer-messages.ts';
import { loadTokenCounter } from './tokens.ts';
import { type WorkerEntry, workerEntry } from './worker-pool.ts';

interface Request {
  resolve: (tokens: number) => void;
  reject: (error: Error) => void;
}

/**
 * Bounds on the tokenizer thread's heap, so that a runaway (a library bug, a pathological text)
 * ends that thread with an error, which fails the validation, instead of taking the machine's
 * memory. Measured: the tokenizer keeps ~35 MB of heap once loaded and peaks near 100 MB while
 * loading (the library's own loader, the fallback in gemma-tokenizer.ts, near 250 MB); its BPE
 * cache holds at most 10,000 short words; the pieces it is sent are ~32 KB. A small young
 * generation: counting's garbage dies within a piece.
 */
export const TOKENIZER_RESOURCE_LIMITS: ResourceLimits = {
  maxOldGenerationSizeMb: 512,
  maxYoungGenerationSizeMb: 8,
};

class TokenizerThread implements TokenCounting {
  private worker: Worker | undefined;
  private readonly requests = new Map<number, Request>();
  private nextId = 0;

  constructor(private readonly entry: WorkerEntry) {}

  /** Sends the plan's batches one at a time: the thread holds one batch, never the texts. */
  async countUpTo(texts: readonly string[], limit: number): Promise<TokenCount> {
    const plan = countingPlan(texts, limit);
    let step = plan.next();
    while (!step.done) step = plan.next(await this.count(step.value));
    return step.value;
  }

  private count(batch: PieceBatch): Promise<number> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      if (this.requests.size === 0) worker.ref();
      this.requests.set(id, { resolve, reject });
      const message: ToTokenizer = { id, pieces: batch.pieces, limit: batch.limit };
      worker.postMessage(message);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.entry.filename, {
      workerData: { resolveFrom: import.meta.url },
      resourceLimits: TOKENIZER_RESOURCE_LIMITS,
      ...(this.entry.execArgv ? { execArgv: this.entry.execArgv } : {}),
    });
    worker.unref();
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const request of this.requests.values()) request.reject(error);
      this.requests.clear();
    };
    worker.on('message', (reply: FromTokenizer) => {
      const request = this.requests.get(reply.id);
      if (!request) return;
      this.requests.delete(reply.id);
      if (this.requests.size === 0) worker.unref();
      if ('error' in reply) request.reject(new Error(`tokenizer worker: ${reply.error}`));
      else request.resolve(reply.tokens);
    });
    worker.on('error', fail);
    worker.on('messageerror', fail);
    worker.on('exit', (code) => fail(new Error(`tokenizer worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

let shared: Promise<TokenCounting> | undefined;

/** The process's tokenizer thread, or counting on this thread where no worker can be started. */
export function sharedTokenCounting(): Promise<TokenCounting> {
  shared ??= workerEntry('tokenizer-worker').then((entry) =>
    entry ? new TokenizerThread(entry) : inThreadCounting(() => loadTokenCounter()),
  );
  return shared;
}
