/**
 * Every Firestore read-modify-write of tunedrop goes through `runTransaction` here, so that each
 * one ends (commits or rolls back) on every path and contention is retried the same way.
 *
 * Firestore transactions of the server libraries lock pessimistically (the emulator even more so:
 * a second writer waits about two seconds for a lock and then fails with `10 ABORTED: Transaction
 * lock timeout`, and a transaction that is never finished holds its locks for a minute). Here:
 *
 * - ABORTED and the other contention codes are retried by the client's own loop, bounded by
 *   `maxAttempts`: it waits a jittered, growing delay (about 1 s ±50%, ×1.5 each time), rolls the
 *   failed attempt back, and passes the failed transaction's id to the next one so that, in
 *   production, the retry keeps its place in the lock queue instead of starving behind newcomers;
 * - an update function still running after `attemptTimeoutMs` (a hung call between the read and
 *   the write) fails its attempt, which the client rolls back instead of leaving its locks held;
 *   the retry is a new client transaction, so the abandoned function cannot write into it;
 * - a transaction that needed retries is logged once, as one line; one that gives up throws a
 *   `FirestoreContentionError` (transient: the platform retries the request) whose log entry is one
 *   line too, without a stack, since the stack of a lock timeout says nothing.
 *
 * The update function may run several times, so it must be pure apart from its reads and writes
 * through `tx`, as with any Firestore transaction.
 */
import type { Firestore, Transaction } from '@google-cloud/firestore';
import { TransientError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';

/** gRPC codes (and the HTTP 409 of the REST transport) that mean "another writer got there first". */
const contentionCodes = new Set<unknown>([
  10, // ABORTED: lock timeout, contention, a concurrent modification
  409, // ABORTED over REST
  4, // DEADLINE_EXCEEDED: waited too long for a lock
  8, // RESOURCE_EXHAUSTED: too much contention on one document
  14, // UNAVAILABLE: the backend asks for a retry
]);

/** What a failed attempt says, as `10 ABORTED: Transaction lock timeout.` (never a stack). */
export function describeFirestoreError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

/**
 * True for errors a new attempt can fix: contention codes, and an expired or closed transaction
 * (the emulator's answer to a transaction that outlived its lock: INVALID_ARGUMENT with a message).
 */
export function isContention(error: unknown): boolean {
  if (error instanceof AttemptTimeoutError) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (contentionCodes.has(code)) return true;
  return code === 3 && /transaction (has expired|is invalid or closed)/i.test(describeFirestoreError(error));
}

/** An update function that did not finish within the attempt's deadline. */
class AttemptTimeoutError extends Error {
  override readonly name = 'AttemptTimeoutError';
}

/** A transaction still contended after its last attempt. Transient: retry the whole request later. */
export class FirestoreContentionError extends TransientError {
  /** Tells the logger to write this error without its stack (one line is the whole story). */
  readonly stackless = true;
  constructor(
    readonly label: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Firestore transaction on ${label} gave up after ${attempts} attempt(s): ${describeFirestoreError(cause)}`,
      'FIRESTORE_CONTENTION',
      { cause },
    );
  }
}

export interface TransactionOptions {
  /** What the transaction touches, for the log line and the error, e.g. `tunedrop-jobs/<id>`. */
  label: string;
  /** Attempts, all causes together, before giving up with a FirestoreContentionError. */
  maxAttempts?: number;
  /** How long one attempt's update function may run before the attempt is rolled back. */
  attemptTimeoutMs?: number;
  /** After a timed-out attempt, the retry waits up to this long, doubling each time... */
  baseDelayMs?: number;
  /** ...but never longer than this. (Contention retries use the client's own delays.) */
  maxDelayMs?: number;
  /** Where the one line about a contended transaction goes; nothing is logged without it. */
  logger?: Logger;
  /** For tests: a deterministic jitter and no real sleeping. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const defaultTransactionSettings = {
  maxAttempts: 8,
  attemptTimeoutMs: 30_000,
  baseDelayMs: 100,
  maxDelayMs: 3_000,
} as const;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter: uniform in [0, min(max, base·2^(retry-1))], so contenders spread out. */
export function retryDelayMs(
  retry: number,
  settings: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(random() * ceiling);
}

/** Runs `update` with a deadline: its attempt fails (and is rolled back) when the deadline passes. */
function withDeadline<T>(update: (tx: Transaction) => Promise<T>, timeoutMs: number, label: string) {
  return (tx: Transaction): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AttemptTimeoutError(`transaction on ${label} still open after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([update(tx), deadline]).finally(() => clearTimeout(timer));
  };
}

export async function runTransaction<T>(
  firestore: Firestore,
  update: (tx: Transaction) => Promise<T>,
  options: TransactionOptions,
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? defaultTransactionSettings.maxAttempts);
  const timeoutMs = options.attemptTimeoutMs ?? defaultTransactionSettings.attemptTimeoutMs;
  const delays = {
    baseDelayMs: options.baseDelayMs ?? defaultTransactionSettings.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? defaultTransactionSettings.maxDelayMs,
  };
  const sleep = options.sleep ?? realSleep;
  let attempts = 0;
  let lastError: unknown;
  const counted = withDeadline(
    async (tx: Transaction) => {
      attempts++;
      try {
        return await update(tx);
      } catch (error) {
        lastError = error;
        throw error;
      }
    },
    timeoutMs,
    options.label,
  );
  for (;;) {
    try {
      // The client retries contention itself, within what is left of the budget.
      const result = await firestore.runTransaction(counted, { maxAttempts: maxAttempts - attempts });
      if (attempts > 1) {
        options.logger?.info('firestore transaction was contended; committed after a retry', {
          transaction: options.label,
          attempts,
          ...(lastError === undefined ? {} : { lastError: describeFirestoreError(lastError) }),
        });
      }
      return result;
    } catch (error) {
      if (!isContention(error)) throw error;
      lastError = error;
      // Only a timed-out attempt ends the client's loop early: retry it as a new transaction.
      if (!(error instanceof AttemptTimeoutError) || attempts >= maxAttempts) break;
      await sleep(retryDelayMs(attempts, delays, options.random));
    }
  }
  const failure = new FirestoreContentionError(options.label, attempts, lastError);
  options.logger?.warn('firestore transaction gave up: still contended after its last attempt', {
    transaction: options.label,
    attempts,
    lastError: describeFirestoreError(lastError),
  });
  throw failure;
}
