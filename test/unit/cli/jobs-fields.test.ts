import { describe, expect, it } from 'vitest';
import type { JobView } from '../../../cli/lib/api-client.ts';
import { parseFields, renderDetail, renderTable, UnknownFieldError } from '../../../cli/lib/job-fields.ts';

const job = (overrides: Partial<JobView> = {}): JobView =>
  ({
    id: 'abc',
    state: 'RUNNING',
    createTime: '2030-01-01T00:00:00.000Z',
    updateTime: '2030-01-01T00:01:00.000Z',
    source: { bucket: 'b', object: 'incoming/a.jsonl', generation: '1', manifest: false },
    baseModel: 'gemini-3.5-flash',
    spec: {
      baseModel: 'gemini-3.5-flash',
      trainingDatasetUri: 'gs://b/incoming/a.jsonl',
      labels: { team: 'x' },
    },
    approval: { policy: { mode: 'auto' }, required: false },
    validation: { reportUri: 'gs://b/reports/a', examples: 3, warnings: 0 },
    history: [],
    progress: { currentStep: 5, totalSteps: 20 },
    estimate: {
      billableTokens: 1,
      epochs: 1,
      usdPerMillionTokens: 1,
      costUsd: 1.5,
      method: 'heuristic',
      priceDate: '2025-01-01',
    },
    ...overrides,
  }) as JobView;

describe('job fields', () => {
  it('rejects unknown field names, naming them', () => {
    expect(() => parseFields('id,colour', [])).toThrow(UnknownFieldError);
    expect(() => parseFields('id,colour', [])).toThrow(/colour/);
    expect(() => parseFields(',', [])).toThrow(UnknownFieldError);
  });

  it('renders a padded table with upper-case snake headers', () => {
    const table = renderTable(
      [job(), job({ id: 'longer-id', state: 'PENDING', progress: undefined })],
      ['id', 'state', 'progress', 'estimate', 'baseModel'],
    );
    expect(table.split('\n')).toEqual([
      'ID         STATE    PROGRESS  ESTIMATE  BASE_MODEL',
      'abc        RUNNING  5/20      $1.50     gemini-3.5-flash',
      'longer-id  PENDING            $1.50     gemini-3.5-flash',
    ]);
  });

  it('renders one job as field: value lines, leaving out empty ones', () => {
    expect(renderDetail(job(), ['id', 'tunedModel', 'labels', 'source']).split('\n')).toEqual([
      'id:         abc',
      'labels:     team=x',
      'source:     gs://b/incoming/a.jsonl',
    ]);
  });
});
