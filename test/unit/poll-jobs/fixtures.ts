import { randomBytes } from 'node:crypto';
import { defaultPollSettings, type PollConfig } from '../../../functions/poll-jobs/index.ts';
import type { JobRecord, JobState } from '../../../shared/jobs/index.ts';

/** A valid record id: 32 hex characters, like jobIdFor, and a valid Vertex label value. */
export const newJobId = (): string => randomBytes(16).toString('hex');

export interface RecordOptions {
  id?: string;
  /** createTime, stateTime and (unless given) the intent time. */
  time: Date;
  jobName?: string;
  createIntentTime?: string;
  nextAttemptTime?: string;
  trainingDatasetUri?: string;
  attempts?: number;
}

/** A job record in `state` as the rest of tunedrop would have written it. */
export function recordIn(state: JobState, options: RecordOptions): JobRecord {
  const id = options.id ?? newJobId();
  const time = options.time.toISOString();
  const started = options.jobName !== undefined;
  const provider: JobRecord['provider'] = { name: 'vertex' };
  const intent = options.createIntentTime ?? (started ? time : undefined);
  if (intent) provider.createIntentTime = intent;
  if (options.jobName) provider.jobName = options.jobName;
  const record: JobRecord = {
    id,
    state,
    createTime: time,
    updateTime: time,
    stateTime: time,
    source: { bucket: 'tunedrop-test', object: `incoming/${id}.jsonl`, generation: '1', manifest: false },
    spec: {
      baseModel: 'gemini-3.5-flash',
      trainingDatasetUri: options.trainingDatasetUri ?? 'gs://tunedrop-test/incoming/train.jsonl',
      epochCount: 2,
      labels: {},
    },
    approval: { policy: { mode: 'auto' }, required: false },
    validation: { reportUri: `gs://tunedrop-test/reports/${id}.json`, examples: 20, warnings: 0 },
    provider,
    attempts: options.attempts ?? (started ? 1 : 0),
    stalledNotified: false,
    history: [{ state, time }],
    outbox: [],
  };
  if (options.nextAttemptTime) record.nextAttemptTime = options.nextAttemptTime;
  return record;
}

export function pollConfig(overrides: Partial<PollConfig> = {}): PollConfig {
  return {
    project: 'tunedrop-test',
    deploymentId: 'tunedrop-test',
    maxConcurrentJobs: 10,
    stallTimeoutMs: 60 * 60_000,
    intentGraceMs: defaultPollSettings.intentGraceMs,
    createTimeMarginMs: defaultPollSettings.createTimeMarginMs,
    concurrency: defaultPollSettings.concurrency,
    ...overrides,
  };
}

/** A clock tests move by hand. */
export function manualClock(start = new Date('2025-06-01T12:00:00.000Z')) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    ms: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
