import type { BlockResult } from './block-validator.ts';
import type { ModelSpec } from './models.ts';

/** What a dataset worker is started with (workerData). */
export interface WorkerSettings {
  /** The whole spec, not its id: a caller may validate against limits of its own. */
  model: ModelSpec;
  maxLineBytes: number;
  maxErrors: number;
}

/** One block to validate: the first `length` bytes of `bytes`, which is transferred, not copied,
 * and transferred back with the result for reuse. */
export interface ToWorker {
  id: number;
  bytes: ArrayBuffer;
  length: number;
  firstLine: number;
  sampleStride: number;
}

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'result'; id: number; result: BlockResult; bytes: ArrayBuffer }
  | { kind: 'failed'; id: number; message: string; stack?: string };
