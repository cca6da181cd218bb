/**
 * Contention on the real Firestore emulator, which locks pessimistically: a second writer waits
 * about two seconds for a lock and then fails with `ABORTED: Transaction lock timeout`, and a
 * transaction left open holds its locks for a minute. These are the conditions that made the
 * local stack's start-up fail at random (issue 11); each test fails against the old code.
 */
import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFirestoreLease } from '../../functions/poll-jobs/lease.ts';
import { runTransaction } from '../../shared/firestore/index.ts';
import { createFirestore } from '../../shared/jobs/index.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';
import { uniqueName } from '../support/names.ts';

let firestore: Firestore;

beforeAll(() => {
  firestore = createFirestore({ project: process.env.GOOGLE_CLOUD_PROJECT ?? 'tunedrop-test' });
});
afterAll(async () => {
  await firestore.terminate();
});

const increment = (ref: FirebaseFirestore.DocumentReference) => async (tx: FirebaseFirestore.Transaction) => {
  const snapshot = await tx.get(ref);
  tx.set(ref, { count: ((snapshot.data()?.count as number | undefined) ?? 0) + 1 });
};

describe('Firestore contention on the emulator', () => {
  it('gives the poll lease to exactly one of many overlapping runs, and to the next once released', async () => {
    const collection = uniqueName('locks');
    const clock = () => new Date();
    const lease = () =>
      createFirestoreLease({ firestore, collection, name: 'poll-jobs', ttlMs: 300_000, clock });
    const runs = Array.from({ length: 12 }, lease);
    const taken = await Promise.all(runs.map((run) => run.acquire()));
    expect(taken.filter(Boolean)).toHaveLength(1);

    // Losers releasing must not free the holder's lease.
    await Promise.all(runs.filter((_, index) => !taken[index]).map((run) => run.release()));
    expect(await lease().acquire()).toBe(false);

    await runs[taken.indexOf(true)]?.release();
    const next = lease();
    expect(await next.acquire()).toBe(true);
    await next.release();
  });

  it('lets a run take over an expired lease, and keeps the late holder from deleting the new one', async () => {
    const collection = uniqueName('locks');
    let now = Date.now();
    const clock = () => new Date(now);
    const crashed = createFirestoreLease({ firestore, collection, name: 'poll-jobs', ttlMs: 60_000, clock });
    expect(await crashed.acquire()).toBe(true);
    now += 61_000;
    const next = createFirestoreLease({ firestore, collection, name: 'poll-jobs', ttlMs: 60_000, clock });
    expect(await next.acquire()).toBe(true);
    // The first holder wakes up and releases: the precondition keeps the new holder's lease.
    await crashed.release();
    const third = createFirestoreLease({ firestore, collection, name: 'poll-jobs', ttlMs: 60_000, clock });
    expect(await third.acquire()).toBe(false);
  });

  it('commits every one of many concurrent read-modify-writes of one document', async () => {
    const ref = firestore.collection(uniqueName('counters')).doc('hot');
    const logger = createMemoryLogger();
    const writers = 8;
    await Promise.all(
      Array.from({ length: writers }, () =>
        runTransaction(firestore, increment(ref), { label: 'counters/hot', logger }),
      ),
    );
    expect((await ref.get()).data()?.count).toBe(writers);
    // Contention was met (the emulator aborts all but one of simultaneous writers) and logged as
    // single lines without a stack.
    expect(logger.entries.length).toBeGreaterThan(0);
    for (const entry of logger.entries) {
      expect(entry.message).toBe('firestore transaction was contended; committed after a retry');
      expect(JSON.stringify(entry)).not.toContain('    at ');
    }
  });

  it('rolls back an attempt that hangs between its read and its write, so the next writer is not blocked', async () => {
    const ref = firestore.collection(uniqueName('counters')).doc('stuck');
    await ref.set({ count: 0 });
    let unblock: () => void = () => {};
    const hanging = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    try {
      const stuck = await runTransaction(
        firestore,
        async (tx) => {
          await tx.get(ref);
          await hanging;
          tx.set(ref, { count: -1 });
        },
        { label: 'counters/stuck', maxAttempts: 1, attemptTimeoutMs: 1_000 },
      ).catch((error: unknown) => error);
      expect((stuck as Error).message).toContain('still open after 1000 ms');

      // One attempt, no retry: had the hung transaction kept its lock, this commit would wait for
      // it and fail with "Transaction lock timeout" (the emulator keeps an open one for a minute).
      await runTransaction(firestore, increment(ref), { label: 'counters/stuck', maxAttempts: 1 });
      expect((await ref.get()).data()?.count).toBe(1);
    } finally {
      unblock();
    }
    // The abandoned attempt never commits its write, even once its function goes on.
    await new Promise((resolve) => setImmediate(resolve));
    expect((await ref.get()).data()?.count).toBe(1);
  });
});
