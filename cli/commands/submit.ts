/**
 * `tunedrop submit FILE|DIR`: validate locally, upload into `incoming/`, print the job id.
 *
 * - FILE: uploaded as `incoming/<name>`; `--model` becomes the object's `base-model` metadata.
 * - DIR with a tuning.json (or FILE/DIR with `--manifest`): a manifest drop. The manifest goes to
 *   `incoming/<dir name>/tuning.json` FIRST, then the datasets it names (paths relative to it);
 *   files it does not name are not uploaded. Ingest only counts a `.jsonl` as part of a manifest
 *   when the manifest already exists: a dataset uploaded before it would start a job of its own
 *   (a second billed job). The manifest waits for its missing datasets and the last one to
 *   arrive completes it.
 *
 * Nothing is uploaded unless every local dataset and the manifest are valid. The job id is
 * `jobIdFor(bucket, trigger object, generation)`: the generation Cloud Storage returned, or the
 * local file's mtime in microseconds, exactly as the pipeline computes it.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runningStack } from '../../local/stack-lock.ts';
import { ConfigError, loadConfig } from '../../shared/config/index.ts';
import {
  type DatasetRole,
  type ModelSpec,
  type ValidationIssue,
  type ValidationReport,
  validateDataset,
  validationShareWarning,
} from '../../shared/dataset/index.ts';
import { type JobState, jobIdFor } from '../../shared/jobs/index.ts';
import {
  formatIssue,
  type Manifest,
  manifestFileName,
  type PreflightContext,
  parseManifest,
  preflightSpec,
  resolveDatasetRef,
  type SpecDefaults,
  specFromManifest,
} from '../../shared/jobs/manifest.ts';
import { todayUtc } from '../../shared/models/index.ts';
import { createApiClient, describeError, resolveApiUrl } from '../lib/api-client.ts';
import {
  type BucketTarget,
  createGcsTarget,
  createLocalTarget,
  ObjectExistsError,
  parseBucketUrl,
} from '../lib/bucket-target.ts';
import { FollowTimeoutError, followJob } from '../lib/follow.ts';
import { loadCliCatalog } from '../lib/model-catalog.ts';
import { parseErrorMessage } from '../lib/usage.ts';
import type { Command } from './index.ts';

const usage = `Usage: tunedrop submit FILE|DIR [options]

Validates a dataset (or a folder with a tuning.json manifest) locally, uploads it into the
bucket's incoming/ folder and prints the id of the job it starts.

Options:
  --model ID           base model for a single FILE (default: $TUNEDROP_DEFAULT_BASE_MODEL or
                       gemini-3.5-flash); checked against the model catalog (\`tunedrop models\`,
                       TUNEDROP_MODEL_CATALOG) as ingest checks it
  --strict             for a single FILE: an example Vertex AI would drop (over the token limit)
                       is an error, here and in ingest (the object's \`strict\` metadata); for a
                       manifest, set "strict": true in it
  --manifest FILE      a tuning.json to use (default: DIR/tuning.json)
  --bucket gs://NAME   upload to this Cloud Storage bucket
  --bucket-dir DIR     upload to the local stack's bucket folder (default: $TUNEDROP_BUCKET_DIR
                       or .tunedrop/bucket)
  --wait               follow the job until it ends (exit 0 only if it SUCCEEDED)
  --timeout SECONDS    with --wait, give up after this long (default: never)
  --api URL            the admin API for --wait (default: $TUNEDROP_API_URL or http://127.0.0.1:8084)
  --json               print the upload's details as JSON on stdout

Exit status: 0 uploaded (and, with --wait, succeeded), 1 invalid input, an existing object or a
job that did not succeed, 2 usage or I/O error.`;

const options = {
  model: { type: 'string' },
  strict: { type: 'boolean', default: false },
  manifest: { type: 'string' },
  bucket: { type: 'string' },
  'bucket-dir': { type: 'string' },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  api: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** One file to upload: where it is, where it goes, and how to check it first. */
interface Upload {
  localPath: string;
  object: string;
  contentType: string;
  metadata?: Record<string, string>;
  /** Datasets are validated before anything is uploaded; the manifest is checked separately. */
  dataset?: { role: DatasetRole };
}

