/**
 * The worker thread of the parallel validator: validates the blocks the calling thread sends and
 * returns each block's partial result. Started by BlockPool (worker-pool.ts), from this file
 * through tsx when running the TypeScript, or from dist/functions/dataset-worker.js in the
 * bundle. It holds no state between blocks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { validateBlock } from './block-validator.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './worker-messages.ts';

const port = parentPort;
if (!port) throw new Error('dataset-worker runs as a worker thread, started by BlockPool');
const data = workerData as WorkerSettings;
const settings = {
  model: data.model,
  maxLineBytes: data.maxLineBytes,
  maxErrors: data.maxErrors,
};
const send = (message: FromWorker) => port.postMessage(message);

port.on('message', (job: ToWorker) => {
  try {
    const block = Buffer.from(job.bytes, 0, job.length);
    const result = validateBlock(block, job.firstLine, settings, job.sampleStride);
    const reply: FromWorker = { kind: 'result', id: job.id, result, bytes: job.bytes };
    port.postMessage(reply, [job.bytes]);
  } catch (error) {
    const { message, stack } = error instanceof Error ? error : new Error(String(error));
    send({ kind: 'failed', id: job.id, message, ...(stack === undefined ? {} : { stack }) });
  }
});
send({ kind: 'ready' });
