import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localPathOf, withLocalReportPath } from '../../../cli/lib/local-paths.ts';
import { formatEventLine } from '../../../local/console.ts';

const rejected = {
  type: 'tunedrop.v1.dataset.rejected',
  subject: 'aea9839eef25aea9839eef25aea9839e',
  time: '2026-12-03T13:28:47.000Z',
  data: {
    object: 'incoming/support.jsonl',
    errorCount: 2,
    errors: [{ line: 12, message: 'Unknown field `temperature` in contents[0]' }],
    reportUri: 'gs://tunedrop-local/reports/incoming/support.jsonl.report.json',
  },
};

describe('local report paths on the console', () => {
  it('shows the report as a path in the bucket folder, not a gs:// URI', () => {
    const line = formatEventLine(withLocalReportPath(rejected, '.tunedrop/bucket'));
    expect(line).toContain(
      `(report: ${join('.tunedrop/bucket/reports/incoming/support.jsonl.report.json')})`,
    );
    expect(line).not.toContain('gs://');
    // The event itself is left as published.
    expect(rejected.data.reportUri).toMatch(/^gs:\/\//);
  });

  it('gives an absolute path outside the current folder, and leaves other buckets alone', () => {
    expect(localPathOf('gs://tunedrop-local/reports/a.json', '/var/tmp/bucket')).toBe(
      resolve('/var/tmp/bucket/reports/a.json'),
    );
    expect(localPathOf('gs://elsewhere/reports/a.json', '.tunedrop/bucket')).toBe(
      'gs://elsewhere/reports/a.json',
    );
    const job = { type: 'tunedrop.v1.job.started', data: { state: 'PENDING' } };
    expect(withLocalReportPath(job, '.tunedrop/bucket')).toBe(job);
  });
});