interface Plan {
  uploads: Upload[];
  /** The object the job id derives from: the file, or the manifest (uploaded first). */
  trigger: string;
  /** Problems found before validating any dataset (the manifest, missing files). */
  problems: string[];
  notes: string[];
  /** The catalog entry the datasets are checked against; none when the model is retired. */
  model?: ModelSpec;
  /** The model is not in the catalog: its conservative limits only warn. */
  unknownModel?: boolean;
  /** The manifest's `strict`: droppable examples are errors. */
  strict?: boolean;
}

class Failure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const say = (message: string) => console.error(message);

async function statOrFail(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    throw new Failure(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      2,
    );
  }
}

function singleFilePlan(
  file: string,
  model: string,
  modelGiven: boolean,
  strict: boolean,
  bucket: string,
  defaults: SpecDefaults,
  context: PreflightContext,
): Plan {
  const object = `incoming/${basename(file)}`;
  // The overrides ingest reads from the object's custom metadata.
  const metadata: Record<string, string> = {
    ...(modelGiven ? { 'base-model': model } : {}),
    ...(strict ? { strict: 'true' } : {}),
  };
  const plan: Plan = {
    uploads: [
      {
        localPath: file,
        object,
        contentType: 'application/jsonl',
        ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
        dataset: { role: 'training' },
      },
    ],
    trigger: object,
    problems: [],
    notes: [],
    strict,
  };
  // The spec ingest builds for a single-file drop, checked the way ingest will check it.
  const spec = specFromManifest(
    { trainingDataset: object },
    { ...defaults, baseModel: model },
    { training: `gs://${bucket}/${object}` },
  );
  checkSpec(plan, file, spec, context);
  return plan;
}

/** Preflight's issues become the plan's problems, its warnings notes, its model the datasets'. */
function checkSpec(
  plan: Plan,
  where: string,
  spec: ReturnType<typeof specFromManifest>,
  context: PreflightContext,
): void {
  const preflight = preflightSpec(spec, context);
  plan.problems.push(...preflight.issues.map((issue) => `${where}: ${formatIssue(issue)}`));
  plan.notes.push(...preflight.warnings.map((issue) => `${where}: ${formatIssue(issue)}`));
  if (!preflight.retired) plan.model = preflight.model;
  plan.unknownModel = preflight.unknown;
}

/**
 * A manifest drop. `baseDir` is where the manifest's relative paths point locally; `folder` the
 * name of the drop under incoming/.
 */
async function manifestPlan(
  manifestPath: string,
  baseDir: string,
  folder: string,
  bucket: string,
  defaults: SpecDefaults,
  file: string | undefined,
  context: PreflightContext,
): Promise<Plan> {
  const manifestObject = `incoming/${folder}/${manifestFileName}`;
  // First: a dataset that arrived before its folder's manifest would start a job of its own.
  const plan: Plan = {
    uploads: [{ localPath: manifestPath, object: manifestObject, contentType: 'application/json' }],
    trigger: manifestObject,
    problems: [],
    notes: [],
  };
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new Failure(
      `cannot read ${manifestPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      2,
    );
  }
  const parsed = parseManifest(text, { catalog: context.catalog });
  if (!parsed.ok) {
    plan.problems.push(...parsed.issues.map((issue) => `${manifestPath}: ${formatIssue(issue)}`));
    return plan;
  }
  const manifest: Manifest = parsed.value;
  if (manifest.strict) plan.strict = true;
  const refs: [DatasetRole, string | undefined][] = [
    ['training', manifest.trainingDataset],
    ['validation', manifest.validationDataset],
  ];
  const uris: Partial<Record<DatasetRole, string>> = {};
  const uploaded = new Set<string>();
  for (const [role, ref] of refs) {
    if (ref === undefined) continue;
    const resolved = resolveDatasetRef(ref, { bucket, name: manifestObject });
    if (!resolved.ok) {
      const field = role === 'training' ? '/trainingDataset' : '/validationDataset';
      plan.problems.push(...resolved.issues.map((issue) => `${manifestPath}: ${field}: ${issue.message}`));
      continue;
    }
    uris[role] = resolved.value;
    if (ref.startsWith('gs://')) {
      plan.notes.push(`${role} dataset ${ref} is already in Cloud Storage; ingest validates it`);
      continue;
    }
    const object = resolved.value.slice(`gs://${bucket}/`.length);
    const localPath = join(baseDir, ...object.slice(`incoming/${folder}/`.length).split('/'));
    if (uploaded.has(object)) continue;
    uploaded.add(object);
    plan.uploads.push({ localPath, object, contentType: 'application/jsonl', dataset: { role } });
  }
  if (file && !plan.uploads.some((upload) => resolve(upload.localPath) === resolve(file))) {
    plan.problems.push(
      `${manifestPath}: names no dataset at ${file} (trainingDataset is "${manifest.trainingDataset}")`,
    );
  }
  if (uris.training) {
    // The spec ingest will build from this manifest, checked the way ingest will check it.
    const spec = specFromManifest(
      manifest,
      defaults,
      { training: uris.training, validation: uris.validation },
      undefined,
      { catalog: context.catalog },
    );
    checkSpec(plan, manifestPath, spec, context);
  }
  return plan;
}

