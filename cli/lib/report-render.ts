/**
 * `tunedrop jobs report ID` for a person: the report ingest wrote for the upload (its verdict,
 * problems with the settings, notes), then per dataset the first errors with line and field,
 * warnings grouped by kind, a histogram of tokens per example, and the cost estimate with its
 * basis. The report is read through zod; one this version does not know is shown as JSON.
 */
import { z } from 'zod';
import {
  fieldName,
  type ValidationIssue,
  type ValidationReport,
  ValidationReportSchema,
} from '../../shared/dataset/index.ts';

const IngestReportView = z.looseObject({
  status: z.enum(['accepted', 'rejected', 'waiting']),
  kind: z.string(),
  object: z.string(),
  generation: z.string(),
  jobId: z.string().optional(),
  time: z.string().optional(),
  problems: z.array(z.string()).default([]),
  notes: z.array(z.string()).default([]),
  approval: z.looseObject({ policy: z.looseObject({ mode: z.string() }), required: z.boolean() }).optional(),
  missing: z.array(z.string()).optional(),
  datasets: z
    .object({
      training: ValidationReportSchema.extend({ uri: z.string().optional() }).optional(),
      validation: ValidationReportSchema.extend({ uri: z.string().optional() }).optional(),
    })
    .default({}),
});

export interface RenderOptions {
  jobId: string;
  /** Errors listed per dataset. */
  errors: number;
}

const number = new Intl.NumberFormat('en-US');
const fmt = (value: number) => number.format(Math.round(value));
const usd = (value: number) => `$${value < 0.01 && value > 0 ? value.toPrecision(2) : value.toFixed(2)}`;
const plural = (count: number, word: string) => `${fmt(count)} ${word}${count === 1 ? '' : 's'}`;

/** The message, led by the field it is about unless it names that field already. */
function named(issue: ValidationIssue): string {
  const field = fieldName(issue.path);
  return !field || issue.message.includes(field) ? issue.message : `${field}: ${issue.message}`;
}

function issueLine(issue: ValidationIssue): string {
  const where = issue.line > 0 ? `line ${issue.line}` : 'file';
  return `    ${where.padEnd(11)} ${named(issue)} [${issue.code}]`;
}

/** Warnings of one kind together: the count, the first message, and a few of their lines. */
function groupedWarnings(warnings: ValidationIssue[], omitted: number): string[] {
  const groups = new Map<string, ValidationIssue[]>();
  for (const warning of warnings) groups.set(warning.code, [...(groups.get(warning.code) ?? []), warning]);
  const lines = [...groups.entries()].map(([code, items]) => {
    const where = items.filter((item) => item.line > 0).map((item) => item.line);
    const shown = where.slice(0, 5).join(', ');
    const at =
      where.length === 0
        ? ''
        : ` (line${where.length === 1 ? '' : 's'} ${shown}${where.length > 5 ? ', ...' : ''})`;
    return `    ${code} ×${items.length}${at}: ${named(items[0]!)}`;
  });
  if (omitted > 0) lines.push(`    ... and ${plural(omitted, 'more warning')} not listed`);
  return lines;
}

const barWidth = 30;

function histogram(report: ValidationReport): string[] {
  const tokens = report.stats.tokens;
  const out = [
    `  tokens/ex   min ${fmt(tokens.min)}, p50 ${fmt(tokens.p50)}, p95 ${fmt(tokens.p95)}, max ${fmt(tokens.max)}, mean ${fmt(tokens.mean)} (${tokens.method}; limit ${fmt(tokens.limit)} per example)`,
  ];
  const bins = tokens.histogram ?? [];
  if (bins.length === 0) return out;
  const most = Math.max(...bins.map((bin) => bin.count));
  const labels = bins.map((bin) => `${fmt(bin.from)}-${fmt(bin.to - 1)}`);
  const width = Math.max(...labels.map((label) => label.length));
  bins.forEach((bin, index) => {
    const bar = bin.count === 0 ? '' : '#'.repeat(Math.max(1, Math.round((bin.count / most) * barWidth)));
    out.push(`    ${labels[index]!.padStart(width)} tokens  ${bar.padEnd(barWidth)}  ${fmt(bin.count)}`);
  });
  return out;
}

