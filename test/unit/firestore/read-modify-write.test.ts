import type { DocumentData, DocumentReference, DocumentSnapshot } from '@google-cloud/firestore';
import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../shared/errors/index.ts';
import {
  FirestoreContentionError,
  isRetryableWrite,
  readModifyWrite,
  retryDelayMs,
} from '../../../shared/firestore/index.ts';
import { createMemoryLogger } from '../../../shared/logging/index.ts';

const refused = () =>
  Object.assign(new Error('9 FAILED_PRECONDITION: the stored version differs'), { code: 9 });

/**
 * A document whose first `failures` writes are refused with `error()`, as Firestore refuses a
 * write whose precondition no longer holds; with `landing`, those writes are stored all the same
 * (a write whose answer was lost). `counts` has the reads and the writes tried.
 */
function fakeDocument(failures: number, error: () => Error = refused, options: { landing?: boolean } = {}) {
  const counts = { reads: 0, writes: 0 };
  let stored: DocumentData = { count: 0 };
  /** Takes the field/value pairs of `update(field, value, ..., precondition)`. */
  const update = async (...args: unknown[]) => {
    counts.writes++;
    const next: DocumentData = {};
    for (let i = 0; i + 1 < args.length; i += 2) {
      next[String(args[i])] = args[i + 1];
    }
    const refusedNow = counts.writes <= failures;
    if (!refusedNow || options.landing) stored = next;
    if (refusedNow) throw error();
  };
  const ref = {
    get: async () => {
      counts.reads++;
      const data = stored;
      return {
        exists: true,
        updateTime: { v: counts.reads },
        data: () => data,
        get: (field: string) => data[field],
      } as unknown as DocumentSnapshot;
    },
    update,
  } as unknown as DocumentReference;
  return { ref, counts, stored: () => stored };
}

const increment = (snapshot: DocumentSnapshot) => {
  const count = (snapshot.data()?.count as number) + 1;
  return { write: { count }, result: count };
};
const noSleep = { sleep: async () => {}, random: () => 0.5 };

