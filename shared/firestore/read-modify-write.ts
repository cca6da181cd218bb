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
 * same way. A write whose answer was lost may have landed (the client itself resends a commit on
 * UNAVAILABLE, and the resend is then refused by the precondition the first one satisfied): every
 * write carries a token of its call (`writeTokenField`), and a retry that reads its own token back
 * returns what that write decided instead of deciding again on its own result. Otherwise a claim
 * whose reply was lost would look like somebody else's claim, and counters would count twice.
 * Only a write's refusal means "overtaken": a read's FAILED_PRECONDITION or NOT_FOUND (a
 * Datastore-mode or missing database) is a configuration error, not retried.
 *
 * A write that needed retries is logged once, as one line; one that runs out of attempts throws a
 * `FirestoreContentionError` (transient: the platform retries the request) whose log entry is one
 * line too, without a stack, since the stack of a refused precondition says nothing.
 */
import { randomUUID } from 'node:crypto';
import {
  type DocumentData,
  type DocumentReference,
  type DocumentSnapshot,
  FieldPath,
  FieldValue,
} from '@google-cloud/firestore';
import { TransientError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';

/**
 * The field that carries the token of the call that last wrote a document. Readers' schemas
 * ignore it (zod strips unknown keys).
 */
export const writeTokenField = 'lastWriteToken';

/** gRPC codes of a refused write that mean "another writer got there first": decide again. */
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

/** True for errors of a write that a new read and write can fix. */
export function isRetryableWrite(error: unknown): boolean {
  const code = codeOf(error);
  return conflictCodes.has(code) || transientCodes.has(code);
}

/** True for errors of a read that a new read can fix (a read is never "overtaken"). */
export function isRetryableRead(error: unknown): boolean {
  return transientCodes.has(codeOf(error));
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
 * it names, and a precondition is only available on update, not on set). Fields are named by
 * FieldPath, so a key is never split at a dot.
 */
function replacement(stored: DocumentData, next: DocumentData): unknown[] {
  const pairs: unknown[] = [];
  for (const [field, value] of Object.entries(next)) pairs.push(new FieldPath(field), value);
  for (const field of Object.keys(stored)) {
    if (!(field in next)) pairs.push(new FieldPath(field), FieldValue.delete());
  }
  return pairs;
}

/** Writes `data` in place of what `snapshot` read, unless the document changed since. */
async function writeIfUnchanged(ref: DocumentReference, snapshot: DocumentSnapshot, data: DocumentData) {
  if (!snapshot.exists || !snapshot.updateTime) {
    await ref.create(data);
    return;
  }
  const [firstField, firstValue, ...rest] = replacement(snapshot.data() ?? {}, data);
  await ref.update(firstField as FieldPath, firstValue, ...rest, { lastUpdateTime: snapshot.updateTime });
}

/** Where an attempt failed: a read is retried only for transient codes, a write for conflicts too. */
class WriteRefused extends Error {
  constructor(readonly refusal: unknown) {
    super(describeFirestoreError(refusal));
  }
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
  const token = randomUUID();
  /** What the last attempt that wrote decided: the answer if its write turns out to have landed. */
  let written: { result: T } | undefined;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(retryDelayMs(attempt - 1, delays, options.random));
    try {
      const snapshot = await ref.get();
      if (written && snapshot.get(writeTokenField) === token) {
        options.logger?.info('firestore write landed though its answer was lost; not decided again', {
          document: options.label,
          attempts: attempt,
          lastError: describeFirestoreError(lastError),
        });
        return written.result;
      }
      const decision = modify(snapshot);
      if (decision.write !== undefined) {
        written = { result: decision.result };
        const contents = { ...decision.write, [writeTokenField]: token };
        await writeIfUnchanged(ref, snapshot, contents).catch((error: unknown) => {
          throw new WriteRefused(error);
        });
      }
      if (attempt > 1) {
        options.logger?.info('firestore write was contended; committed after a retry', {
          document: options.label,
          attempts: attempt,
          lastError: describeFirestoreError(lastError),
        });
      }
      return decision.result;
    } catch (error) {
      const refused = error instanceof WriteRefused;
      const cause = refused ? error.refusal : error;
      if (!(refused ? isRetryableWrite(cause) : isRetryableRead(cause))) throw cause;
      lastError = cause;
    }
  }
  options.logger?.warn('firestore write gave up: still contended after its last attempt', {
    document: options.label,
    attempts: maxAttempts,
    lastError: describeFirestoreError(lastError),
  });
  throw new FirestoreContentionError(options.label, maxAttempts, lastError);
}
