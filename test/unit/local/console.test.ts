import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createFunctionLogSink,
  formatDeadLetterLine,
  formatEventLine,
  formatLogLine,
} from '../../../local/console.ts';

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
    expect(line).toContain('3 error(s), first: line 1: Line 1 is in the OpenAI chat format');
    expect(line).toContain('gs://b/reports/incoming/openai.jsonl.report.json');
    // In the local stack, the report is where it really is: a file in the bucket folder.
    const local = formatEventLine(
      {
        type: 'tunedrop.v1.dataset.rejected',
        subject: 'x',
        time,
        data: {
          source: { object: 'incoming/a.jsonl' },
          reportUri: 'gs://b/reports/incoming/a.jsonl.report.json',
          errorCount: 1,
          errors: [{ line: 4, field: '/contents/0/role', code: 'first_role', message: 'must be user' }],
        },
      },
      { bucket: 'b', bucketDir: '/work/bucket' },
    );
    expect(local).toContain(
      '1 error(s), first: line 4, /contents/0/role: must be user (report: /work/bucket/reports/incoming/a.jsonl.report.json)',
    );
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

  it('says why a drafted job waits for approval', () => {
    const line = formatEventLine({
      type: 'tunedrop.v1.job.drafted',
      subject: 'abc',
      time,
      data: {
        state: 'DRAFT',
        source: { object: 'incoming/big.jsonl' },
        estimate: { costUsd: 80 },
        approval: {
          reason: 'estimate $80.00 is above TUNEDROP_AUTO_APPROVE_MAX_USD ($50.00): approve it to start',
        },
      },
    });
    expect(line).toMatch(
      /DRAFT {2}incoming\/big\.jsonl {2}estimate \$80\.00 {2}approval needed: estimate \$80\.00 is above TUNEDROP_AUTO_APPROVE_MAX_USD/,
    );
  });

  it('marks a replayed event as a replay, with its original id', () => {
    const event = { type: 'tunedrop.v1.job.succeeded', subject: 'abc', time, data: { state: 'SUCCEEDED' } };
    expect(formatEventLine({ ...event, replay: true })).toMatch(/job\.succeeded \(replay\)\s+abc/);
    expect(formatEventLine(event)).not.toContain('replay');
  });
});

describe('the local stack console and log files', () => {
  let dir: string;
  const at = new Date('2026-12-03T08:00:00.000Z');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tunedrop-console-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const failure = (attempt: number) =>
    JSON.stringify({
      severity: 'WARNING',
      message: 'webhook delivery to 127.0.0.1:9/hook failed: ECONNREFUSED; Pub/Sub redelivers the event',
      component: 'deliver-webhooks',
      endpoint: '127.0.0.1:9/hook',
      reason: 'network',
      attempt,
    });

  it('timestamps every line in the log files, JSON or plain', () => {
    const sink = createFunctionLogSink(dir, () => at);
    sink('api', JSON.stringify({ severity: 'INFO', message: 'hello' }));
    sink('api', 'Serving function...');
    const [json, plain] = readFileSync(join(dir, 'api.log'), 'utf8').trim().split('\n');
    expect(JSON.parse(json!)).toEqual({ time: at.toISOString(), severity: 'INFO', message: 'hello' });
    expect(plain).toBe(`${at.toISOString()} Serving function...`);
  });

  it('says once that a webhook is failing, not at every attempt, and when it delivers again', () => {
    const sink = createFunctionLogSink(dir, () => at);
    const shown = [1, 2, 3, 4, 5].map((attempt) => sink('deliverWebhooks', failure(attempt)));
    expect(shown.filter(Boolean)).toHaveLength(1);
    expect(shown[0]).toMatch(
      /^\d\d:\d\d:\d\d {2}deliverWebhooks: webhook 127\.0\.0\.1:9\/hook is failing \(ECONNREFUSED/,
    );
    const delivered = JSON.stringify({
      severity: 'INFO',
      message: 'webhook delivered to 127.0.0.1:9/hook',
      component: 'deliver-webhooks',
      endpoint: '127.0.0.1:9/hook',
    });
    expect(sink('deliverWebhooks', delivered)).toContain('webhook 127.0.0.1:9/hook delivers again');
    expect(sink('deliverWebhooks', delivered)).toBeUndefined();
    // Every attempt is in the file.
    expect(readFileSync(join(dir, 'deliverWebhooks.log'), 'utf8').trim().split('\n')).toHaveLength(7);
  });

  it('leaves a rejection to its event line, and shows other warnings once with their time', () => {
    const sink = createFunctionLogSink(dir, () => at);
    const rejected = JSON.stringify({
      severity: 'WARNING',
      message: 'rejected incoming/a.jsonl: 2 error(s), see gs://b/reports/incoming/a.jsonl.report.json',
      component: 'ingest-dataset',
      reportUri: 'gs://b/reports/incoming/a.jsonl.report.json',
    });
    expect(sink('ingestDataset', rejected)).toBeUndefined();
    const other = JSON.stringify({ severity: 'WARNING', message: 'something odd', component: 'poll-jobs' });
    expect(sink('pollJobs', other)).toMatch(/^\d\d:\d\d:\d\d {2}pollJobs: WARNING something odd$/);
  });

  it('tells a dead-lettered webhook event with the command that replays it', () => {
    const line = formatDeadLetterLine(
      { id: 'j1.v1.job.succeeded', type: 'tunedrop.v1.job.succeeded', subject: 'j1' },
      'http://127.0.0.1:8084',
      at,
    );
    expect(line).toContain('webhook gave up on job.succeeded of job j1 (event j1.v1.job.succeeded)');
    expect(line).toContain('npx tunedrop jobs replay j1 --api http://127.0.0.1:8084');
  });

  it('shows the stack’s own warnings with their time and the error message, never a stack', () => {
    const line = formatLogLine(
      JSON.stringify({
        severity: 'WARNING',
        message: 'ingest unreachable; retrying like Eventarc',
        object: 'incoming/a.jsonl',
        error: {
          name: 'TypeError',
          message: 'fetch failed',
          stack: 'TypeError: fetch failed\n    at x (/a.ts:1:1)',
        },
      }),
      at,
    );
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d {2}WARNING ingest unreachable; retrying like Eventarc \(incoming\/a\.jsonl\): fetch failed$/,
    );
  });
});
