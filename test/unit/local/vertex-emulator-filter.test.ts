import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../local/vertex-emulator/errors.ts';
import { compileFilter, type FilterSubject } from '../../../local/vertex-emulator/filter.ts';

const job = (overrides: Partial<FilterSubject> = {}): FilterSubject => ({
  name: 'projects/p/locations/l/tuningJobs/1',
  state: 'JOB_STATE_RUNNING',
  labels: { team: 'ml', 'tunedrop-job-id': 'rec-1' },
  createTime: '2026-03-01T12:00:00Z',
  updateTime: '2026-03-01T12:05:00Z',
  ...overrides,
});

const matches = (filter: string, subject = job()) => compileFilter(filter)(subject);

function rejection(filter: string): ApiError {
  try {
    compileFilter(filter);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error(`expected "${filter}" to be rejected`);
}

describe('Vertex emulator list filter', () => {
  it('matches everything when the filter is empty or missing', () => {
    expect(matches('')).toBe(true);
    expect(compileFilter(undefined)(job())).toBe(true);
    expect(compileFilter(null)(job())).toBe(true);
  });

  it('compares a label value with =, quoted or bare', () => {
    expect(matches('labels.team="ml"')).toBe(true);
    expect(matches('labels.team=ml')).toBe(true);
    expect(matches('labels.team="ops"')).toBe(false);
    expect(matches('labels.tunedrop-job-id="rec-1"')).toBe(true);
    expect(matches('labels.missing="ml"')).toBe(false);
  });

  it('unescapes quotes inside a label value, so a value cannot change the filter', () => {
    const subject = job({ labels: { k: 'a" OR labels.x:*' } });
    expect(matches('labels.k="a\\" OR labels.x:*"', subject)).toBe(true);
    expect(matches('labels.k="a\\" OR labels.x:*"')).toBe(false);
  });

  it('tests label presence with :*', () => {
    expect(matches('labels.team:*')).toBe(true);
    expect(matches('labels.owner:*')).toBe(false);
    expect(matches('labels.owner:*', job({ labels: { owner: '' } }))).toBe(true);
  });

  it('compares state with = and !=', () => {
    expect(matches('state="JOB_STATE_RUNNING"')).toBe(true);
    expect(matches('state=JOB_STATE_RUNNING')).toBe(true);
    expect(matches('state="JOB_STATE_SUCCEEDED"')).toBe(false);
    expect(matches('state!="JOB_STATE_SUCCEEDED"')).toBe(true);
    expect(matches('state!="JOB_STATE_RUNNING"')).toBe(false);
  });

  it('compares create_time with =, !=, <, <=, > and >= as instants, in either spelling', () => {
    expect(matches('create_time="2026-03-01T12:00:00Z"')).toBe(true);
    expect(matches('create_time="2026-03-01T13:00:00+01:00"')).toBe(true);
    expect(matches('create_time!="2026-03-01T12:00:00Z"')).toBe(false);
    expect(matches('create_time<"2026-03-01T12:00:01Z"')).toBe(true);
    expect(matches('create_time<"2026-03-01T12:00:00Z"')).toBe(false);
    expect(matches('create_time<="2026-03-01T12:00:00Z"')).toBe(true);
    expect(matches('create_time>"2026-03-01T12:00:00Z"')).toBe(false);
    expect(matches('create_time>"2026-03-01T11:59:59Z"')).toBe(true);
    expect(matches('create_time>="2026-03-01T12:00:00Z"')).toBe(true);
    expect(matches('createTime>="2026-03-02T00:00:00Z"')).toBe(false);
  });

  it('combines restrictions with AND, juxtaposition, OR and NOT', () => {
    expect(matches('labels.team="ml" AND state="JOB_STATE_RUNNING"')).toBe(true);
    expect(matches('labels.team="ml" AND state="JOB_STATE_FAILED"')).toBe(false);
    expect(matches('labels.team="ml" state="JOB_STATE_FAILED"')).toBe(false);
    expect(matches('labels.team="ops" OR state="JOB_STATE_RUNNING"')).toBe(true);
    expect(matches('labels.team="ops" OR state="JOB_STATE_FAILED"')).toBe(false);
    expect(matches('NOT labels.team="ops"')).toBe(true);
    expect(matches('NOT labels.team:*')).toBe(false);
  });

  it('binds AND tighter than OR, and parentheses override it', () => {
    // true OR (false AND false) = true; (true OR false) AND false = false.
    expect(matches('state="JOB_STATE_RUNNING" OR labels.team="ops" AND labels.x:*')).toBe(true);
    expect(matches('(state="JOB_STATE_RUNNING" OR labels.team="ops") AND labels.x:*')).toBe(false);
    expect(matches('NOT (labels.team="ml" AND state="JOB_STATE_RUNNING")')).toBe(false);
  });

  it.each([
    ['state==(', 'a malformed comparison'],
    ['(labels.team="ml"', 'a missing closing parenthesis'],
    ['labels.team="ml', 'an unterminated string'],
    ['labels.team', 'a field without a comparison'],
    ['AND state="JOB_STATE_RUNNING"', 'a dangling operator'],
    ['state="JOB_STATE_RUNNING")', 'trailing input'],
    ['create_time>"yesterday"', 'a time that is not RFC 3339'],
    ['display_name="x"', 'a field tuningJobs does not filter on'],
    ['update_time>"2026-01-01T00:00:00Z"', 'an undocumented time field'],
    ['state:"JOB_STATE_RUNNING"', 'the has operator on state'],
    ['state<"JOB_STATE_RUNNING"', 'an ordering on state'],
    ['labels.team!="ml"', 'an undocumented label comparison'],
    ['labels.team<"ml"', 'an ordering on a label'],
  ])('rejects %s (%s) with 400 INVALID_ARGUMENT', (filter) => {
    const error = rejection(filter);
    expect(error.httpStatus).toBe(400);
    expect(error.status).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('Invalid filter');
  });
});

describe('Vertex emulator list filter modes (--list-filter)', () => {
  const reject = (filter: string, mode: 'state-only' | 'none') => {
    try {
      compileFilter(filter, mode);
    } catch (error) {
      if (error instanceof ApiError) return error;
      throw error;
    }
    throw new Error(`expected "${filter}" to be rejected in ${mode} mode`);
  };

  it('state-only honours state restrictions with AND, OR and NOT', () => {
    expect(compileFilter('state="JOB_STATE_RUNNING"', 'state-only')(job())).toBe(true);
    expect(
      compileFilter('state=JOB_STATE_SUCCEEDED OR NOT state=JOB_STATE_RUNNING', 'state-only')(job()),
    ).toBe(false);
    expect(compileFilter('', 'state-only')(job())).toBe(true);
  });

  it('state-only answers a label or creation-time restriction with 400 INVALID_ARGUMENT', () => {
    for (const filter of [
      'labels.team="ml"',
      'state=JOB_STATE_RUNNING AND create_time>"2026-01-01T00:00:00Z"',
    ]) {
      const error = reject(filter, 'state-only');
      expect(error.httpStatus).toBe(400);
      expect(error.status).toBe('INVALID_ARGUMENT');
    }
  });

  it('none answers any filter with 400 INVALID_ARGUMENT and lists everything without one', () => {
    const error = reject('state="JOB_STATE_RUNNING"', 'none');
    expect(error.httpStatus).toBe(400);
    expect(error.status).toBe('INVALID_ARGUMENT');
    expect(compileFilter('', 'none')(job())).toBe(true);
    expect(compileFilter('  ', 'none')(job())).toBe(true);
    expect(compileFilter(undefined, 'none')(job())).toBe(true);
  });
});
