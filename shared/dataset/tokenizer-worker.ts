/**
 * The tokenizer's worker thread: loads the Gemma 3 tokenizer once (about 100 MB and a second or
 * two, see gemma-tokenizer.ts) and counts the batches of pieces the calling thread sends, each up
 * to the limit it names. It is sent pieces of about a kilobyte, never a whole text, so what it
 * holds does not grow with the example. Started by tokenizer-thread.ts, from this file bundled in
 * memory when running the TypeScript, or from dist/functions/tokenizer-worker.js in the bundle.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { countPieces } from './token-counting.ts';
import type { FromTokenizer, ToTokenizer } from './tokenizer-messages.ts';
import { loadTokenCounter } from './tokens.ts';

const port = parentPort;
if (!port) throw new Error('tokenizer-worker runs as a worker thread, started by tokenizer-thread.ts');
const counter = loadTokenCounter((workerData as { resolveFrom?: string } | undefined)?.resolveFrom);

port.on('message', async (request: ToTokenizer) => {
  let reply: FromTokenizer;
  try {
    reply = { id: request.id, tokens: countPieces(await counter, request.pieces, request.limit) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
