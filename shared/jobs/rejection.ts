/**
 * Rejected uploads, findable like jobs. A dataset that fails validation creates no job (DESIGN.md):
 * nothing was approved, started or billed, and no state machine applies. But the person who
 * dropped it must be able to find it, by id or in `jobs list --state REJECTED`, with its source
 * object and report. So each rejection gets its own small record, in a collection beside the jobs
 * (`<jobs collection>-rejected`), keyed by the id the job would have had (the dataset.rejected
 * event's subject). Its state is REJECTED: terminal, never started, never moving; it is listed and
 * read through the same API as jobs, but never passes through the job store, the poller or the
 * state machine. The dataset.rejected event is kept on it, so `jobs replay` can re-send it.
 */
import type { Firestore } from '@google-cloud/firestore';
import { FieldPath } from '@google-cloud/firestore';
import { z } from 'zod';
import { decodeToken, encodeToken, InvalidJobDocumentError } from './firestore-store.ts';
import { HistoryEntry, JobSource } from './model.ts';

export const rejectedState = 'REJECTED' as const;

export const RejectionRecord = z.object({
  id: z.string(),
  state: z.literal(rejectedState),
  createTime: z.string(),
  updateTime: z.string(),
  source: JobSource,
  validation: z.object({ reportUri: z.string() }),
  /** The first error, for one-line listings; the report has every one. */
  error: z.object({ code: z.string(), message: z.string() }),
  rejection: z.object({
    errorCount: z.number().int().nonnegative(),
    errors: z.array(z.record(z.string(), z.unknown())),
  }),
  history: z.array(HistoryEntry.extend({ state: z.literal(rejectedState) })),
  /** The dataset.rejected CloudEvent as published, for replays. */
  event: z.record(z.string(), z.unknown()),
});
export type RejectionRecord = z.infer<typeof RejectionRecord>;

/** What the API shows: the record without the stored event (it is the event's data anyway). */
export function rejectionView(record: RejectionRecord) {
  const { event: _event, ...view } = record;
  return view;
}
export type RejectionView = ReturnType<typeof rejectionView>;

export interface RejectionPage {
  rejections: RejectionRecord[];
  nextPageToken?: string;
}

export interface RejectionStore {
  /** Creates the record unless one with its id exists (a redelivered event): idempotent. */
  create(record: RejectionRecord): Promise<{ created: boolean; record: RejectionRecord }>;
  get(id: string): Promise<RejectionRecord | undefined>;
  /** Newest first, in the job store's order and page-token format, so both lists merge. */
  list(query?: { limit?: number; pageToken?: string }): Promise<RejectionPage>;
}

export const rejectionsCollectionFor = (jobsCollection: string) => `${jobsCollection}-rejected`;

/** gRPC status of a create whose document already exists. */
const ALREADY_EXISTS = 6;

function parse(id: string, data: unknown): RejectionRecord {
  const parsed = RejectionRecord.safeParse(data);
  if (!parsed.success) throw new InvalidJobDocumentError(id, parsed.error.issues);
  return parsed.data;
}

export function createFirestoreRejectionStore(options: {
  firestore: Firestore;
  collection: string;
}): RejectionStore {
  const collection = options.firestore.collection(options.collection);
  return {
    async create(record) {
      const valid = RejectionRecord.parse(record);
      const ref = collection.doc(valid.id);
      try {
        await ref.create(JSON.parse(JSON.stringify(valid)));
        return { created: true, record: valid };
      } catch (error) {
        if ((error as { code?: unknown }).code !== ALREADY_EXISTS) throw error;
      }
      return { created: false, record: parse(valid.id, (await ref.get()).data()) };
    },

    async get(id) {
      const snapshot = await collection.doc(id).get();
      return snapshot.exists ? parse(id, snapshot.data()) : undefined;
    },

    async list(query = {}) {
      const limit = Math.min(Math.max(1, Math.trunc(query.limit ?? 50)), 500);
      let base = collection.orderBy('createTime', 'desc').orderBy(FieldPath.documentId(), 'desc');
      if (query.pageToken) base = base.startAfter(...decodeToken(query.pageToken));
      const docs = (await base.limit(limit + 1).get()).docs;
      const rejections = docs.slice(0, limit).map((doc) => parse(doc.id, doc.data()));
      const last = rejections.at(-1);
      return docs.length > limit && last
        ? { rejections, nextPageToken: encodeToken([last.createTime, last.id]) }
        : { rejections };
    },
  };
}

/** The record of a rejection, from the dataset.rejected event that announces it. */
export function rejectionRecordFrom(
  event: {
    subject: string;
    time: string;
    data: {
      source: JobSource;
      reportUri: string;
      errorCount: number;
      errors: { line?: number; field?: string; code: string; message: string; file?: string }[];
    };
  } & Record<string, unknown>,
): RejectionRecord {
  const { data } = event;
  const first = data.errors[0];
  const where = [first?.line ? `line ${first.line}` : '', first?.field ?? ''].filter(Boolean).join(', ');
  const message = first
    ? `${data.errorCount} error(s); first: ${where ? `${where}: ` : ''}${first.message}`
    : `${data.errorCount} error(s)`;
  return RejectionRecord.parse({
    id: event.subject,
    state: rejectedState,
    createTime: event.time,
    updateTime: event.time,
    source: data.source,
    validation: { reportUri: data.reportUri },
    error: { code: first?.code ?? 'DATASET_REJECTED', message },
    rejection: { errorCount: data.errorCount, errors: data.errors },
    history: [{ state: rejectedState, time: event.time, reason: 'the upload failed validation' }],
    event: JSON.parse(JSON.stringify(event)),
  });
}
