import { stat } from 'node:fs/promises';
// The validator's own modules, not the dataset and models indexes: those also export zod schemas
// (reports, catalog), and loading zod would cost this command ~60–80 ms at every start.
import { readFileChunks } from '../../shared/dataset/file-source.ts';
import type { ValidationIssue, ValidationReport } from '../../shared/dataset/index.ts';
import { validateDataset } from '../../shared/dataset/validate.ts';
import { type Catalog, findCatalogModel, todayUtc } from '../../shared/models/runtime.ts';
import { loadCliCatalog } from '../lib/model-catalog.ts';
import { parseCommandArgs, printUsageError } from '../lib/usage.ts';
import type { Command } from './index.ts';

export const DEFAULT_MODEL = 'gemini-3.5-flash';
export const DEFAULT_YANDEX_MODEL = 'yandexgpt-lite';

const USAGE = `Usage: tunedrop validate FILE [options]

Validates a tuning dataset (JSON Lines) the way its provider will: Gemini \`contents\` for
Vertex AI, {"request", "response"} for Yandex AI Studio (the model, or --provider, decides).

Options:
  --provider NAME        vertex (default) or yandex: picks the default model (yandexgpt-lite for yandex)
  --model ID             base model (default ${DEFAULT_MODEL}); \`tunedrop models\` lists the
                         catalog. A retired model is an error; an unknown one a warning (checked
                         with conservative limits). TUNEDROP_MODEL_CATALOG adds an override.
  --role ROLE            training (default) or validation: which limits apply
  --strict               an example Vertex AI would drop (over the token limit) is an error, not
                         a warning (by default the dataset fails only above 10% dropped)
  --epochs N             epochs for the cost estimate (default: the model's default; Vertex AI
                         only: Yandex has no epochs)
  --max-errors N         errors listed before the rest are only counted (default 100)
  --sample N             count N examples with the tokenizer to calibrate the estimate
                         (default 0: a heuristic ratio; loads a ~100 MB tokenizer when > 0)
  --json                 print the report as JSON on stdout, nothing else

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.`;

// A progress bar only pays for itself on files that take more than a moment.
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

const usageError = (message: string) => printUsageError('tunedrop validate', message, USAGE);

function positiveInt(value: string | undefined, name: string, allowZero = false): number | undefined | Error {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < (allowZero ? 0 : 1)) {
    return new Error(
      `--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${value}"`,
    );
  }
  return parsed;
}

export const validate: Command = {
  async run(args) {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(args);
    } catch (error) {
      return usageError((error as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length === 0) return usageError('missing FILE');
    if (positionals.length > 1) return usageError(`unexpected argument "${positionals[1]}": give one FILE`);
    const file = positionals[0]!;
    const provider = values.provider;
    if (provider !== undefined && provider !== 'vertex' && provider !== 'yandex') {
      return usageError(`--provider must be vertex or yandex, got "${provider}"`);
    }
    const modelId = values.model ?? (provider === 'yandex' ? DEFAULT_YANDEX_MODEL : DEFAULT_MODEL);
    const role = values.role ?? 'training';
    if (role !== 'training' && role !== 'validation') {
      return usageError(`--role must be training or validation, got "${role}"`);
    }
    const epochs = positiveInt(values.epochs, 'epochs');
    const maxErrors = positiveInt(values['max-errors'], 'max-errors');
    const sample = positiveInt(values.sample, 'sample', true);
    for (const value of [epochs, maxErrors, sample])
      if (value instanceof Error) return usageError(value.message);

    let catalog: Catalog;
    try {
      catalog = await loadCliCatalog(process.env);
    } catch (error) {
      return ioError((error as Error).message);
    }
    const known = findCatalogModel(catalog, modelId);
    if (provider && known && known.provider !== provider) {
      return usageError(`model ${known.id} is a ${known.provider} model, not ${provider}`);
    }
    // What applies to the job's provider only: Yandex has no epochs (its size control is n_samples).
    const yandex = (known?.provider ?? provider) === 'yandex';
    if (yandex && epochs !== undefined) {
      return usageError('--epochs does not apply to Yandex AI Studio models (Yandex has no epochs)');
    }

    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) return ioError(`${file} is not a file`);
      size = info.size;
    } catch (error) {
      return ioError(`cannot read ${file}: ${(error as Error).message}`);
    }

    const progress = process.stderr.isTTY && size >= PROGRESS_MIN_BYTES ? progressBar(size) : undefined;
    let report: ValidationReport;
    try {
      report = await validateDataset(readFileChunks(file), {
        model: modelId,
        catalog,
        today: todayUtc(),
        strict: values.strict ?? false,
        role,
        fileName: file,
        sizeBytes: size,
        ...(typeof epochs === 'number' ? { epochs } : {}),
        ...(typeof maxErrors === 'number' ? { maxErrors } : {}),
        ...(typeof sample === 'number' ? { tokenSample: sample } : {}),
        ...(progress ? { onProgress: progress.update } : {}),
      });
    } catch (error) {
      progress?.done();
      return ioError(`cannot read ${file}: ${(error as Error).message}`);
    }
    progress?.done();

    if (values.json) console.log(JSON.stringify(report, null, 2));
    else printHuman(file, report, yandex ? 'yandex' : 'vertex');
    return report.valid ? 0 : 1;
  },
};

