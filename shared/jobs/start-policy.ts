/**
 * The settings and pure rules of a start (startJob in start-job.ts): backoff, timeouts, the plan
 * for a record whose earlier attempt may still be running, and which create errors prove that no
 * job was created. No I/O here.
 */
import type { EventPublisher } from '../events/index.ts';
import type { Logger } from '../logging/index.ts';
import { ProviderError, type TuningProvider } from '../providers/types.ts';
import { isTerminal, type JobRecord, type JobState } from './model.ts';
import type { JobStore } from './store-types.ts';
export interface BackoffPolicy {
  /** Delay before the second attempt; doubled for each further attempt. */
  baseMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 30_000, maxMs: 30 * 60_000 };

/**
 * How long an intent without a job name counts as "a create call in progress". Longer than any
 * create call can take (the Vertex client times out after 30 s, a function after 9 min at most).
 */
export const defaultIntentTimeoutMs = 10 * 60_000;

/**
 * How old an attempt with an unknown outcome (a 5xx, a timeout) must be before a label lookup that
 * finds nothing is believed: the provider's list may not show a job created moments ago. Vertex
 * AI documents no bound [UNCONFIRMED]; a minute costs a retried start little.
 */
export const defaultLookupSettleMs = 60_000;

/** Creates that certainly made no job before a start gives up (about 3.5 h with the default backoff). */
export const defaultMaxStartAttempts = 12;

/** States in which a job holds a slot at the provider (with creates in flight, see the store). */
export const providerSlotStates: readonly JobState[] = ['PENDING', 'RUNNING', 'CANCELLING'];

export interface StartJobDeps {
  store: JobStore;
  provider: TuningProvider;
  publisher: EventPublisher;
  logger: Logger;
  now: () => Date;
  /** The Google Cloud project, for event sources. */
  project: string;
  backoff?: BackoffPolicy;
  intentTimeoutMs?: number;
  /** In [0, 1); Math.random by default. Tests pass a fixed one. */
  random?: () => number;
  /** Jobs allowed at the provider at once (TUNEDROP_MAX_CONCURRENT_JOBS); no limit when absent. */
  maxConcurrentJobs?: number;
  /** Attempts after which a start that keeps failing transiently gives up; 12 by default. */
  maxStartAttempts?: number;
  /** See defaultLookupSettleMs. */
  lookupSettleMs?: number;
}

/** What a function holds that startJob needs: its usual dependencies and configuration. */
export interface StartDepsSource {
  store: JobStore;
  provider: TuningProvider;
  publisher: EventPublisher;
  logger: Logger;
  clock: () => Date;
  config: { project: string; maxConcurrentJobs?: number; intentGraceMs?: number };
  backoff?: BackoffPolicy;
  intentTimeoutMs?: number;
  random?: () => number;
  maxStartAttempts?: number;
  lookupSettleMs?: number;
}

/**
 * The one way ingest, approve and the poller build StartJobDeps, so all three honour the same
 * settings (concurrency cap, backoff, intent timeout).
 */
export function startDepsFrom(source: StartDepsSource): StartJobDeps {
  const intentTimeoutMs = source.intentTimeoutMs ?? source.config.intentGraceMs;
  return {
    store: source.store,
    provider: source.provider,
    publisher: source.publisher,
    logger: source.logger,
    now: source.clock,
    project: source.config.project,
    ...(source.config.maxConcurrentJobs !== undefined
      ? { maxConcurrentJobs: source.config.maxConcurrentJobs }
      : {}),
    ...(source.backoff ? { backoff: source.backoff } : {}),
    ...(intentTimeoutMs !== undefined ? { intentTimeoutMs } : {}),
    ...(source.random ? { random: source.random } : {}),
    ...(source.maxStartAttempts !== undefined ? { maxStartAttempts: source.maxStartAttempts } : {}),
    ...(source.lookupSettleMs !== undefined ? { lookupSettleMs: source.lookupSettleMs } : {}),
  };
}

/**
 * True while a create call for the record may be running: an intent, no job name, and no
 * outcome recorded (a finished attempt leaves a `nextAttemptTime`). A crashed attempt looks the
 * same until its intent times out (planStart); the store counts it as holding a slot till then.
 */
export function hasCreateInFlight(job: JobRecord): boolean {
  return (
    !job.provider.jobName &&
    job.provider.createIntentTime !== undefined &&
    !job.nextAttemptTime &&
    !isTerminal(job.state)
  );
}

/** What a call found to do with a record. */
export type StartPlan =
  | { action: 'claim' }
  | { action: 'recover'; intentTime: string; inFlight: boolean }
  | {
      action: 'skip';
      reason: 'already-started' | 'terminal' | 'awaiting-approval' | 'not-startable' | 'not-due';
    };

/** Decides, from the record alone, whether a caller may claim the start. Pure. */
export function planStart(job: JobRecord, now: Date, intentTimeoutMs = defaultIntentTimeoutMs): StartPlan {
  if (job.provider.jobName) return { action: 'skip', reason: 'already-started' };
  if (isTerminal(job.state)) return { action: 'skip', reason: 'terminal' };
  if (job.state === 'DRAFT' && !job.approval.approveTime)
    return { action: 'skip', reason: 'awaiting-approval' };
  if (job.state !== 'QUEUED' && job.state !== 'DRAFT') return { action: 'skip', reason: 'not-startable' };
  const intentTime = job.provider.createIntentTime;
  if (job.nextAttemptTime && job.nextAttemptTime > now.toISOString())
    return { action: 'skip', reason: 'not-due' };
  if (intentTime) {
    // A finished attempt leaves a nextAttemptTime; a crashed one leaves only an old intent.
    const inFlight = hasCreateInFlight(job) && now.getTime() - Date.parse(intentTime) < intentTimeoutMs;
    return { action: 'recover', intentTime, inFlight };
  }
  return { action: 'claim' };
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/**
 * For a transient create failure: true only when it certainly made no job, i.e. a 429
 * RESOURCE_EXHAUSTED (quota is refused before any work). Everything else leaves it unknown and
 * keeps the intent, so the next attempt looks the label up first: a 5xx can come after Vertex AI
 * created the job (a 503 from a front end whose backend finished), and a timeout or a dropped
 * connection says nothing at all. (Permanent errors never get here: they fail the job.)
 */
export function certainlyNotCreated(error: unknown): boolean {
  if (!(error instanceof ProviderError)) return false;
  return error.httpStatus === 429 && error.status === 'RESOURCE_EXHAUSTED';
}

/** Start attempts that failed for something other than quota: what maxStartAttempts bounds. */
export const errorAttempts = (job: JobRecord) => job.attempts - (job.quotaWaits ?? 0);

export function withoutIntent(provider: JobRecord['provider']): JobRecord['provider'] {
  const { createIntentTime: _dropped, ...rest } = provider;
  return rest;
}

export function withoutNextAttempt(job: JobRecord): JobRecord {
  const { nextAttemptTime: _dropped, ...rest } = job;
  return rest;
}
