/**
 * Every Firestore read-modify-write of tunedrop goes through `readModifyWrite` here: an optimistic
 * compare-and-set on one document, never a Firestore transaction.
 *
 * Why not a transaction: transactions of the server libraries lock pessimistically, and the
 * emulator more so. Every reader of a document in a transaction takes a lock on it; two readers
 * that both want to write wait for each other until `10 ABORTED: Transaction lock timeout`, both
 * retry, and a burst (fifty deliveries of one upload, a poll run beside an approval) can keep
 * colliding until the retries run out. A transaction that is never finished holds its locks for a
 * minute. A compare-and-set holds nothing:
 *
 * 1. read the document (a plain read: no lock, nobody waits for it);
 * 2. `modify` decides from that snapshot; if it writes nothing, the snapshot is the answer (it was
 *    the document's state at the moment of the read, so the result is as consistent as a
 *    transaction's);
 * 3. the write carries a precondition: update only if the document's update time is still the one
 *    read (or create only if it is still absent). If another writer got there first, Firestore
 *    refuses at once (FAILED_PRECONDITION, ALREADY_EXISTS, NOT_FOUND) and the loop reads again and
 *    decides again, after a short jittered delay so that a crowd of losers spreads out.
 *
 * Of N simultaneous writers one wins each round, and a loser whose second read shows that there
 * is nothing left to do (the claim is taken) stops there, so a burst settles in two rounds.
 * `modify` may run several times, so it must be pure: everything it needs is in the snapshot.
 * Transient codes (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED) are retried the
 * same way: a write whose answer was lost is then either visible in the next read or refused by
 * its precondition, never applied twice.
 *
 * A write that needed retries is logged once, as one line; one that runs out of attempts throws a
 * `FirestoreContentionError` (transient: the platform retries the request) whose log entry is one
 * line too, without a stack, since the stack of a refused precondition says nothing.
 */
import {
  type DocumentData,
  type DocumentReference,
  type DocumentSnapshot,
  FieldValue,
} from '@google-cloud/firestore';
import { TransientError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';

/** gRPC codes that mean "another writer got there first": read again and decide again. */
const conflictCodes = new Set<unknown>([
  5, // NOT_FOUND: the document was deleted between the read and the update
  6, // ALREADY_EXISTS: another writer created the document between the read and the create
  9, // FAILED_PRECONDITION: the document changed since the read
]);

/** gRPC codes (and HTTP codes of the REST transport) that a later attempt can fix. */
const transientCodes = new Set<unknown>([
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED: too many writes to one document
  10, // ABORTED
  14, // UNAVAILABLE
  409, // ABORTED over REST
  429,
  503,
]);

const codeOf = (error: unknown) => (error as { code?: unknown } | undefined)?.code;

/** True for errors a new read and write can fix. */
export function isRetryableWrite(error: unknown): boolean {
  const code = codeOf(error);
  return conflictCodes.has(code) || transientCodes.has(code);
}

/** What a failed attempt says, as `9 FAILED_PRECONDITION: …` (never a stack). */
export function describeFirestoreError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

/** A write still refused after its last attempt. Transient: retry the whole request later. */
export class FirestoreContentionError extends TransientError {
  /** Tells the logger to write this error without its stack (one line is the whole story). */
  readonly stackless = true;
  constructor(
    readonly label: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Firestore write to ${label} gave up after ${attempts} attempt(s): ${describeFirestoreError(cause)}`,
      'FIRESTORE_CONTENTION',
      { cause },
    );
  }
}

/** What `modify` decided: the document's new contents (all of them), or none, and the answer. */
export interface Decision<T> {
  /** The whole new document (it replaces the stored one); undefined to write nothing. */
  write?: DocumentData;
  result: T;
}

export interface ReadModifyWriteOptions {
  /** What the write touches, for the log line and the error, e.g. `tunedrop-jobs/<id>`. */
  label: string;
  /** Read-and-write rounds, all causes together, before giving up with FirestoreContentionError. */
  maxAttempts?: number;
  /** A retry waits up to this long, doubling each time... */
  baseDelayMs?: number;
  /** ...but never longer than this. */
  maxDelayMs?: number;
  /** Where the one line about a contended write goes; nothing is logged without it. */
  logger?: Logger;
  /** For tests: a deterministic jitter and no real sleeping. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const defaultWriteSettings = {
  maxAttempts: 20,
  baseDelayMs: 25,
  maxDelayMs: 1_000,
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

/**
 * The update that makes the stored document equal to `next`: every field of `next`, and a delete
 * for each top-level field the stored one has and `next` lacks (an update only touches the fields
 * it names, and a precondition is only available on update, not on set).
 */
function replacement(stored: DocumentData, next: DocumentData): DocumentData {
  const update: DocumentData = { ...next };
  for (const field of Object.keys(stored)) {
    if (!(field in next)) update[field] = FieldValue.delete();
  }
  return update;
}

/** Writes `data` in place of what `snapshot` read, unless the document changed since. */
async function writeIfUnchanged(ref: DocumentReference, snapshot: DocumentSnapshot, data: DocumentData) {
  if (!snapshot.exists || !snapshot.updateTime) {
    await ref.create(data);
    return;
  }
  await ref.update(replacement(snapshot.data() ?? {}, data), { lastUpdateTime: snapshot.updateTime });
}

export async function readModifyWrite<T>(
  ref: DocumentReference,
  modify: (snapshot: DocumentSnapshot) => Decision<T>,
  options: ReadModifyWriteOptions,
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? defaultWriteSettings.maxAttempts);
  const delays = {
    baseDelayMs: options.baseDelayMs ?? defaultWriteSettings.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? defaultWriteSettings.maxDelayMs,
  };
  const sleep = options.sleep ?? realSleep;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(retryDelayMs(attempt - 1, delays, options.random));
    try {
      const snapshot = await ref.get();
      const decision = modify(snapshot);
      if (decision.write !== undefined) await writeIfUnchanged(ref, snapshot, decision.write);
      if (attempt > 1) {
        options.logger?.info('firestore write was contended; committed after a retry', {
          document: options.label,
          attempts: attempt,
          lastError: describeFirestoreError(lastError),
        });
      }
      return decision.result;
    } catch (error) {
      if (!isRetryableWrite(error)) throw error;
      lastError = error;
    }
  }
  options.logger?.warn('firestore write gave up: still contended after its last attempt', {
    document: options.label,
    attempts: maxAttempts,
    lastError: describeFirestoreError(lastError),
  });
  throw new FirestoreContentionError(options.label, maxAttempts, lastError);
}
