import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../cli/lib/report-render.ts';
import { line, model, user, validate } from '../dataset/helpers.ts';

const base = {
  reportFormatVersion: 1,
  kind: 'manifest',
  object: 'incoming/run-7/tuning.json',
  generation: '1733000000000000',
  jobId: 'aea9839eef25aea9839eef25aea9839e',
  time: '2026-12-03T09:00:00.000Z',
  problems: [],
  notes: [],
  datasets: {},
};

describe('jobs report, for a person', () => {
  it('says a job waits for approval, and shows settings problems and missing datasets', () => {
    const accepted = renderReport(
      { ...base, status: 'accepted', approval: { policy: { mode: 'manual' }, required: true } },
      { jobId: base.jobId, errors: 10 },
    );
    expect(accepted).toMatch(
      /verdict\s+accepted: job aea9839eef25aea9839eef25aea9839e \(waits for approval\)/,
    );

    const waiting = renderReport(
      { ...base, status: 'waiting', missing: ['gs://b/incoming/run-7/val.jsonl'] },
      { jobId: base.jobId, errors: 10 },
    );
    expect(waiting).toMatch(/verdict\s+waiting for 1 dataset the manifest names/);
    expect(waiting).toMatch(/missing\s+gs:\/\/b\/incoming\/run-7\/val.jsonl/);

    const rejected = renderReport(
      { ...base, status: 'rejected', problems: ['/epochCount: must be a positive integer'] },
      { jobId: base.jobId, errors: 10 },
    );
    expect(rejected).toContain('rejected: no job was started');
    expect(rejected).toContain('    /epochCount: must be a positive integer');
  });

  it('lists only the first errors, counts the rest, and groups warnings by kind', async () => {
    const bad = { contents: [model('a'), user('b'), model('c')] };
    const blankAndBad = `${line({ contents: [user('a'), model('b')] })}\n\n${Array.from({ length: 5 }, () => line(bad)).join('\n')}\n\n`;
    const report = await validate(blankAndBad);
    const text = renderReport(
      { ...base, status: 'rejected', datasets: { training: { ...report, uri: 'gs://b/incoming/x.jsonl' } } },
      { jobId: base.jobId, errors: 2 },
    );
    expect(text).toContain('training dataset gs://b/incoming/x.jsonl');
    expect(text).toContain('errors (first 2 of 5):');
    expect(text.match(/\[first_role\]/g)).toHaveLength(2);
    expect(text).toMatch(/blank_line ×2 \(lines 2, 8\)/);
    expect(text).toMatch(/few_examples ×1: /);
  });

  it('shows a report it does not know as JSON rather than guessing', () => {
    const text = renderReport({ something: 'else' }, { jobId: 'x'.repeat(32), errors: 10 });
    expect(text).toContain('in a format this tunedrop does not know');
    expect(text).toContain('"something": "else"');
  });
});
