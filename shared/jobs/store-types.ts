/**
 * The job store contract. The Firestore implementation lives beside it (firestore-store.ts); every
 * read-modify-write goes through `update`, a compare-and-set on the record (shared/firestore), so
 * concurrent function instances never lose each other's changes.
 */
import type { JobRecord, JobState } from './model.ts';

export interface CreateResult {
  /** False when a record with this id already existed (a duplicate delivery): `job` is that record. */
  created: boolean;
  job: JobRecord;
}

export interface ListJobsQuery {
  states?: JobState[];
  /** Only jobs whose spec.labels carry all these labels. */
  labels?: Record<string, string>;
  /** Page size; default 50, at most 500. */
  limit?: number;
  /** Opaque cursor from a previous page. */
  pageToken?: string;
}

export interface CountOptions {
  orCreateInFlight?: boolean;
}

export interface JobList {
  jobs: JobRecord[];
  nextPageToken?: string;
}

export interface JobStore {
  /** Creates the record if no record has its id; atomic, so N concurrent calls create exactly one. */
  create(job: JobRecord): Promise<CreateResult>;
  get(id: string): Promise<JobRecord | undefined>;
  /**
   * Atomic read-modify-write. `mutate` gets the current record and returns the new one, or
   * undefined to leave it unchanged; it may run more than once (a write overtaken by another is
   * decided again on the newer record), so it must be pure. Returns the record as committed (or as read, when unchanged); undefined if absent.
   */
  update(id: string, mutate: (job: JobRecord) => JobRecord | undefined): Promise<JobRecord | undefined>;
  list(query?: ListJobsQuery): Promise<JobList>;
  /**
   * Records whose id starts with `prefix`, in id order, at most `limit`: one range query on the
   * document id, for short ids typed by a person.
   */
  findByIdPrefix(prefix: string, limit: number): Promise<JobRecord[]>;
  /** Every record not in a terminal state (what the poller refreshes). */
  listActive(): Promise<JobRecord[]>;
  /** Records with at least one outbox event not yet published. */
  listWithPendingEvents(): Promise<JobRecord[]>;
  /**
   * How many records are in one of `states` (a server-side count, no documents read). With
   * `orCreateInFlight`, records with a create call in flight (`hasCreateInFlight`) count too,
   * whatever their state: they will occupy a provider slot in a moment.
   */
  countByStates(states: readonly JobState[], options?: CountOptions): Promise<number>;
  /**
   * Succeeded records whose tuned model is `tunedModel` (exactly, or any version of it when the
   * name has no `@version`): how continuous tuning learns the base model of a model tunedrop made.
   */
  findByTunedModel?(tunedModel: string): Promise<JobRecord[]>;
}
