/**
 * The JobStore on Firestore (Native mode). One document per job, keyed by the job id; the stored
 * document is the JobRecord plus fields derived from it on every write, for querying:
 *
 * - `labelPairs`: `["key=value", ...]` from spec.labels, so one composite index
 *   (labelPairs array-contains + createTime) serves a label filter on any key; with several
 *   labels the first is the query filter and the rest are checked here.
 * - `outboxPending`: true while an outbox entry has no publishTime (listWithPendingEvents).
 * - `createInFlight`: true while a provider create call may be running (countByStates).
 * - `lastWriteToken`: the call that last wrote it, added by readModifyWrite (shared/firestore) so
 *   a retried write recognises its own; JobRecord's schema drops it on read.
 *
 * Composite indexes needed in production (the emulator needs none): google_firestore_index in
 * terraform/firestore.tf.
 * Times are ISO 8601 UTC strings (`toISOString`), which sort as they compare.
 */
import {
  FieldPath,
  Filter,
  Firestore,
  type Query,
  type QueryDocumentSnapshot,
} from '@google-cloud/firestore';
import { PermanentError } from '../errors/index.ts';
import { readModifyWrite } from '../firestore/index.ts';
import type { Logger } from '../logging/index.ts';
import { JobRecord, jobStates, terminalStates } from './model.ts';
import { hasCreateInFlight } from './start-job.ts';
import type { CreateResult, JobList, JobStore, ListJobsQuery } from './store-types.ts';

/** gRPC status of a create whose document already exists. */
const ALREADY_EXISTS = 6;

export const defaultPageSize = 50;
export const maxPageSize = 500;

export class InvalidJobDocumentError extends Error {
  override readonly name = 'InvalidJobDocumentError';
  constructor(
    readonly jobId: string,
    readonly issues: unknown,
  ) {
    super(`job document ${jobId} does not match the JobRecord schema`);
  }
}

export class InvalidPageTokenError extends PermanentError {
  constructor() {
    super('invalid page token', 'INVALID_PAGE_TOKEN');
  }
}

export interface FirestoreClientOptions {
  project: string;
  databaseId?: string;
}

/**
 * A Firestore client for the store. It honours FIRESTORE_EMULATOR_HOST by itself; undefined
 * properties are dropped rather than rejected, since optional record fields are often undefined.
 */
export function createFirestore({ project, databaseId }: FirestoreClientOptions): Firestore {
  return new Firestore({
    projectId: project,
    ...(databaseId && databaseId !== '(default)' ? { databaseId } : {}),
    ignoreUndefinedProperties: true,
  });
}

export interface FirestoreJobStoreOptions {
  firestore: Firestore;
  collection: string;
  /** Where a contended write is logged (one line); silent without it. */
  logger?: Logger;
}

export type Cursor = [createTime: string, id: string];

/** Page tokens: an opaque (createTime, id) cursor, shared with the rejection store (same order). */
export const encodeToken = (cursor: Cursor): string =>
  Buffer.from(JSON.stringify(cursor)).toString('base64url');

export function decodeToken(token: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return value as Cursor;
    }
  } catch {
    // fall through: any malformed token is the same client error
  }
  throw new InvalidPageTokenError();
}

const labelPair = (key: string, value: string) => `${key}=${value}`;

/** The stored form: the record without undefined values, plus the derived query fields. */
function toDocument(job: JobRecord): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(job)) as Record<string, unknown>;
  return {
    ...plain,
    labelPairs: Object.entries(job.spec.labels)
      .map(([key, value]) => labelPair(key, value))
      .sort(),
    outboxPending: job.outbox.some((entry) => !entry.publishTime),
    createInFlight: hasCreateInFlight(job),
  };
}

function fromDocument(id: string, data: unknown): JobRecord {
  const parsed = JobRecord.safeParse(data);
  if (!parsed.success) throw new InvalidJobDocumentError(id, parsed.error.issues);
  return parsed.data;
}

const activeStates = jobStates.filter((state) => !terminalStates.includes(state));

