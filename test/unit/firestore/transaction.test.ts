import type { Firestore, Transaction } from '@google-cloud/firestore';
import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../shared/errors/index.ts';
import {
  FirestoreContentionError,
  isContention,
  retryDelayMs,
  runTransaction,
} from '../../../shared/firestore/index.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';

const aborted = () => Object.assign(new Error('10 ABORTED: Transaction lock timeout.'), { code: 10 });

/**
 * A Firestore whose runTransaction behaves as the client's does: up to `maxAttempts` attempts,
 * retrying only retryable codes (ABORTED here). The first `failures` commits fail with `error()`.
 * `calls` records each runTransaction call's maxAttempts (a new client transaction per call).
 */
function fakeFirestore(failures: number, error: () => Error = aborted) {
  const calls: number[] = [];
  let commits = 0;
  const firestore = {
    async runTransaction<T>(update: (tx: Transaction) => Promise<T>, options: { maxAttempts: number }) {
      calls.push(options.maxAttempts);
      for (let attempt = 1; ; attempt++) {
        const result = await update({} as Transaction);
        commits++;
        if (commits > failures) return result;
        const failure = error();
        if ((failure as { code?: number }).code !== 10 || attempt >= options.maxAttempts) throw failure;
      }
    },
  } as unknown as Firestore;
  return { firestore, calls };
}

const noSleep = { sleep: async () => {}, random: () => 0.5 };

describe('Firestore transactions', () => {
  it('retries an ABORTED transaction within its attempts and logs one line once it commits', async () => {
    const { firestore, calls } = fakeFirestore(3);
    const logger = createMemoryLogger();
    const result = await runTransaction(firestore, async () => 'done', {
      label: 'jobs/j1',
      logger,
      ...noSleep,
    });
    expect(result).toBe('done');
    // One client transaction, which retried within the budget.
    expect(calls).toEqual([8]);
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]).toMatchObject({
      severity: 'INFO',
      message: 'firestore transaction was contended; committed after a retry',
      transaction: 'jobs/j1',
      attempts: 4,
    });
  });

  it('gives up after its attempts with a transient error whose log entry has no stack', async () => {
    const { firestore, calls } = fakeFirestore(100);
    const logger = createMemoryLogger();
    const failure = await runTransaction(firestore, async () => 'never', {
      label: 'tunedrop-locks/x',
      maxAttempts: 4,
      logger,
      ...noSleep,
    }).catch((error: unknown) => error);
    expect(calls).toEqual([4]);
    expect(failure).toBeInstanceOf(FirestoreContentionError);
    expect(failure).toBeInstanceOf(TransientError);
    expect((failure as Error).message).toBe(
      'Firestore transaction on tunedrop-locks/x gave up after 4 attempt(s): 10 ABORTED: Transaction lock timeout.',
    );
    logger.error('poll run failed', { error: failure });
    const logged = logger.entries.at(-1)?.error as Record<string, unknown>;
    expect(logged.message).toContain('gave up after 4 attempt(s)');
    expect(logged).not.toHaveProperty('stack');
    expect(logger.entries.filter((entry) => entry.severity === 'WARNING')).toHaveLength(1);
  });

  it('does not retry an error that is not contention', async () => {
    let attempts = 0;
    const { firestore } = fakeFirestore(1, () => {
      attempts++;
      return Object.assign(new Error('7 PERMISSION_DENIED: nope'), { code: 7 });
    });
    await expect(runTransaction(firestore, async () => 1, { label: 'a/b', ...noSleep })).rejects.toThrow(
      'PERMISSION_DENIED',
    );
    expect(attempts).toBe(1);
  });

  it('does not retry an exception of the update function', async () => {
    const { firestore, calls } = fakeFirestore(0);
    await expect(
      runTransaction(
        firestore,
        async () => {
          throw new Error('record does not match its schema');
        },
        { label: 'a/b', ...noSleep },
      ),
    ).rejects.toThrow('record does not match its schema');
    expect(calls).toEqual([8]);
  });

  it('retries an attempt still running at its deadline as a new client transaction, then gives up', async () => {
    const calls: number[] = [];
    const slept: number[] = [];
    const firestore = {
      // The client stops at an error without a retryable code, as the deadline's is.
      runTransaction: <T>(update: (tx: Transaction) => Promise<T>, options: { maxAttempts: number }) => {
        calls.push(options.maxAttempts);
        return update({} as Transaction);
      },
    } as unknown as Firestore;
    const never = new Promise<string>(() => {});
    const failure = await runTransaction(firestore, () => never, {
      label: 'a/b',
      maxAttempts: 2,
      attemptTimeoutMs: 20,
      random: () => 1,
      sleep: async (ms) => {
        slept.push(ms);
      },
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(FirestoreContentionError);
    expect((failure as Error).message).toContain('still open after 20 ms');
    expect((failure as Error).message).toContain('gave up after 2 attempt(s)');
    // Two client transactions (never the abandoned one again), the second with what was left.
    expect(calls).toEqual([2, 1]);
    expect(slept).toEqual([100]);
  });

  it('counts lock timeouts, expired transactions and unavailability as contention, not bad requests', () => {
    expect(isContention(aborted())).toBe(true);
    expect(isContention(Object.assign(new Error('conflict'), { code: 409 }))).toBe(true);
    expect(isContention(Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }))).toBe(true);
    expect(
      isContention(
        Object.assign(new Error('3 INVALID_ARGUMENT: Transaction is invalid or closed.'), { code: 3 }),
      ),
    ).toBe(true);
    expect(isContention(Object.assign(new Error('3 INVALID_ARGUMENT: bad field'), { code: 3 }))).toBe(false);
    expect(isContention(new Error('plain'))).toBe(false);
  });

  it('keeps every retry delay within its growing, capped ceiling', () => {
    const settings = { baseDelayMs: 100, maxDelayMs: 3000 };
    expect(retryDelayMs(1, settings, () => 1)).toBe(100);
    expect(retryDelayMs(3, settings, () => 1)).toBe(400);
    expect(retryDelayMs(10, settings, () => 1)).toBe(3000);
    expect(retryDelayMs(10, settings, () => 0)).toBe(0);
  });
});