function estimate(report: ValidationReport): string[] {
  const tokens = report.stats.estimate.tokens;
  const basis =
    tokens.method === 'sampled'
      ? `${tokens.tokensPerByte.toFixed(3)} tokens/byte measured on ${plural(tokens.sampleSize, 'example')}`
      : `${tokens.tokensPerByte.toFixed(3)} tokens/byte, a heuristic ratio`;
  const out = [
    `  tokens      about ${fmt(tokens.estimated)} (${basis}); at most ${fmt(tokens.upperBound)} (bound)`,
  ];
  const cost = report.stats.estimate.cost;
  if (!cost) {
    out.push('  cost        none: a validation set is not billed as training tokens');
    return out;
  }
  const epochs = `${plural(cost.epochs, 'epoch')}${cost.epochsSource === 'model-default' ? ` (${cost.model}'s default)` : ''}`;
  if (
    cost.estimatedUsd === null ||
    cost.upperBoundUsd === null ||
    cost.pricePerMillionTrainingTokens === null
  ) {
    out.push(
      `  cost        no public tuning price for ${cost.model}: ${fmt(cost.billableTokens.estimated * cost.epochs)} training tokens over ${epochs}`,
    );
    return out;
  }
  out.push(
    `  cost        about ${usd(cost.estimatedUsd)}, at most ${usd(cost.upperBoundUsd)}`,
    `  basis       ${fmt(cost.billableTokens.estimated)} billable tokens × ${epochs} × ${usd(cost.pricePerMillionTrainingTokens)} per 1M training tokens (prices of ${cost.pricesTakenOn}, ${cost.priceSource})`,
  );
  return out;
}

function dataset(role: string, report: ValidationReport & { uri?: string }, errorsShown: number): string[] {
  const errorCount = report.errors.length + report.errorsOmitted;
  const warningCount = report.warnings.length + report.warningsOmitted;
  const out = [
    '',
    `${role} dataset ${report.uri ?? report.file ?? ''}`.trimEnd(),
    `  verdict     ${report.valid ? 'valid' : `invalid: ${plural(errorCount, 'error')}`}; ${plural(report.examples, 'example')} (${fmt(report.stats.validExamples)} valid), ${plural(warningCount, 'warning')}, for ${report.model}`,
  ];
  if (errorCount > 0) {
    const shown = report.errors.slice(0, errorsShown);
    out.push(`  errors${shown.length < errorCount ? ` (first ${shown.length} of ${fmt(errorCount)})` : ''}:`);
    out.push(...shown.map(issueLine));
  }
  if (warningCount > 0) {
    out.push('  warnings:');
    out.push(...groupedWarnings(report.warnings, report.warningsOmitted));
  }
  if (report.stats.validExamples > 0) out.push(...histogram(report));
  out.push(...estimate(report));
  return out;
}

export function renderReport(raw: unknown, options: RenderOptions): string {
  const parsed = IngestReportView.safeParse(raw);
  if (!parsed.success) {
    return `The report of job ${options.jobId} is in a format this tunedrop does not know; as stored:\n${JSON.stringify(raw, null, 2)}`;
  }
  const report = parsed.data;
  const verdict = {
    accepted: `accepted: job ${report.jobId ?? options.jobId}${report.approval?.required ? ' (waits for approval)' : ''}`,
    rejected: 'rejected: no job was started',
    waiting: `waiting for ${plural(report.missing?.length ?? 0, 'dataset')} the manifest names`,
  }[report.status];
  const out = [
    `Report of ${report.object} (generation ${report.generation}${report.time ? `, ${report.time}` : ''})`,
    `  verdict     ${verdict}`,
  ];
  if (report.problems.length > 0) {
    out.push('  problems:');
    out.push(...report.problems.map((problem) => `    ${problem}`));
  }
  if (report.notes.length > 0) {
    out.push('  notes:');
    out.push(...report.notes.map((note) => `    ${note}`));
  }
  for (const missing of report.missing ?? []) out.push(`  missing     ${missing}`);
  if (report.datasets.training) out.push(...dataset('training', report.datasets.training, options.errors));
  if (report.datasets.validation)
    out.push(...dataset('validation', report.datasets.validation, options.errors));
  return out.join('\n');
}
