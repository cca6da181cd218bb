import { describe, expect, it } from 'vitest';
import { jobStates } from '../../../../shared/jobs/model.ts';
import {
  toJobState,
  vertexJobStates,
  vertexStatesFor,
  vertexStateTable,
} from '../../../../shared/providers/vertex/index.ts';

describe('Vertex job state table', () => {
  it.each([
    ['JOB_STATE_UNSPECIFIED', 'PENDING'],
    ['JOB_STATE_QUEUED', 'PENDING'],
    ['JOB_STATE_PENDING', 'PENDING'],
    ['JOB_STATE_RUNNING', 'RUNNING'],
    ['JOB_STATE_SUCCEEDED', 'SUCCEEDED'],
    ['JOB_STATE_FAILED', 'FAILED'],
    ['JOB_STATE_CANCELLING', 'CANCELLING'],
    ['JOB_STATE_CANCELLED', 'CANCELLED'],
    ['JOB_STATE_PAUSED', 'RUNNING'],
    ['JOB_STATE_EXPIRED', 'EXPIRED'],
    ['JOB_STATE_UPDATING', 'RUNNING'],
    ['JOB_STATE_PARTIALLY_SUCCEEDED', 'SUCCEEDED'],
  ] as const)('maps %s to %s', (vertexState, expected) => {
    expect(toJobState(vertexState)).toBe(expected);
    expect(jobStates).toContain(expected);
  });

  it('has exactly one row for every Vertex state', () => {
    expect(Object.keys(vertexStateTable).sort()).toEqual([...vertexJobStates].sort());
  });

  it.each([
    'JOB_STATE_UNSPECIFIED',
    'JOB_STATE_QUEUED',
    'JOB_STATE_PAUSED',
    'JOB_STATE_UPDATING',
    'JOB_STATE_PARTIALLY_SUCCEEDED',
  ] as const)('documents why %s maps the way it does', (vertexState) => {
    expect(vertexStateTable[vertexState].reason?.length ?? 0).toBeGreaterThan(20);
  });

  it('treats a state it does not know (a newer API) like JOB_STATE_UNSPECIFIED', () => {
    expect(toJobState('JOB_STATE_SOMETHING_NEW')).toBe(toJobState('JOB_STATE_UNSPECIFIED'));
    expect(toJobState(undefined)).toBe('PENDING');
  });

  it('inverts the table for list filters', () => {
    expect(vertexStatesFor(['RUNNING'])).toEqual([
      'JOB_STATE_RUNNING',
      'JOB_STATE_PAUSED',
      'JOB_STATE_UPDATING',
    ]);
    expect(vertexStatesFor(['DRAFT', 'QUEUED'])).toEqual([]);
  });
});
