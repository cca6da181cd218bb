import { describe, expect, it } from 'vitest';
import { jobStates } from '../../../../shared/jobs/model.ts';
import {
  yandexStatesFor,
  yandexStateTable,
  yandexToJobState,
  yandexTuningStates,
} from '../../../../shared/providers/index.ts';

describe('Yandex tuning state table', () => {
  it.each([
    ['STATUS_UNSPECIFIED', 'PENDING'],
    ['CREATED', 'PENDING'],
    ['PENDING', 'PENDING'],
    ['IN_PROGRESS', 'RUNNING'],
    ['COMPLETED', 'SUCCEEDED'],
    ['FAILED', 'FAILED'],
    ['CANCELED', 'CANCELLED'],
    ['DRAFT', 'DRAFT'],
    ['ARCHIVED', 'EXPIRED'],
    ['PAID', 'PENDING'],
  ] as const)('maps %s to %s', (yandexState, expected) => {
    expect(yandexToJobState(yandexState)).toBe(expected);
    expect(jobStates).toContain(expected);
  });

  it('has exactly one row for every Yandex status, including the nine of DESIGN.md', () => {
    expect(Object.keys(yandexStateTable).sort()).toEqual([...yandexTuningStates].sort());
    for (const state of [
      'CREATED',
      'PENDING',
      'IN_PROGRESS',
      'COMPLETED',
      'FAILED',
      'CANCELED',
      'DRAFT',
      'ARCHIVED',
      'PAID',
    ]) {
      expect(yandexTuningStates).toContain(state);
    }
  });

  it.each(['STATUS_UNSPECIFIED', 'CREATED', 'DRAFT', 'ARCHIVED', 'PAID'] as const)(
    'documents why %s maps the way it does',
    (yandexState) => {
      expect(yandexStateTable[yandexState].reason?.length ?? 0).toBeGreaterThan(20);
    },
  );

  it('treats an unknown or missing status like STATUS_UNSPECIFIED', () => {
    expect(yandexToJobState('SOMETHING_NEW')).toBe('PENDING');
    expect(yandexToJobState(undefined)).toBe('PENDING');
  });

  it('inverts the table for filters', () => {
    expect(yandexStatesFor(['RUNNING'])).toEqual(['IN_PROGRESS']);
    expect(yandexStatesFor(['SUCCEEDED', 'EXPIRED'])).toEqual(['COMPLETED', 'ARCHIVED']);
    expect(yandexStatesFor(['QUEUED'])).toEqual([]);
  });
});
