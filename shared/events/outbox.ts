/**
 * The transactional outbox on the job record. A state change and the event it emits are written
 * in the same atomic write of the record (callers use `applyTransition` inside `JobStore.update`);
 * publishing happens after the commit, and an entry is marked published only after Pub/Sub has
 * accepted it. A crash anywhere leaves the entry pending and the next flush re-publishes it with
 * the same event id: delivery is at least once, and subscribers deduplicate on the id.
 *
 * Size: a record keeps every unpublished entry (never dropped) and, beyond that, the newest
 * published ones up to `maxOutboxEntries` in all, for replay and diagnosis. A job emits at most
 * nine events (drafted, started, running, one terminal, a stall per non-terminal state), so in
 * practice nothing is trimmed; the cap bounds the 1 MiB Firestore document if that ever changes.
 */
import { randomUUID } from 'node:crypto';
import type { JobRecord, JobState, OutboxEntry } from '../jobs/model.ts';
import { isTerminal } from '../jobs/model.ts';
import { advance, type TransitionOptions, transition } from '../jobs/state-machine.ts';
import type { JobStore } from '../jobs/store-types.ts';
import type { Logger } from '../logging/index.ts';
import { buildJobEvent, type EventContext, eventTypeForTransition } from './build.ts';
import type { EventPublisher } from './publisher.ts';
import { CloudEventEnvelope, type JobEventType } from './schemas.ts';

export const maxOutboxEntries = 20;

/** How long a flusher owns a record's outbox; a flusher that dies mid-way is taken over after it. */
export const defaultOutboxLeaseMs = 2 * 60_000;

export const hasPendingEvents = (job: JobRecord): boolean => job.outbox.some((entry) => !entry.publishTime);

/** Keeps every pending entry and the newest published ones, in their original order. */
function capOutbox(outbox: OutboxEntry[]): OutboxEntry[] {
  const excess = outbox.length - maxOutboxEntries;
  if (excess <= 0) return outbox;
  let toDrop = excess;
  return outbox.filter((entry) => {
    if (toDrop > 0 && entry.publishTime) {
      toDrop--;
      return false;
    }
    return true;
  });
}

/**
 * Adds the `type` event for the record as it is now to its outbox. Idempotent: an event whose id
 * is already in the outbox is not added again (the same record is returned).
 */
export function appendEvent(job: JobRecord, type: JobEventType, context: EventContext): JobRecord {
  const event = buildJobEvent(job, type, context);
  if (job.outbox.some((entry) => entry.event.id === event.id)) return job;
  const entry: OutboxEntry = {
    event: event as Record<string, unknown>,
    createTime: context.now.toISOString(),
  };
  return { ...job, outbox: capOutbox([...job.outbox, entry]) };
}

/** For a record about to be created: adds the event its initial state emits (DRAFT, PENDING), if any. */
export function withCreationEvent(job: JobRecord, context: EventContext): JobRecord {
  const type = eventTypeForTransition(undefined, job.state);
  return type ? appendEvent(job, type, context) : job;
}

export type ApplyTransitionOptions = TransitionOptions & { project: string };

/**
 * State-machine transition plus the event it emits, in one pure step, for use inside
 * `JobStore.update`. Throws IllegalTransitionError on an illegal move.
 */
export function applyTransition(job: JobRecord, to: JobState, options: ApplyTransitionOptions): JobRecord {
  const next = transition(job, to, options);
  const type = eventTypeForTransition(job.state, to);
  return type ? appendEvent(next, type, options) : next;
}

/**
 * Like applyTransition for reports that may be stale or out of order (provider polls): returns
 * undefined, i.e. "unchanged" to `JobStore.update`, for a same-state or backward report.
 */
export function applyReportedState(
  job: JobRecord,
  to: JobState,
  options: ApplyTransitionOptions,
): JobRecord | undefined {
  const next = advance(job, to, options);
  if (!next) return undefined;
  const type = eventTypeForTransition(job.state, to);
  return type ? appendEvent(next, type, options) : next;
}

/**
 * Appends `job.stalled` once per stall (transition re-arms it) and sets `stalledNotified`;
 * undefined when already notified or terminal.
 */
export function markStalled(job: JobRecord, context: EventContext): JobRecord | undefined {
  if (job.stalledNotified || isTerminal(job.state)) return undefined;
  return { ...appendEvent(job, 'tunedrop.v1.job.stalled', context), stalledNotified: true };
}

export interface PublishOptions {
  now?: () => Date;
  leaseMs?: number;
  /** Identifies this flusher in the lease; random by default. */
  owner?: string;
}

