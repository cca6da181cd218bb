/**
 * What `tunedrop submit` uploads, decided before anything is read or sent: a single FILE, or a
 * manifest drop (the manifest first, then the datasets it names), with the problems and notes
 * found by checking the spec the way ingest will build and check it.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { DatasetRole, ModelSpec } from '../../shared/dataset/index.ts';
import {
  formatIssue,
  type Manifest,
  manifestFileName,
  parseManifest,
  resolveDatasetRef,
  type SpecDefaults,
  specFromManifest,
} from '../../shared/jobs/manifest.ts';
import { type PreflightContext, preflightSpec } from '../../shared/jobs/preflight.ts';

/** One file to upload: where it is, where it goes, and how to check it first. */
export interface Upload {
  localPath: string;
  object: string;
  contentType: string;
  metadata?: Record<string, string>;
  /** Datasets are validated before anything is uploaded; the manifest is checked separately. */
  dataset?: { role: DatasetRole };
}

export interface Plan {
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

/** A submit failure with the exit status it ends with (1 refused input, 2 usage or I/O). */
export class SubmitFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export async function statOrFail(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    throw new SubmitFailure(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      2,
    );
  }
}

export function singleFilePlan(
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
export async function manifestPlan(
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
    throw new SubmitFailure(
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

/** What `--model` and `--strict` say for a manifest drop, whose manifest carries both. */
const singleFileFlagsOnly =
  '--model and --strict are for a single FILE; set baseModel or strict in the manifest';

/** The flags of `tunedrop submit` that shape the plan. */
export interface PlanFlags {
  model?: string;
  strict: boolean;
  manifest?: string;
}

/**
 * The plan for the command line's FILE or DIR: a DIR needs a tuning.json (or --manifest), a FILE
 * with --manifest is that manifest's dataset, a FILE alone is a single-file drop.
 */
export async function planSubmission(
  input: string,
  flags: PlanFlags,
  bucket: string,
  defaults: SpecDefaults,
  context: PreflightContext,
): Promise<Plan> {
  const info = await statOrFail(input);
  const defaultModel = flags.model ?? defaults.baseModel;
  if (info.isDirectory()) {
    const manifestPath = flags.manifest ?? join(input, manifestFileName);
    if (flags.manifest === undefined) {
      const found = await stat(manifestPath).catch(() => undefined);
      if (!found?.isFile()) {
        throw new SubmitFailure(
          `${input} has no ${manifestFileName}; submit a single FILE, or give --manifest`,
          2,
        );
      }
    }
    if (flags.model !== undefined || flags.strict) throw new SubmitFailure(singleFileFlagsOnly, 2);
    return manifestPlan(
      manifestPath,
      input,
      basename(resolve(input)),
      bucket,
      { ...defaults, baseModel: defaultModel },
      undefined,
      context,
    );
  }
  if (flags.manifest !== undefined) {
    if (flags.model !== undefined || flags.strict) throw new SubmitFailure(singleFileFlagsOnly, 2);
    const folder = basename(input).replace(/\.jsonl$/i, '');
    return manifestPlan(
      flags.manifest,
      dirname(input),
      folder,
      bucket,
      { ...defaults, baseModel: defaultModel },
      input,
      context,
    );
  }
  return singleFilePlan(
    input,
    defaultModel,
    flags.model !== undefined,
    flags.strict,
    bucket,
    defaults,
    context,
  );
}