function parse(args: string[]) {
  return parseCommandArgs(args, {
    provider: { type: 'string' },
    model: { type: 'string' },
    role: { type: 'string' },
    epochs: { type: 'string' },
    'max-errors': { type: 'string' },
    sample: { type: 'string' },
    strict: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
}

function ioError(message: string): number {
  console.error(`tunedrop validate: ${message}`);
  return 2;
}

/** A one-line bar redrawn in place (`\r`) when the percentage changes; `done` clears it. */
export function progressBar(
  total: number,
  write: (text: string) => void = (text) => process.stderr.write(text),
) {
  const width = 30;
  let last = -1;
  return {
    update(bytes: number) {
      const percent = Math.min(100, Math.floor((bytes / total) * 100));
      if (percent === last) return;
      last = percent;
      const filled = Math.round((percent / 100) * width);
      write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}% of ${mb(total)}`);
    },
    done() {
      if (last >= 0) write(`\r${' '.repeat(width + 24)}\r`);
    },
  };
}

const number = new Intl.NumberFormat('en-US');
const fmt = (value: number) => number.format(Math.round(value));
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const usd = (value: number) => `$${value.toFixed(2)}`;

/** `FILE:LINE code message (at PATH)`; a file-level issue (line 0) is `FILE: code message`. */
function issueLine(file: string, issue: ValidationIssue, prefix = ''): string {
  const at = issue.path ? ` (at ${issue.path})` : '';
  const where = issue.line > 0 ? `${file}:${issue.line}` : `${file}:`;
  return `${where} ${prefix}${issue.code} ${issue.message}${at}`;
}

function printHuman(file: string, report: ValidationReport, provider: 'vertex' | 'yandex'): void {
  const out: string[] = [];
  for (const issue of report.errors) out.push(issueLine(file, issue));
  if (report.errorsOmitted > 0) out.push(`... and ${fmt(report.errorsOmitted)} more errors not listed`);
  for (const issue of report.warnings) out.push(issueLine(file, issue, 'warning: '));
  if (report.warningsOmitted > 0) out.push(`... and ${fmt(report.warningsOmitted)} more warnings not listed`);
  if (out.length > 0) out.push('');

  const { stats } = report;
  const errorCount = report.errors.length + report.errorsOmitted;
  out.push(
    report.valid
      ? `valid: ${fmt(report.examples)} examples for ${report.model} (${report.role})`
      : `invalid: ${fmt(errorCount)} error${errorCount === 1 ? '' : 's'} in ${fmt(report.examples)} examples for ${report.model} (${report.role})`,
  );
  out.push(
    `  examples     ${fmt(stats.validExamples)} valid of ${fmt(stats.examples)}, ${fmt(stats.lines)} lines, ${mb(stats.bytes)}, ${fmt(stats.characters)} characters, ${fmt(stats.mediaParts)} media parts`,
  );
  if (stats.droppable > 0 && provider === 'vertex') {
    out.push(
      `  dropped      ${fmt(stats.droppable)} example${stats.droppable === 1 ? '' : 's'} over the token limit: Vertex AI drops them (not trained on, not billed)`,
    );
  }
  const t = stats.turns;
  out.push(
    `  turns        min ${t.min}, p50 ${t.p50}, p95 ${t.p95}, max ${t.max}, mean ${t.mean.toFixed(1)}`,
  );
  const k = stats.tokens;
  out.push(
    `  tokens/ex    min ${fmt(k.min)}, p50 ${fmt(k.p50)}, p95 ${fmt(k.p95)}, max ${fmt(k.max)}, mean ${fmt(k.mean)} (${k.method}; limit ${fmt(k.limit)})`,
  );
  const e = stats.estimate.tokens;
  out.push(
    `  tokens       about ${fmt(e.estimated)}; at most ${fmt(e.upperBound)} (bound)`,
    `  estimate     ${e.basis || `${e.method}, ${e.tokensPerByte.toFixed(3)} tokens/byte`}`,
  );
  const cost = stats.estimate.cost;
  if (cost && provider === 'yandex') {
    // Yandex has no epochs, adapter sizes or learning-rate multiplier: the line shows none.
    out.push(
      cost.estimatedUsd === null || cost.upperBoundUsd === null
        ? `  cost         ${cost.basis ?? `no public price for ${cost.model}`}; ${fmt(e.estimated)} tokens in the dataset (Yandex bills by its own count; n_samples sets the run's size)`
        : `  cost         about ${usd(cost.estimatedUsd)}, at most ${usd(cost.upperBoundUsd)} (${usd(cost.pricePerMillionTrainingTokens ?? 0)} per 1M tokens; ${cost.basis ?? `prices of ${cost.pricesTakenOn}`})`,
    );
  } else if (cost) {
    const basis = `${cost.epochs} epochs${cost.epochsSource === 'model-default' ? ' (default)' : ''}`;
    out.push(
      cost.estimatedUsd === null || cost.upperBoundUsd === null
        ? `  cost         ${cost.basis ?? `no public price for ${cost.model}`}; ${fmt(e.estimated * cost.epochs)} training tokens over ${basis}`
        : `  cost         about ${usd(cost.estimatedUsd)}, at most ${usd(cost.upperBoundUsd)} (${basis} × ${usd(cost.pricePerMillionTrainingTokens ?? 0)} per 1M tokens; ${cost.basis ?? `prices of ${cost.pricesTakenOn}`})`,
    );
  } else {
    out.push('  cost         none: a validation set is not billed as training tokens');
  }
  console.log(out.join('\n'));
}
