/**
 * The local validation `tunedrop submit` runs before it uploads anything: every dataset of the
 * plan against the plan's model, printed the way `tunedrop validate` prints it.
 */
import { stat } from 'node:fs/promises';
import { readFileChunks } from '../../shared/dataset/file-source.ts';
import {
  type DatasetRole,
  type ValidationIssue,
  type ValidationReport,
  validateDataset,
  validationShareWarning,
} from '../../shared/dataset/index.ts';
import type { PreflightContext } from '../../shared/jobs/preflight.ts';
import { type Plan, SubmitFailure, type Upload } from './submit-plan.ts';

const say = (message: string) => console.error(message);

async function validateUpload(
  upload: Upload,
  plan: Plan,
  context: PreflightContext,
): Promise<ValidationReport | string> {
  const { dataset } = upload;
  if (!dataset || !plan.model) throw new Error('not a dataset of a known model');
  let sizeBytes: number;
  try {
    const info = await stat(upload.localPath);
    if (!info.isFile()) return `${upload.localPath} is not a file`;
    sizeBytes = info.size;
  } catch {
    return `${upload.localPath}: no such file (the manifest names it)`;
  }
  return validateDataset(readFileChunks(upload.localPath), {
    model: plan.model,
    unknownModel: plan.unknownModel ?? false,
    catalog: context.catalog,
    strict: plan.strict ?? false,
    role: dataset.role,
    fileName: upload.localPath,
    // As `tunedrop validate`: a large file gets its worker thread from its first block.
    sizeBytes,
  });
}

/** Warnings the way `tunedrop validate` prints them; the dataset is valid. */
function printReportWarnings(file: string, warnings: ValidationIssue[]): void {
  for (const issue of warnings) {
    if (
      ['example_dropped', 'examples_dropped', 'may_exceed_tokens', 'validation_share'].includes(issue.code)
    ) {
      say(`${file}:${issue.line > 0 ? issue.line : ''} warning: ${issue.code} ${issue.message}`);
    }
  }
}

/** Errors the way `tunedrop validate` prints them: `FILE:LINE code message (at PATH)`. */
function printReportErrors(file: string, report: ValidationReport): void {
  for (const issue of report.errors) {
    say(`${file}:${issue.line} ${issue.code} ${issue.message}${issue.path ? ` (at ${issue.path})` : ''}`);
  }
  if (report.errorsOmitted > 0) say(`... and ${report.errorsOmitted} more errors not listed`);
  const count = report.errors.length + report.errorsOmitted;
  say(
    `invalid: ${count} error${count === 1 ? '' : 's'} in ${report.examples} examples for ${report.model} (${report.role})`,
  );
}

function describeValid(file: string, report: ValidationReport): string {
  const cost = report.stats.estimate.cost;
  const estimate = !cost
    ? ''
    : cost.estimatedUsd === null
      ? `, ${cost.basis ?? 'no public price'}`
      : `, about $${cost.estimatedUsd.toFixed(2)} (${cost.basis})`;
  return `valid: ${file}: ${report.examples} examples for ${report.model} (${report.role})${estimate}`;
}

/**
 * Validates every dataset of the plan and prints the plan's problems, each dataset's verdict, the
 * validation share warning and the notes. True when nothing stands in the way of the upload.
 */
export async function validatePlan(plan: Plan, context: PreflightContext): Promise<boolean> {
  let invalid = plan.problems.length > 0;
  for (const problem of plan.problems) say(problem);
  const reports: Partial<Record<DatasetRole, ValidationReport>> = {};
  for (const upload of plan.uploads) {
    // A retired model was reported as a problem: its datasets are not worth validating.
    if (!upload.dataset || !plan.model) continue;
    let report: ValidationReport | string;
    try {
      report = await validateUpload(upload, plan, context);
    } catch (error) {
      throw new SubmitFailure(`cannot read ${upload.localPath}: ${(error as Error).message}`, 2);
    }
    if (typeof report === 'string') {
      say(report);
      invalid = true;
    } else if (!report.valid) {
      printReportErrors(upload.localPath, report);
      invalid = true;
    } else {
      reports[upload.dataset.role] = report;
      printReportWarnings(upload.localPath, report.warnings);
      say(describeValid(upload.localPath, report));
    }
  }
  const share =
    plan.model && reports.training && reports.validation
      ? validationShareWarning(plan.model, reports.training.examples, reports.validation.examples)
      : undefined;
  if (share) say(`warning: ${share.code} ${share.message}`);
  for (const note of plan.notes) say(`note: ${note}`);
  return !invalid;
}
