/**
 * The columns `tunedrop jobs` can show, each a function of the job's public view, and the table
 * and detail layouts. `--fields` picks from these names.
 */
import type { JobView } from './api-client.ts';

const money = (usd: number) => `$${usd < 0.01 && usd > 0 ? usd.toPrecision(2) : usd.toFixed(2)}`;

// Rejected uploads (state REJECTED) are listed too: they have no model, spec, approval or estimate.
export const jobFields: Record<string, (job: JobView) => string> = {
  id: (job) => job.id,
  state: (job) => job.state,
  baseModel: (job) => job.baseModel ?? '',
  createTime: (job) => job.createTime,
  updateTime: (job) => job.updateTime,
  tunedModel: (job) => job.result?.tunedModel ?? '',
  endpoint: (job) => job.result?.endpoint ?? '',
  /** Vertex `tunedModel.checkpoints`: id (epoch/step) → endpoint. */
  checkpoints: (job) =>
    (job.result?.checkpoints ?? [])
      .map(
        (c) =>
          `${c.checkpointId} (epoch ${c.epoch ?? '?'}, step ${c.step ?? '?'})${c.endpoint ? ` ${c.endpoint}` : ''}`,
      )
      .join('; '),
  /** What the provider dropped from the dataset (Vertex tuningDataStats), once it has read it. */
  dropped: (job) => {
    const stats = job.tuningDataStats;
    if (!stats || stats.totalTruncatedExampleCount === undefined) return '';
    const lines = (stats.truncatedExampleIndices ?? [])
      .map(
        (index, n) =>
          `#${index}${stats.droppedExampleReasons?.[n] ? ` ${stats.droppedExampleReasons[n]}` : ''}`,
      )
      .join('; ');
    return `${stats.totalTruncatedExampleCount} of ${stats.tuningDatasetExampleCount ?? '?'}${lines ? `: ${lines}` : ''}`;
  },
  preTunedModel: (job) => job.spec.preTunedModel?.tunedModelName ?? '',
  progress: (job) => {
    const { currentStep, totalSteps } = job.progress ?? {};
    if (currentStep === undefined && totalSteps === undefined) return '';
    return `${currentStep ?? '?'}/${totalSteps ?? '?'}`;
  },
  estimate: (job) => (job.estimate ? money(job.estimate.costUsd) : ''),
  source: (job) => `gs://${job.source.bucket}/${job.source.object}`,
  sourceObject: (job) => job.source.object,
  error: (job) => (job.error ? `${job.error.code}: ${job.error.message}` : ''),
  approvedBy: (job) => job.approval?.approvedBy ?? '',
  providerJob: (job) => job.providerJobName ?? '',
  displayName: (job) => job.spec?.tunedModelDisplayName ?? '',
  labels: (job) =>
    Object.entries(job.spec?.labels ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join(','),
  examples: (job) => String(job.validation?.examples ?? ''),
};

export const defaultListFields = [
  'id',
  'state',
  'baseModel',
  'sourceObject',
  'createTime',
  'progress',
  'estimate',
];
export const defaultDetailFields = [
  'id',
  'state',
  'baseModel',
  'source',
  'createTime',
  'updateTime',
  'approvedBy',
  'providerJob',
  'progress',
  'estimate',
  'tunedModel',
  'endpoint',
  'checkpoints',
  'dropped',
  'error',
];

/** A `--fields` value naming no known column: a usage error. */
export class UnknownFieldError extends Error {
  override readonly name = 'UnknownFieldError';
}

/** Parses `--fields a,b,c`; throws UnknownFieldError naming the unknown ones. */
export function parseFields(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(name in jobFields));
  if (unknown.length > 0 || names.length === 0) {
    throw new UnknownFieldError(
      `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.join(', ') || '(none given)'}; known: ${Object.keys(jobFields).join(', ')}`,
    );
  }
  return names;
}

/** A plain-text table, gcloud style: upper-case headers, columns padded, no borders. */
export function renderTable(jobs: JobView[], fields: string[]): string {
  const header = fields.map((field) => field.replace(/([A-Z])/g, '_$1').toUpperCase());
  const rows = jobs.map((job) => fields.map((field) => jobFields[field]!(job)));
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One job as `field: value` lines, skipping empty values. */
export function renderDetail(job: JobView, fields: string[]): string {
  const width = Math.max(...fields.map((field) => field.length));
  return fields
    .map((field) => [field, jobFields[field]!(job)] as const)
    .filter(([, value]) => value !== '')
    .map(([field, value]) => `${`${field}:`.padEnd(width + 2)}${value}`)
    .join('\n');
}

/** With --json and --fields: only the chosen fields, as rendered strings keyed by name. */
export function pickFields(job: JobView, fields: string[]): Record<string, string> {
  return Object.fromEntries(fields.map((field) => [field, jobFields[field]!(job)]));
}