export function createFirestoreJobStore(options: FirestoreJobStoreOptions): JobStore {
  const { firestore } = options;
  const collection = firestore.collection(options.collection);

  const readAll = async (query: Query) =>
    (await query.get()).docs.map((doc) => fromDocument(doc.id, doc.data()));

  return {
    async create(job) {
      const record = JobRecord.parse(job);
      const ref = collection.doc(record.id);
      try {
        await ref.create(toDocument(record));
        return { created: true, job: record } satisfies CreateResult;
      } catch (error) {
        if ((error as { code?: unknown }).code !== ALREADY_EXISTS) throw error;
      }
      const existing = await ref.get();
      // A record is never deleted by tunedrop, so one that existed a moment ago still does.
      return { created: false, job: fromDocument(record.id, existing.data()) };
    },

    async get(id) {
      const snapshot = await collection.doc(id).get();
      return snapshot.exists ? fromDocument(id, snapshot.data()) : undefined;
    },

    async update(id, mutate) {
      // A compare-and-set on the record's update time, never a transaction (shared/firestore).
      return readModifyWrite(
        collection.doc(id),
        (snapshot) => {
          if (!snapshot.exists) return { result: undefined };
          const current = fromDocument(id, snapshot.data());
          const next = mutate(current);
          if (next === undefined || next === current) return { result: current };
          if (next.id !== id) throw new Error(`job ${id}: update must not change the id (got ${next.id})`);
          const record = JobRecord.parse(next);
          const document = toDocument(record);
          if (JSON.stringify(document) === JSON.stringify(toDocument(current))) return { result: current };
          return { write: document, result: record };
        },
        { label: `${options.collection}/${id}`, logger: options.logger },
      );
    },

    async list(query: ListJobsQuery = {}): Promise<JobList> {
      const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? defaultPageSize)), maxPageSize);
      const labels = Object.entries(query.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
      const [firstLabel, ...otherLabels] = labels;
      const matchesOtherLabels = (job: JobRecord) =>
        otherLabels.every(([key, value]) => job.spec.labels[key] === value);

      let base: Query = collection;
      if (query.states && query.states.length > 0) base = base.where('state', 'in', query.states);
      if (firstLabel) base = base.where('labelPairs', 'array-contains', labelPair(...firstLabel));
      base = base.orderBy('createTime', 'desc').orderBy(FieldPath.documentId(), 'desc');

      // Read one more match than the page holds, so a next token is given only when there is more.
      const matches: JobRecord[] = [];
      let cursor: Cursor | undefined = query.pageToken ? decodeToken(query.pageToken) : undefined;
      const chunk = limit + 1;
      for (;;) {
        const page = cursor ? base.startAfter(...cursor) : base;
        const docs: QueryDocumentSnapshot[] = (await page.limit(chunk).get()).docs;
        for (const doc of docs) {
          const job = fromDocument(doc.id, doc.data());
          if (matchesOtherLabels(job)) matches.push(job);
          if (matches.length > limit) break;
        }
        const last = docs.at(-1);
        if (matches.length > limit || docs.length < chunk || !last) break;
        cursor = [String(last.get('createTime')), last.id];
      }
      const jobs = matches.slice(0, limit);
      const lastJob = jobs.at(-1);
      return matches.length > limit && lastJob
        ? { jobs, nextPageToken: encodeToken([lastJob.createTime, lastJob.id]) }
        : { jobs };
    },

    findByIdPrefix(prefix, limit) {
      if (prefix === '') return Promise.resolve([]);
      // Every id that starts with the prefix sorts in [prefix, prefix + U+F8FF): ids are ASCII.
      const id = FieldPath.documentId();
      return readAll(
        collection
          .where(id, '>=', prefix)
          .where(id, '<', `${prefix}\uf8ff`)
          .orderBy(id)
          .limit(Math.max(1, Math.trunc(limit))),
      );
    },

    listActive() {
      return readAll(collection.where('state', 'in', activeStates));
    },

    listWithPendingEvents() {
      return readAll(collection.where('outboxPending', '==', true));
    },

    async findByTunedModel(tunedModel) {
      // Single-field equality and range queries: served by Firestore's automatic indexes.
      const exact = await readAll(collection.where('result.tunedModel', '==', tunedModel));
      if (tunedModel.includes('@')) return exact;
      const versions = await readAll(
        collection
          .where('result.tunedModel', '>=', `${tunedModel}@`)
          .where('result.tunedModel', '<', `${tunedModel}@\uf8ff`),
      );
      return [...exact, ...versions];
    },

    async countByStates(states, options = {}) {
      // A count() aggregation: billed per 1,000 index entries, no documents read. Both filters
      // use single-field indexes, so the OR needs no composite index.
      const byState = states.length > 0 ? Filter.where('state', 'in', [...states]) : undefined;
      const inFlight = options.orCreateInFlight ? Filter.where('createInFlight', '==', true) : undefined;
      const filter = byState && inFlight ? Filter.or(byState, inFlight) : (byState ?? inFlight);
      if (!filter) return 0;
      const snapshot = await collection.where(filter).count().get();
      return snapshot.data().count;
    },
  };
}