async function validateUpload(
  upload: Upload,
  plan: Plan,
  context: PreflightContext,
): Promise<ValidationReport | string> {
  const { dataset } = upload;
  if (!dataset || !plan.model) throw new Error('not a dataset of a known model');
  try {
    const info = await stat(upload.localPath);
    if (!info.isFile()) return `${upload.localPath} is not a file`;
  } catch {
    return `${upload.localPath}: no such file (the manifest names it)`;
  }
  return validateDataset(createReadStream(upload.localPath, { highWaterMark: 1 << 20 }), {
    model: plan.model,
    unknownModel: plan.unknownModel ?? false,
    catalog: context.catalog,
    strict: plan.strict ?? false,
    role: dataset.role,
    fileName: upload.localPath,
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

async function submitRun(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new Failure(`${parseErrorMessage(error)}\n\n${usage}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) {
    const problem =
      positionals.length === 0 ? 'missing FILE or DIR' : `unexpected argument "${positionals[1]}"`;
    throw new Failure(`${problem}\n\n${usage}`, 2);
  }
  if (values.bucket !== undefined && values['bucket-dir'] !== undefined) {
    throw new Failure(`give --bucket or --bucket-dir, not both\n\n${usage}`, 2);
  }
  let timeoutMs = 0;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new Failure(`--timeout must be a positive number of seconds\n\n${usage}`, 2);
    timeoutMs = seconds * 1000;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new Failure(error.message, 2);
    throw error;
  }
  let context: PreflightContext;
  try {
    context = { catalog: await loadCliCatalog(process.env), today: todayUtc(), region: config.region };
  } catch (error) {
    throw new Failure((error as Error).message, 2);
  }

  let target: BucketTarget;
  if (values.bucket !== undefined) {
    const bucket = parseBucketUrl(values.bucket);
    if (!bucket) throw new Failure(`--bucket must be gs://BUCKET, got "${values.bucket}"\n\n${usage}`, 2);
    const { Storage } = await import('@google-cloud/storage');
    target = createGcsTarget(new Storage(), bucket);
  } else {
    const bucketDir = values['bucket-dir'] ?? config.bucketDir ?? '.tunedrop/bucket';
    // A folder no stack watches is not a bucket: the file would sit there, unprocessed, and a
    // successful exit would say otherwise. The running stack holds a lock file there (its pid).
    if (!runningStack(resolve(bucketDir))) {
      throw new Failure(
        `no tunedrop stack is watching ${resolve(bucketDir)}, so nothing would process the upload. Start one first (npm start, or tunedrop dev --bucket-dir ${bucketDir}), or upload to Cloud Storage with --bucket gs://BUCKET. Nothing uploaded.`,
        2,
      );
    }
    target = createLocalTarget(bucketDir, config.bucket);
  }

  // Plan what goes where.
  const input = positionals[0]!;
  const info = await statOrFail(input);
  const defaultModel = values.model ?? config.defaults.baseModel;
  let plan: Plan;
  if (info.isDirectory()) {
    const manifestPath = values.manifest ?? join(input, manifestFileName);
    if (values.manifest === undefined) {
      const found = await stat(manifestPath).catch(() => undefined);
      if (!found?.isFile()) {
        throw new Failure(`${input} has no ${manifestFileName}; submit a single FILE, or give --manifest`, 2);
      }
    }
    if (values.model !== undefined || values.strict)
      throw new Failure(
        '--model and --strict are for a single FILE; set baseModel or strict in the manifest',
        2,
      );
    plan = await manifestPlan(
      manifestPath,
      input,
      basename(resolve(input)),
      target.bucket,
      { ...config.defaults, baseModel: defaultModel },
      undefined,
      context,
    );
  } else if (values.manifest !== undefined) {
    if (values.model !== undefined || values.strict)
      throw new Failure(
        '--model and --strict are for a single FILE; set baseModel or strict in the manifest',
        2,
      );
    const folder = basename(input).replace(/\.jsonl$/i, '');
    plan = await manifestPlan(
      values.manifest,
      dirname(input),
      folder,
      target.bucket,
      { ...config.defaults, baseModel: defaultModel },
      input,
      context,
    );
  } else {
    plan = singleFilePlan(
      input,
      defaultModel,
      values.model !== undefined,
      values.strict,
      target.bucket,
      config.defaults,
      context,
    );
  }

  // Validate everything before uploading anything.
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
      throw new Failure(`cannot read ${upload.localPath}: ${(error as Error).message}`, 2);
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
  if (invalid) {
    say('Nothing uploaded.');
    return 1;
  }

  // Refuse before writing anything: once the manifest is in, an object already in its folder
  // would be taken as its dataset.
  for (const upload of plan.uploads) {
    let found: boolean;
    try {
      found = await target.exists(upload.object);
    } catch (error) {
      throw new Failure(`checking ${target.describe(upload.object)} failed: ${(error as Error).message}`, 2);
    }
    if (found) {
      throw new Failure(
        `${target.describe(upload.object)} exists already; tunedrop never overwrites an upload. Nothing uploaded.`,
        1,
      );
    }
  }

  // Upload in plan order: a manifest first, then its datasets.
  let triggerGeneration = '';
  const uploaded: { object: string; generation: string }[] = [];
  for (const upload of plan.uploads) {
    let result: { generation: string };
    try {
      result = await target.put(upload.object, upload.localPath, {
        contentType: upload.contentType,
        ...(upload.metadata ? { metadata: upload.metadata } : {}),
      });
    } catch (error) {
      const pending =
        uploaded.length > 0
          ? `\n${target.describe(plan.trigger)} is uploaded and waits for its datasets; upload ${upload.localPath} to ${target.describe(upload.object)} to complete it`
          : '';
      if (error instanceof ObjectExistsError) throw new Failure(`${error.message}${pending}`, 1);
      throw new Failure(
        `uploading ${upload.localPath} to ${target.describe(upload.object)} failed: ${(error as Error).message}${pending}`,
        2,
      );
    }
    uploaded.push({ object: upload.object, generation: result.generation });
    if (upload.object === plan.trigger) triggerGeneration = result.generation;
    say(`uploaded ${upload.localPath} → ${target.describe(upload.object)} (generation ${result.generation})`);
  }
  const jobId = jobIdFor({ bucket: target.bucket, object: plan.trigger, generation: triggerGeneration });
  if (values.json) {
    console.log(
      JSON.stringify(
        { jobId, bucket: target.bucket, object: plan.trigger, generation: triggerGeneration, uploaded },
        null,
        2,
      ),
    );
  } else {
    say(`job id:`);
    console.log(jobId);
  }
  if (!values.wait) return 0;

  // Follow the job.
  const client = createApiClient({ baseUrl: resolveApiUrl(values.api, process.env) });
  try {
    const outcome = await followJob(client, jobId, {
      timeoutMs,
      rejection: () => target.readReport(plan.trigger),
      // A report left by an earlier upload of the same name is not this upload's.
      generation: triggerGeneration,
      onState: (job) =>
        say(
          `${new Date().toISOString()} ${job.state}${job.state === 'FAILED' && job.error ? `: ${job.error.message}` : ''}`,
        ),
    });
    if (outcome.kind === 'rejected') {
      say(`the pipeline rejected the dataset; see reports/${plan.trigger}.report.json`);
      return 1;
    }
    const finalState: JobState = outcome.job.state;
    if (outcome.job.result?.tunedModel) say(`tuned model: ${outcome.job.result.tunedModel}`);
    if (outcome.job.result?.endpoint) say(`endpoint:    ${outcome.job.result.endpoint}`);
    return finalState === 'SUCCEEDED' ? 0 : 1;
  } catch (error) {
    if (error instanceof FollowTimeoutError) throw new Failure(error.message, 1);
    throw new Failure(`following job ${jobId}: ${describeError(error)}`, 2);
  }
}

export const submit: Command = {
  async run(args) {
    try {
      return await submitRun(args);
    } catch (error) {
      if (error instanceof Failure) {
        console.error(`tunedrop submit: ${error.message}`);
        return error.exitCode;
      }
      console.error(`tunedrop submit: ${(error as Error).message}`);
      return 2;
    }
  },
};
