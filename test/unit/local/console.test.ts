import { describe, expect, it } from 'vitest';
import { formatEventLine } from '../../../local/console.ts';

const time = '2026-01-02T03:04:05.000Z';

describe('the local stack event line', () => {
  it('shows a rejected dataset with its first error and where the report is', () => {
    const line = formatEventLine({
      type: 'tunedrop.v1.dataset.rejected',
      subject: '7837b241da36a0188a8a23e3fa15395a',
      time,
      data: {
        source: { object: 'incoming/openai.jsonl' },
        reportUri: 'gs://b/reports/incoming/openai.jsonl.report.json',
        errorCount: 3,
        errors: [{ line: 1, code: 'wrong_format', message: 'Line 1 is in the OpenAI chat format' }],
      },
    });
    expect(line).toContain('dataset.rejected');
    expect(line).toContain('incoming/openai.jsonl');
    expect(line).toContain('3 error(s), first: line 1 Line 1 is in the OpenAI chat format');
    expect(line).toContain('gs://b/reports/incoming/openai.jsonl.report.json');
  });

  it('shows the tuned model of a succeeded job and the estimate of a drafted one', () => {
    const succeeded = formatEventLine({
      type: 'tunedrop.v1.job.succeeded',
      subject: 'abc',
      time,
      data: {
        state: 'SUCCEEDED',
        source: { object: 'incoming/a.jsonl' },
        result: { tunedModel: 'projects/p/models/1' },
      },
    });
    expect(succeeded).toMatch(
      /job\.succeeded\s+abc {2}SUCCEEDED {2}incoming\/a\.jsonl {2}projects\/p\/models\/1$/,
    );
    const drafted = formatEventLine({
      type: 'tunedrop.v1.job.drafted',
      subject: 'abc',
      time,
      data: { state: 'DRAFT', estimate: { costUsd: 12.345 } },
    });
    expect(drafted).toContain('estimate $12.35');
  });

  it('marks a replayed event as a replay, with its original id', () => {
    const event = { type: 'tunedrop.v1.job.succeeded', subject: 'abc', time, data: { state: 'SUCCEEDED' } };
    expect(formatEventLine({ ...event, replay: true })).toMatch(/job\.succeeded \(replay\)\s+abc/);
    expect(formatEventLine(event)).not.toContain('replay');
  });
});
