import { type JobRecord, type JobState, jobIdFor } from '../../../shared/jobs/model.ts';

/** A valid job record in `state`, created at a fixed time; `overrides` replace top-level fields. */
export function jobFixture(state: JobState = 'QUEUED', overrides: Partial<JobRecord> = {}): JobRecord {
  const source = {
    bucket: 'bucket',
    object: `incoming/${overrides.id ?? 'data'}.jsonl`,
    generation: '1',
    manifest: false,
  };
  const time = '2025-01-01T00:00:00.000Z';
  return {
    id: jobIdFor(source),
    state,
    createTime: time,
    updateTime: time,
    stateTime: time,
    source,
    spec: { baseModel: 'gemini-3.5-flash', trainingDatasetUri: `gs://bucket/${source.object}`, labels: {} },
    approval: { policy: { mode: 'auto' }, required: false },
    validation: { reportUri: `gs://bucket/reports/${source.object}.report.json`, examples: 10, warnings: 0 },
    estimate: {
      billableTokens: 1000,
      epochs: 1,
      usdPerMillionTokens: 5,
      costUsd: 0.005,
      method: 'counted',
      priceDate: '2025-01-01',
    },
    provider: { name: 'vertex' },
    attempts: 0,
    stalledNotified: false,
    history: [{ state, time }],
    outbox: [],
    ...overrides,
  };
}
