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
 *
 * The plan (what goes where) is cli/lib/submit-plan.ts, the local validation
 * cli/lib/submit-validate.ts; this module parses the command line, uploads and follows the job.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runningStack } from '../../local/stack-lock.ts';
import { ConfigError, loadConfig } from '../../shared/config/index.ts';
import { type JobState, jobIdFor } from '../../shared/jobs/index.ts';
import type { PreflightContext } from '../../shared/jobs/preflight.ts';
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
import { planSubmission, SubmitFailure } from '../lib/submit-plan.ts';
import { validatePlan } from '../lib/submit-validate.ts';
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

const say = (message: string) => console.error(message);

async function submitRun(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new SubmitFailure(`${parseErrorMessage(error)}\n\n${usage}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) {
    const problem =
      positionals.length === 0 ? 'missing FILE or DIR' : `unexpected argument "${positionals[1]}"`;
    throw new SubmitFailure(`${problem}\n\n${usage}`, 2);
  }
  if (values.bucket !== undefined && values['bucket-dir'] !== undefined) {
    throw new SubmitFailure(`give --bucket or --bucket-dir, not both\n\n${usage}`, 2);
  }
  let timeoutMs = 0;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new SubmitFailure(`--timeout must be a positive number of seconds\n\n${usage}`, 2);
    timeoutMs = seconds * 1000;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new SubmitFailure(error.message, 2);
    throw error;
  }
  let context: PreflightContext;
  try {
    context = { catalog: await loadCliCatalog(process.env), today: todayUtc(), region: config.region };
  } catch (error) {
    throw new SubmitFailure((error as Error).message, 2);
  }

  let target: BucketTarget;
  if (values.bucket !== undefined) {
    const bucket = parseBucketUrl(values.bucket);
    if (!bucket)
      throw new SubmitFailure(`--bucket must be gs://BUCKET, got "${values.bucket}"\n\n${usage}`, 2);
    const { Storage } = await import('@google-cloud/storage');
    target = createGcsTarget(new Storage(), bucket);
  } else {
    const bucketDir = values['bucket-dir'] ?? config.bucketDir ?? '.tunedrop/bucket';
    // A folder no stack watches is not a bucket: the file would sit there, unprocessed, and a
    // successful exit would say otherwise. The running stack holds a lock file there (its pid).
    if (!runningStack(resolve(bucketDir))) {
      throw new SubmitFailure(
        `no tunedrop stack is watching ${resolve(bucketDir)}, so nothing would process the upload. Start one first (npm start, or tunedrop dev --bucket-dir ${bucketDir}), or upload to Cloud Storage with --bucket gs://BUCKET. Nothing uploaded.`,
        2,
      );
    }
    target = createLocalTarget(bucketDir, config.bucket);
  }

  // Plan what goes where.
  const plan = await planSubmission(
    positionals[0]!,
    { model: values.model, strict: values.strict, manifest: values.manifest },
    target.bucket,
    config.defaults,
    context,
  );

  // Validate everything before uploading anything.
  if (!(await validatePlan(plan, context))) {
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
      throw new SubmitFailure(
        `checking ${target.describe(upload.object)} failed: ${(error as Error).message}`,
        2,
      );
    }
    if (found) {
      throw new SubmitFailure(
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
      if (error instanceof ObjectExistsError) throw new SubmitFailure(`${error.message}${pending}`, 1);
      throw new SubmitFailure(
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
    if (error instanceof FollowTimeoutError) throw new SubmitFailure(error.message, 1);
    throw new SubmitFailure(`following job ${jobId}: ${describeError(error)}`, 2);
  }
}

export const submit: Command = {
  async run(args) {
    try {
      return await submitRun(args);
    } catch (error) {
      if (error instanceof SubmitFailure) {
        console.error(`tunedrop submit: ${error.message}`);
        return error.exitCode;
      }
      console.error(`tunedrop submit: ${(error as Error).message}`);
      return 2;
    }
  },
};
