import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeHeaderValue, startBucketWatcher } from '../../../local/bucket-watcher.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';

interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  data: { name: string; size: string; generation: string; metageneration: string; bucket: string };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let root: string;
let server: Server;
let deliveries: Delivery[];
/** Status codes the target answers with, in order; 204 once they run out. */
let answers: number[];
let watcher: { close(): void };
let waiters: (() => void)[];

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'tunedrop-watcher-'));
  mkdirSync(join(root, 'incoming'));
  deliveries = [];
  answers = [];
  waiters = [];
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, data: JSON.parse(Buffer.concat(chunks).toString()) });
      response.writeHead(answers.shift() ?? 204).end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  watcher = startWatcher();
});

/** The watcher under test, posting to the test's server; `quietMs` as the watcher's option. */
function startWatcher(quietMs?: number) {
  const { port } = server.address() as AddressInfo;
  return startBucketWatcher({
    root,
    bucket: 'B',
    target: `http://127.0.0.1:${port}/`,
    logger: createMemoryLogger(),
    ...(quietMs === undefined ? {} : { quietMs }),
  });
}

afterEach(async () => {
  watcher.close();
  await new Promise((closed) => server.close(closed));
  rmSync(root, { recursive: true, force: true });
});

/** Resolves once a delivery for `name` has arrived (deliveries before it included). */
async function deliveryFor(name: string): Promise<Delivery> {
  for (;;) {
    const found = deliveries.find((delivery) => delivery.data.name === name);
    if (found) return found;
    await new Promise<void>((wake) => waiters.push(wake));
  }
}

/**
 * A barrier instead of a sleep: two sentinel files written one after the other, each delivered
 * only after its own quiet periods, so every file written before them has had several quiet
 * periods to produce whatever event it would.
 */
async function settleAll(): Promise<void> {
  for (const round of [1, 2]) {
    const name = `incoming/sentinel-${round}-${deliveries.length}.jsonl`;
    writeFileSync(join(root, name), '{}\n');
    await deliveryFor(name);
  }
}

const deliveriesOf = (name: string) => deliveries.filter((delivery) => delivery.data.name === name);

describe('bucket folder watcher', () => {
  it('posts one event, with the final size, for a file written in chunks with short pauses', async () => {
    // A quiet period far longer than the pauses between chunks: a busy machine may stretch a
    // 100 ms pause a lot, and the test is about the pauses being shorter than the quiet period.
    watcher.close();
    watcher = startWatcher(5_000);
    const path = join(root, 'incoming/chunked.jsonl');
    writeFileSync(path, '{"a":1}\n');
    for (let chunk = 0; chunk < 4; chunk++) {
      await pause(100);
      appendFileSync(path, '{"a":2}\n');
    }
    const delivery = await deliveryFor('incoming/chunked.jsonl');
    await settleAll();
    expect(deliveriesOf('incoming/chunked.jsonl')).toHaveLength(1);
    expect(delivery.data.size).toBe(String(statSync(path).size));
    expect(delivery.data.size).toBe(String('{"a":1}\n'.length * 5));
  });

  it('posts one event for a file written under a temporary name and renamed into place', async () => {
    const staging = join(root, 'incoming/.upload.jsonl.tmp');
    writeFileSync(staging, '{"a":1}\n');
    renameSync(staging, join(root, 'incoming/renamed.jsonl'));
    await deliveryFor('incoming/renamed.jsonl');
    await settleAll();
    expect(deliveriesOf('incoming/renamed.jsonl')).toHaveLength(1);
    expect(deliveries.filter((delivery) => delivery.data.name.includes('.upload'))).toEqual([]);
  });

  it('posts nothing for hidden and temporary names', async () => {
    for (const name of ['.hidden.jsonl', 'data.jsonl.tmp', 'data.jsonl.part', 'data.jsonl~', 'x.swp']) {
      writeFileSync(join(root, 'incoming', name), '{}\n');
    }
    await settleAll();
    expect(deliveries.filter((delivery) => !delivery.data.name.startsWith('incoming/sentinel-'))).toEqual([]);
  });

  it('posts a second event with a new generation when a file is rewritten', async () => {
    const path = join(root, 'incoming/rewritten.jsonl');
    writeFileSync(path, '{"v":1}\n');
    const first = await deliveryFor('incoming/rewritten.jsonl');
    writeFileSync(path, '{"v":2}\n{"v":2}\n');
    while (deliveriesOf('incoming/rewritten.jsonl').length < 2) {
      await new Promise<void>((wake) => waiters.push(wake));
    }
    await settleAll();
    const both = deliveriesOf('incoming/rewritten.jsonl');
    expect(both).toHaveLength(2);
    expect(both[1]?.data.generation).not.toBe(first.data.generation);
    expect(BigInt(both[1]?.data.generation ?? 0)).toBeGreaterThan(BigInt(first.data.generation));
  });

  it('sends the CloudEvent headers and object data Eventarc sends for a finalized object', async () => {
    const path = join(root, 'incoming/shape.jsonl');
    writeFileSync(path, '{"a":1}\n');
    const delivery = await deliveryFor('incoming/shape.jsonl');
    const mtimeNs = statSync(path, { bigint: true }).mtimeNs;
    expect(delivery.headers).toMatchObject({
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.storage.object.v1.finalized',
      'ce-source': '//storage.googleapis.com/projects/_/buckets/B',
      'ce-subject': 'objects/incoming/shape.jsonl',
      'content-type': 'application/json',
    });
    expect(delivery.headers['ce-id']).toEqual(expect.any(String));
    expect(delivery.data).toMatchObject({
      kind: 'storage#object',
      name: 'incoming/shape.jsonl',
      bucket: 'B',
      generation: (mtimeNs / 1000n).toString(),
      metageneration: '1',
      size: '8',
    });
  });

  it('retries an event the target answers with 500, with the same event id', async () => {
    answers = [500];
    writeFileSync(join(root, 'incoming/retried.jsonl'), '{}\n');
    await deliveryFor('incoming/retried.jsonl');
    while (deliveriesOf('incoming/retried.jsonl').length < 2) {
      await new Promise<void>((wake) => waiters.push(wake));
    }
    const [first, second] = deliveriesOf('incoming/retried.jsonl');
    expect(second?.headers['ce-id']).toBe(first?.headers['ce-id']);
    expect(second?.data.generation).toBe(first?.data.generation);
  }, 20_000);

  it('delivers objects named in any script, with spaces, #, ? and %, under their exact names', async () => {
    const names = ['incoming/données-日本語.jsonl', 'incoming/my data #2?v=1 100%.jsonl'];
    for (const name of names) writeFileSync(join(root, name), '{}\n');
    for (const name of names) {
      const delivery = await deliveryFor(name);
      expect(delivery.data.name).toBe(name);
      // The subject header carries the name percent-encoded (CloudEvents HTTP binding), losslessly.
      expect(decodeURIComponent(String(delivery.headers['ce-subject']))).toBe(`objects/${name}`);
    }
  }, 20_000);
});

describe('CloudEvent header values', () => {
  it('percent-encode space, quote, percent and non-ASCII as UTF-8 and keep printable ASCII', () => {
    expect(encodeHeaderValue('objects/a b"c%d#e?f.jsonl')).toBe('objects/a%20b%22c%25d#e?f.jsonl');
    expect(encodeHeaderValue('é日')).toBe('%C3%A9%E6%97%A5');
    expect(decodeURIComponent(encodeHeaderValue('objects/données-日本語 #1?%.jsonl'))).toBe(
      'objects/données-日本語 #1?%.jsonl',
    );
  });
});
