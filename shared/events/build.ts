/**
 * Building events: ids, source, the event a state change emits, and the Pub/Sub attributes that
 * let subscriptions filter. Everything here is pure; building validates against the schemas, so
 * an event that would break the documented contract is never stored or published.
 */
import { type JobRecord, type JobSource, type JobState, publicView } from '../jobs/model.ts';
import {
  type CloudEvent,
  type DatasetErrorSample,
  type DatasetRejectedEvent,
  type EventType,
  eventCatalog,
  type JobEvent,
  type JobEventType,
  maxErrorsInEvent,
} from './schemas.ts';

export interface EventContext {
  now: Date;
  /** The Google Cloud project, for `source`. */
  project: string;
}

export const eventSource = (project: string): string => `//tunedrop/projects/${project}`;

/**
 * The id of one logical event: a subject has at most one event of each type (states only move
 * forward), so subject + type is stable across retries and re-publishes without any stored
 * counter. `key` separates events a subject can have several of (job.stalled: one per state).
 */
export function eventIdFor(subject: string, type: EventType, key?: string): string {
  const base = `${subject}.${type.replace(/^tunedrop\./, '')}`;
  return key === undefined ? base : `${base}.${key.toLowerCase()}`;
}

/**
 * The event a state change emits (`from` undefined: the record was just created in `to`).
 * QUEUED (waiting for capacity or a retry) and CANCELLING (a request, not an outcome) emit
 * nothing: subscribers hear about the outcome. Entering PENDING is `job.started`.
 */
export function eventTypeForTransition(from: JobState | undefined, to: JobState): JobEventType | undefined {
  if (from === to) return undefined;
  switch (to) {
    case 'DRAFT':
      return 'tunedrop.v1.job.drafted';
    case 'PENDING':
      return 'tunedrop.v1.job.started';
    case 'RUNNING':
      return 'tunedrop.v1.job.running';
    case 'SUCCEEDED':
      return 'tunedrop.v1.job.succeeded';
    case 'FAILED':
      return 'tunedrop.v1.job.failed';
    case 'CANCELLED':
      return 'tunedrop.v1.job.cancelled';
    case 'EXPIRED':
      return 'tunedrop.v1.job.expired';
    case 'QUEUED':
    case 'CANCELLING':
      return undefined;
  }
}

/**
 * The CloudEvent for `job` as it is now. Throws (a ZodError) when the record lacks what the type
 * promises, e.g. job.succeeded without a tuned model: a contract bug, better loud than published.
 */
export function buildJobEvent(job: JobRecord, type: JobEventType, context: EventContext): JobEvent {
  const stalled = type === 'tunedrop.v1.job.stalled';
  const view = publicView(job);
  const candidate = {
    specversion: '1.0',
    id: eventIdFor(job.id, type, stalled ? job.state : undefined),
    source: eventSource(context.project),
    type,
    subject: job.id,
    time: context.now.toISOString(),
    datacontenttype: 'application/json',
    data: stalled ? { ...view, stalledSince: job.stateTime, reason: stallReason(job) } : view,
  };
  // JSON round trip: drops undefined fields, as Firestore and Pub/Sub would.
  return eventCatalog[type].schema.parse(JSON.parse(JSON.stringify(candidate))) as JobEvent;
}

/** Why a job is reported stalled: the poller gave up reconciling it, or it has not moved. */
export function stallReason(job: JobRecord): string {
  const recovery = job.recovery;
  if (recovery?.gaveUpTime) {
    return `could not be reconciled with the provider after ${recovery.attempts} attempts; no longer retried: ${recovery.lastError}`;
  }
  return 'no state change within the stall timeout';
}

export interface DatasetRejection {
  /** The id the job would have had (`jobIdFor(source)`). */
  jobId: string;
  source: JobSource;
  reportUri: string;
  errorCount: number;
  /** Any number; the event keeps the first `maxErrorsInEvent`. */
  errors: DatasetErrorSample[];
}

export function buildDatasetRejectedEvent(
  rejection: DatasetRejection,
  context: EventContext,
): DatasetRejectedEvent {
  const type = 'tunedrop.v1.dataset.rejected';
  const candidate = {
    specversion: '1.0',
    id: eventIdFor(rejection.jobId, type),
    source: eventSource(context.project),
    type,
    subject: rejection.jobId,
    time: context.now.toISOString(),
    datacontenttype: 'application/json',
    data: { ...rejection, errors: rejection.errors.slice(0, maxErrorsInEvent) },
  };
  return eventCatalog[type].schema.parse(JSON.parse(JSON.stringify(candidate))) as DatasetRejectedEvent;
}

/**
 * The copy of `event` that a replay publishes: the same id and data, marked with the `replay`
 * extension attribute, so a subscriber can tell an operator's re-send from the original.
 */
export function asReplay<T extends CloudEvent>(event: T): T {
  return { ...event, replay: true };
}

/**
 * Pub/Sub message attributes: `type`, `jobId` and `state` (when the data has one) so a
 * subscription filter can select events without parsing bodies, e.g.
 * `attributes.type = "tunedrop.v1.job.succeeded"`. `content-type` marks the body as a structured
 * CloudEvent (CloudEvents Pub/Sub binding). No `ce-*` attributes: those signal the binary mode,
 * and the body already is the whole envelope. A replayed event also carries `replay=true`.
 */
export function pubsubAttributes(event: CloudEvent): Record<string, string> {
  const attributes: Record<string, string> = {
    type: event.type,
    jobId: event.subject,
    'content-type': 'application/cloudevents+json',
  };
  const data = event.data as { state?: unknown } | null | undefined;
  if (data && typeof data === 'object' && typeof data.state === 'string') attributes.state = data.state;
  if (event.replay) attributes.replay = 'true';
  return attributes;
}