describe('readModifyWrite', () => {
  it('reads again and decides again after a refused write, and logs one line once it commits', async () => {
    const document = fakeDocument(3);
    const logger = createMemoryLogger();
    const result = await readModifyWrite(document.ref, increment, { label: 'jobs/j1', logger, ...noSleep });
    expect(result).toBe(1);
    expect(document.counts).toEqual({ reads: 4, writes: 4 });
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]).toMatchObject({
      severity: 'INFO',
      message: 'firestore write was contended; committed after a retry',
      document: 'jobs/j1',
      attempts: 4,
      lastError: '9 FAILED_PRECONDITION: the stored version differs',
    });
  });

  it('writes nothing and answers from the read when modify decides there is nothing to do', async () => {
    const document = fakeDocument(0);
    const result = await readModifyWrite(document.ref, () => ({ result: 'unchanged' }), { label: 'a/b' });
    expect(result).toBe('unchanged');
    expect(document.counts).toEqual({ reads: 1, writes: 0 });
  });

  it('gives up after its attempts with a transient error whose log entry has no stack', async () => {
    const document = fakeDocument(100);
    const logger = createMemoryLogger();
    const failure = await readModifyWrite(document.ref, increment, {
      label: 'tunedrop-jobs/x',
      maxAttempts: 4,
      logger,
      ...noSleep,
    }).catch((error: unknown) => error);
    expect(document.counts.writes).toBe(4);
    expect(failure).toBeInstanceOf(FirestoreContentionError);
    expect(failure).toBeInstanceOf(TransientError);
    expect((failure as Error).message).toBe(
      'Firestore write to tunedrop-jobs/x gave up after 4 attempt(s): 9 FAILED_PRECONDITION: the stored version differs',
    );
    logger.error('poll run failed', { error: failure });
    const logged = logger.entries.at(-1)?.error as Record<string, unknown>;
    expect(logged.message).toContain('gave up after 4 attempt(s)');
    expect(logged).not.toHaveProperty('stack');
    expect(logger.entries.filter((entry) => entry.severity === 'WARNING')).toHaveLength(1);
  });

  it('answers from a write that landed though its answer was lost, instead of deciding again', async () => {
    const unavailable = () => Object.assign(new Error('14 UNAVAILABLE: connection reset'), { code: 14 });
    const document = fakeDocument(1, unavailable, { landing: true });
    const logger = createMemoryLogger();
    let decisions = 0;
    const result = await readModifyWrite(
      document.ref,
      (snapshot) => {
        decisions++;
        return increment(snapshot);
      },
      { label: 'jobs/j1', logger, ...noSleep },
    );
    // Deciding again on its own write would have counted twice (2) or seen its own claim as another's.
    expect(result).toBe(1);
    expect(decisions).toBe(1);
    expect(document.stored().count).toBe(1);
    expect(logger.entries[0]?.message).toBe(
      'firestore write landed though its answer was lost; not decided again',
    );
  });

  it('retries a read only for transient codes: a refused read is a configuration error', async () => {
    const failedRead = (code: number) => {
      let reads = 0;
      const ref = {
        get: async () => {
          reads++;
          throw Object.assign(new Error(`${code} read refused`), { code });
        },
      } as unknown as DocumentReference;
      return { ref, reads: () => reads };
    };
    const datastoreMode = failedRead(9);
    await expect(readModifyWrite(datastoreMode.ref, increment, { label: 'a/b', ...noSleep })).rejects.toThrow(
      '9 read refused',
    );
    expect(datastoreMode.reads()).toBe(1);
    const flaky = failedRead(14);
    await expect(
      readModifyWrite(flaky.ref, increment, { label: 'a/b', maxAttempts: 3, ...noSleep }),
    ).rejects.toBeInstanceOf(FirestoreContentionError);
    expect(flaky.reads()).toBe(3);
  });

  it('does not retry an error that another attempt cannot fix', async () => {
    const document = fakeDocument(1, () =>
      Object.assign(new Error('7 PERMISSION_DENIED: nope'), { code: 7 }),
    );
    await expect(readModifyWrite(document.ref, increment, { label: 'a/b', ...noSleep })).rejects.toThrow(
      'PERMISSION_DENIED',
    );
    expect(document.counts).toEqual({ reads: 1, writes: 1 });
  });

  it('does not retry an exception of modify', async () => {
    const document = fakeDocument(0);
    const broken = () => {
      throw new Error('record does not match its schema');
    };
    await expect(readModifyWrite(document.ref, broken, { label: 'a/b', ...noSleep })).rejects.toThrow(
      'record does not match its schema',
    );
    expect(document.counts).toEqual({ reads: 1, writes: 0 });
  });

  it('waits a growing, jittered delay before each retry, never before the first attempt', async () => {
    const document = fakeDocument(3);
    const slept: number[] = [];
    await readModifyWrite(document.ref, increment, {
      label: 'a/b',
      baseDelayMs: 10,
      maxDelayMs: 25,
      random: () => 1,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    expect(slept).toEqual([10, 20, 25]);
  });

  it('retries refused preconditions and transient codes, nothing else', () => {
    const withCode = (code: number) => Object.assign(new Error(`code ${code}`), { code });
    for (const code of [5, 6, 9, 4, 8, 10, 14, 409]) expect(isRetryableWrite(withCode(code))).toBe(true);
    for (const code of [3, 7, 16]) expect(isRetryableWrite(withCode(code))).toBe(false);
    expect(isRetryableWrite(new Error('plain'))).toBe(false);
  });

  it('keeps every retry delay within its growing, capped ceiling', () => {
    const settings = { baseDelayMs: 100, maxDelayMs: 3000 };
    expect(retryDelayMs(1, settings, () => 1)).toBe(100);
    expect(retryDelayMs(3, settings, () => 1)).toBe(400);
    expect(retryDelayMs(10, settings, () => 1)).toBe(3000);
    expect(retryDelayMs(10, settings, () => 0)).toBe(0);
  });
});
