/**
 * The tokenizer's worker thread: loads the Gemma 3 tokenizer once (about 300 MB and a few seconds)
 * and counts the texts the calling thread sends, in chunks, stopping past the limit asked for.
 * Started by tokenizer-thread.ts, from this file bundled in memory when running the TypeScript, or
 * from dist/functions/tokenizer-worker.js in the bundle.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { countTextsUpTo } from './token-counting.ts';
import type { FromTokenizer, ToTokenizer } from './tokenizer-messages.ts';
import { loadTokenCounter } from './tokens.ts';

const port = parentPort;
if (!port) throw new Error('tokenizer-worker runs as a worker thread, started by tokenizer-thread.ts');
const counter = loadTokenCounter((workerData as { resolveFrom?: string } | undefined)?.resolveFrom);

port.on('message', async (request: ToTokenizer) => {
  let reply: FromTokenizer;
  try {
    reply = { id: request.id, count: countTextsUpTo(await counter, request.texts, request.limit) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
