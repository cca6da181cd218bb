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
 * A Firestore whose runTransaction fails the first `failures` attempts with `error()`, and records
 * the options each attempt was made with (the helper must make exactly one client attempt each).
 */
function fakeFirestore(failures: number, error: () => Error = aborted) {
  const attempts: { maxAttempts?: number }[] = [];
  const firestore = {
    async runTransaction<T>(update: (tx: Transaction) => Promise<T>, options: { maxAttempts?: number }) {
      attempts.push(options);
      const result = await update({} as Transaction);
      if (attempts.length <= failures) throw error();
      return result;
    },
  } as unknown as Firestore;
  return { firestore, attempts };
}

const noSleep = { sleep: async () => {}, random: () => 0.5 };

describe('Firestore transactions', () => {
  it('retries an ABORTED transaction as a new single client attempt and logs one line once it commits', async () => {
    const { firestore, attempts } = fakeFirestore(3);
    const logger = createMemoryLogger();
    const slept: number[] = [];
    const result = await runTransaction(firestore, async () => 'done', {
      label: 'jobs/j1',
      logger,
      random: () => 0.5,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    expect(result).toBe('done');
    expect(attempts).toEqual([
      { maxAttempts: 1 },
      { maxAttempts: 1 },
      { maxAttempts: 1 },
      { maxAttempts: 1 },
    ]);
    // Jittered (half of the ceiling with random 0.5) and growing: 100, 200, 400 ms ceilings.
    expect(slept).toEqual([50, 100, 200]);
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]).toMatchObject({
      severity: 'INFO',
      transaction: 'jobs/j1',
      attempts: 4,
      lastError: '10 ABORTED: Transaction lock timeout.',
    });
  });

  it('gives up after its attempts with a transient error whose log entry has no stack', async () => {
    const { firestore, attempts } = fakeFirestore(100);
    const logger = createMemoryLogger();
    const failure = await runTransaction(firestore, async () => 'never', {
      label: 'tunedrop-locks/x',
      maxAttempts: 4,
      logger,
      ...noSleep,
    }).catch((error: unknown) => error);
    expect(attempts).toHaveLength(4);
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
    const { firestore, attempts } = fakeFirestore(1, () =>
      Object.assign(new Error('7 PERMISSION_DENIED: nope'), { code: 7 }),
    );
    await expect(runTransaction(firestore, async () => 1, { label: 'a/b', ...noSleep })).rejects.toThrow(
      'PERMISSION_DENIED',
    );
    expect(attempts).toHaveLength(1);
  });

  it('does not retry an exception of the update function', async () => {
    const { firestore, attempts } = fakeFirestore(0);
    await expect(
      runTransaction(
        firestore,
        async () => {
          throw new Error('record does not match its schema');
        },
        { label: 'a/b', ...noSleep },
      ),
    ).rejects.toThrow('record does not match its schema');
    expect(attempts).toHaveLength(1);
  });

  it('fails an attempt whose update function is still running at its deadline', async () => {
    let attemptsStarted = 0;
    const firestore = {
      runTransaction: <T>(update: (tx: Transaction) => Promise<T>) => {
        attemptsStarted++;
        return update({} as Transaction);
      },
    } as unknown as Firestore;
    const never = new Promise<string>(() => {});
    const failure = await runTransaction(firestore, () => never, {
      label: 'a/b',
      maxAttempts: 2,
      attemptTimeoutMs: 20,
      ...noSleep,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(FirestoreContentionError);
    expect((failure as Error).message).toContain('still open after 20 ms');
    expect(attemptsStarted).toBe(2);
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