export interface PublishOutcome {
  /** Events Pub/Sub accepted in this call. */
  published: number;
  /**
   * Events still unpublished after this call that this caller is responsible for (a failure
   * stops the record's remaining events). Not those another flusher is publishing: see `leased`.
   */
  pending: number;
  /** Set when another flusher holds the record's outbox lease: the events it is publishing. */
  leased?: number;
  /** Why nothing was attempted: no such record, nothing pending, or another flusher holds the lease. */
  skipped?: 'absent' | 'nothing-pending' | 'leased';
}

/**
 * Publishes the unpublished outbox entries of one record, oldest first, then marks them
 * published in one write of the record. The first failure stops the record's remaining entries, so
 * subscribers never see a job's events out of order; they stay pending for the next flush.
 * Throws only when Firestore fails; publish failures are logged and reported in the outcome.
 */
export async function publishPending(
  store: JobStore,
  publisher: EventPublisher,
  jobId: string,
  logger: Logger,
  options: PublishOptions = {},
): Promise<PublishOutcome> {
  const now = options.now ?? (() => new Date());
  const owner = options.owner ?? randomUUID();
  const claimTime = now();
  const leaseUntil = new Date(claimTime.getTime() + (options.leaseMs ?? defaultOutboxLeaseMs)).toISOString();

  const claimed = await store.update(jobId, (job) => {
    if (!hasPendingEvents(job)) return undefined;
    const lease = job.outboxLease;
    if (lease && lease.owner !== owner && lease.until > claimTime.toISOString()) return undefined;
    return { ...job, outboxLease: { owner, until: leaseUntil } };
  });
  if (!claimed) return { published: 0, pending: 0, skipped: 'absent' };
  const pending = claimed.outbox.filter((entry) => !entry.publishTime);
  if (pending.length === 0) return { published: 0, pending: 0, skipped: 'nothing-pending' };
  // Another flusher is publishing these right now; if it dies, its lease runs out and the next
  // flush takes over. Not pending for this caller, so not a failure of this caller.
  if (claimed.outboxLease?.owner !== owner)
    return { published: 0, pending: 0, leased: pending.length, skipped: 'leased' };

  const publishedIds = new Set<string>();
  for (const entry of pending) {
    const event = CloudEventEnvelope.parse(entry.event);
    try {
      const messageId = await publisher.publish(event);
      publishedIds.add(event.id);
      logger.info('event published', { jobId, eventId: event.id, eventType: event.type, messageId });
    } catch (error) {
      logger.warn('event publish failed; it stays in the outbox for the next flush', {
        jobId,
        eventId: event.id,
        eventType: event.type,
        error,
      });
      break;
    }
  }

  const marked = await store.update(jobId, (job) => {
    const publishTime = now().toISOString();
    const outbox = job.outbox.map((entry) =>
      !entry.publishTime && publishedIds.has(String(entry.event.id)) ? { ...entry, publishTime } : entry,
    );
    const released = job.outboxLease?.owner === owner ? undefined : job.outboxLease;
    return { ...job, outbox: capOutbox(outbox), outboxLease: released };
  });
  return {
    published: publishedIds.size,
    pending: marked ? marked.outbox.filter((entry) => !entry.publishTime).length : 0,
  };
}

export interface FlushOutcome {
  /** Records that had pending events when the flush started. */
  jobs: number;
  published: number;
  /** Events still pending after the flush (a publish failed): worth a retry. */
  pending: number;
  /** Events left to another flusher that held their record's outbox lease. */
  leased: number;
  /** Records whose flush threw (Firestore errors); logged, retried next time. */
  failedJobs: number;
}

/**
 * Publishes the pending events of every record that has some (the poller calls this each run, so
 * an event whose publish failed or whose publisher crashed goes out on the next run).
 */
export async function flushAllPending(
  store: JobStore,
  publisher: EventPublisher,
  logger: Logger,
  options: PublishOptions & { concurrency?: number } = {},
): Promise<FlushOutcome> {
  const jobs = await store.listWithPendingEvents();
  const outcome: FlushOutcome = {
    jobs: jobs.length,
    published: 0,
    pending: 0,
    leased: 0,
    failedJobs: 0,
  };
  const queue = jobs.map((job) => job.id);
  const worker = async () => {
    for (let jobId = queue.shift(); jobId !== undefined; jobId = queue.shift()) {
      try {
        const result = await publishPending(store, publisher, jobId, logger, options);
        outcome.published += result.published;
        outcome.pending += result.pending;
        outcome.leased += result.leased ?? 0;
      } catch (error) {
        outcome.failedJobs++;
        logger.error('outbox flush failed for a job', { jobId, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  if (jobs.length > 0) logger.info('outbox flushed', { ...outcome });
  return outcome;
}
