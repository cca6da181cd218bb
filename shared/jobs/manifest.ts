/**
 * Job settings a user gives tunedrop: the `tuning.json` manifest of a folder drop, the custom
 * metadata overrides of a single-file drop, and the preflight checks both share with the CLI.
 * Preflight repeats what Vertex AI checks on `tuningJobs.create`, so a mistake is reported with
 * the dataset (and costs nothing) instead of surfacing later as a failed job.
 *
 * Every problem is a FieldIssue naming the field as a JSON pointer: `/epochCount: must be positive`.
 */
import { posix } from 'node:path';
import { type ZodError, z } from 'zod';
import { AdapterSize, type AllowList, type ApprovalPolicy, type Config } from '../config/index.ts';
import {
  adapterSizeIssue,
  type Catalog,
  type CatalogModel,
  cmekIssue,
  regionIssue,
  resolveModel,
} from '../models/index.ts';
import { jobIdLabel, type TuningSpec } from './model.ts';
import { providerFor, providerIssues, specProviderIssues } from './provider-rules.ts';
import { YandexTuningParams } from './yandex-params.ts';

export const manifestFileName = 'tuning.json';

export interface FieldIssue {
  /** JSON pointer of the field, `''` for the whole document. */
  path: string;
  message: string;
}

export function formatIssue(issue: FieldIssue): string {
  return `${issue.path || '/'}: ${issue.message}`;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

// ---------------------------------------------------------------------------------------------
// Field rules (Vertex AI's, as documented for TuningJob and resource labels)

export const maxDisplayNameLength = 128;
export const maxLabelLength = 63;
/** Vertex AI allows 64 labels; tunedrop adds two of its own (job id and managed marker). */
export const maxUserLabels = 62;
/** Label keys tunedrop sets itself; a user label may not take one of them. */
export const reservedLabelPrefix = 'tunedrop-';

// Lowercase letters of any script (\p{Ll}), letters of scripts without case (\p{Lo}, and the
// modifier letters they use, \p{Lm}, such as the katakana ー), digits, _ and -.
const labelKeyPattern = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{Lm}\p{Nd}_-]*$/u;
const labelValuePattern = /^[\p{Ll}\p{Lo}\p{Lm}\p{Nd}_-]*$/u;
// Bucket names: 3-222 characters of lowercase letters, digits, -, _ and ., starting and ending
// with a letter or digit; the object part must be non-empty and have no empty segment at its start.
const gcsUriPattern = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])\/([^\r\n]+)$/;
const kmsKeyPattern = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;
const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const length = (value: string) => [...value].length;

export function parseGcsUri(uri: string): { bucket: string; object: string } | undefined {
  const match = gcsUriPattern.exec(uri);
  if (!match || match[2]!.startsWith('/') || match[1]!.includes('..')) return undefined;
  return { bucket: match[1]!, object: match[2]! };
}

export const GcsUri = z.string().refine((value) => parseGcsUri(value) !== undefined, {
  error: 'must be a gs://BUCKET/OBJECT URI',
});

export const DisplayName = z
  .string()
  .min(1, 'must not be empty')
  .refine((value) => length(value) <= maxDisplayNameLength, {
    error: `must be at most ${maxDisplayNameLength} characters`,
  });

export const EpochCount = z.number().int('must be a whole number').positive('must be positive');
export const LearningRateMultiplier = z.number().positive('must be positive');

/** Checks a label set; issues are relative to the labels object (`/team`). */
export function labelIssues(labels: Record<string, string>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const entries = Object.entries(labels);
  if (entries.length > maxUserLabels) {
    issues.push({
      path: '',
      message: `at most ${maxUserLabels} labels (Vertex AI allows 64 and tunedrop adds ${jobIdLabel} and tunedrop-managed)`,
    });
  }
  for (const [key, value] of entries) {
    const path = `/${escapePointer(key)}`;
    if (key.startsWith(reservedLabelPrefix)) {
      issues.push({
        path,
        message: `label keys starting with ${reservedLabelPrefix} are reserved for tunedrop`,
      });
    } else if (length(key) > maxLabelLength) {
      issues.push({ path, message: `label key must be at most ${maxLabelLength} characters` });
    } else if (!labelKeyPattern.test(key)) {
      issues.push({
        path,
        message:
          'label key must start with a lowercase letter and hold only lowercase letters, digits, _ and -',
      });
    }
    if (typeof value !== 'string') {
      issues.push({ path, message: 'label value must be a string' });
    } else if (length(value) > maxLabelLength) {
      issues.push({ path, message: `label value must be at most ${maxLabelLength} characters` });
    } else if (!labelValuePattern.test(value)) {
      issues.push({ path, message: 'label value may hold only lowercase letters, digits, _ and -' });
    }
  }
  return issues;
}

export const Labels = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const issue of labelIssues(labels)) {
    ctx.addIssue({
      code: 'custom',
      message: issue.message,
      path: issue.path ? [unescapePointer(issue.path.slice(1))] : [],
    });
  }
});

/** The LoRA rank of each AdapterSize name, as the model catalog lists allowed sizes. */
export const adapterSizeRank: Record<AdapterSize, number> = {
  ONE: 1,
  TWO: 2,
  FOUR: 4,
  EIGHT: 8,
  SIXTEEN: 16,
  THIRTY_TWO: 32,
};

/** What preflight checks a spec against: the effective model catalog, the day, the location. */
export interface PreflightContext {
  catalog: Catalog;
  /** YYYY-MM-DD (UTC), for retirement dates. */
  today: string;
  /** The Vertex AI location jobs are created in (TUNEDROP_REGION); unset: not checked. */
  region?: string | undefined;
  /** The deployment's TUNEDROP_ALLOWED_* lists; unset: not checked. */
  allowed?: AllowList | undefined;
}

export interface Preflight {
  /** What Vertex AI would refuse: the job must not be created. */
  issues: FieldIssue[];
  /** Worth telling the user, but the provider's own answer stands (unknown or retiring model). */
  warnings: FieldIssue[];
  /** The catalog entry the datasets are checked against (conservative limits for an unknown id). */
  model: CatalogModel;
  /** The model is retired: validating its datasets is pointless. */
  retired: boolean;
  /** The model is not in the catalog: `model` holds conservative limits, which only warn. */
  unknown: boolean;
}

/**
 * The base model's checks, from the catalog: a retired model (error, with its date and
 * replacements), an adapter size the model does not offer (error, with the allowed list), a
 * location it cannot be tuned in, a CMEK key it does not support (errors). Where the catalog does
 * not know (an unknown model, a null list), nothing is refused.
 */
function modelChecks(spec: TuningSpec, context: PreflightContext): Preflight {
  const resolution = resolveModel(context.catalog, spec.baseModel, { today: context.today });
  const { model } = resolution;
  const issues: FieldIssue[] = [];
  const warnings = resolution.warnings.map((message) => ({ path: '/baseModel', message }));
  if (resolution.kind === 'retired') issues.push({ path: '/baseModel', message: resolution.message });
  if (spec.adapterSize !== undefined) {
    const problem = adapterSizeIssue(model, adapterSizeRank[spec.adapterSize]);
    if (problem) {
      const names = (Object.keys(adapterSizeRank) as AdapterSize[]).filter((name) =>
        model.adapterSizes?.includes(adapterSizeRank[name] as never),
      );
      issues.push({ path: '/adapterSize', message: `${spec.adapterSize}: ${problem} (${names.join(', ')})` });
    }
  }
  if (context.region !== undefined && model.provider === 'vertex') {
    const problem = regionIssue(model, context.region);
    if (problem) {
      issues.push({
        path: '/baseModel',
        message: `${problem}; this deployment creates tuning jobs in ${context.region} (TUNEDROP_REGION)`,
      });
    }
  }
  const cmek = cmekIssue(model, spec.kmsKeyName);
  if (cmek) issues.push({ path: '/kmsKeyName', message: cmek });
  return {
    issues,
    warnings,
    model,
    retired: resolution.kind === 'retired',
    unknown: resolution.kind === 'unknown',
  };
}

/**
 * Everything Vertex AI would refuse in a complete spec, and the model warnings. The CLI's
 * `submit`, the manifest and the metadata overrides all end here, so the rules live in one place.
 */
export function preflightSpec(spec: TuningSpec, context: PreflightContext): Preflight {
  // With `allowed` (the deployment's TUNEDROP_ALLOWED_*), a service account or key outside its list
  // is refused too: the deployment granted only those, so Vertex AI would refuse the others later.
  const checked = modelChecks(spec, context);
  const issues = checked.issues;
  issues.push(...specProviderIssues(spec));
  if (!parseGcsUri(spec.trainingDatasetUri)) {
    issues.push({ path: '/trainingDatasetUri', message: 'must be a gs://BUCKET/OBJECT URI' });
  }
  if (spec.validationDatasetUri !== undefined && !parseGcsUri(spec.validationDatasetUri)) {
    issues.push({ path: '/validationDatasetUri', message: 'must be a gs://BUCKET/OBJECT URI' });
  }
  const fields: [string, z.ZodType, unknown][] = [
    ['/epochCount', EpochCount, spec.epochCount],
    ['/learningRateMultiplier', LearningRateMultiplier, spec.learningRateMultiplier],
    ['/adapterSize', AdapterSize, spec.adapterSize],
    ['/tunedModelDisplayName', DisplayName, spec.tunedModelDisplayName],
  ];
  for (const [path, schema, value] of fields) {
    if (value === undefined) continue;
    const result = schema.safeParse(value);
    if (!result.success)
      issues.push(...toFieldIssues(result.error).map((i) => ({ ...i, path: path + i.path })));
  }
  if (spec.kmsKeyName !== undefined && !kmsKeyPattern.test(spec.kmsKeyName)) {
    issues.push({
      path: '/kmsKeyName',
      message: 'must be projects/P/locations/L/keyRings/R/cryptoKeys/K',
    });
  }
  if (spec.serviceAccount !== undefined && !emailPattern.test(spec.serviceAccount)) {
    issues.push({ path: '/serviceAccount', message: 'must be a service account email' });
  }
  const allowed = context.allowed ?? {};
  const notAllowed = allowListIssue('/serviceAccount', spec.serviceAccount, allowed.serviceAccounts, {
    what: 'service account',
    variable: 'allowed_tuning_service_accounts',
  });
  if (notAllowed) issues.push(notAllowed);
  const keyNotAllowed = allowListIssue('/kmsKeyName', spec.kmsKeyName, allowed.kmsKeys, {
    what: 'KMS key',
    variable: 'allowed_kms_keys',
  });
  if (keyNotAllowed) issues.push(keyNotAllowed);
  issues.push(...labelIssues(spec.labels).map((issue) => ({ ...issue, path: `/labels${issue.path}` })));
  return checked;
}

function allowListIssue(
  path: string,
  value: string | undefined,
  list: string[] | undefined,
  names: { what: string; variable: string },
): FieldIssue | undefined {
  if (value === undefined || list === undefined) return undefined;
  // Service account emails are case-insensitive; key names are exact resource names.
  const wanted = path === '/serviceAccount' ? value.toLowerCase() : value;
  const listed = list.some((item) => (path === '/serviceAccount' ? item.toLowerCase() : item) === wanted);
  if (listed) return undefined;
  return {
    path,
    message:
      list.length === 0
        ? `this deployment allows no ${names.what} here (an operator adds one to ${names.variable})`
        : `${names.what} ${value} is not allowed by this deployment (allowed: ${list.join(', ')}; an operator adds one to ${names.variable})`,
  };
}

// ---------------------------------------------------------------------------------------------
// The manifest

const approvalError = 'must be "auto", "manual" or {"maxCostUsd": <USD>}';
export const ManifestApproval = z.union(
  [
    z.literal('auto'),
    z.literal('manual'),
    z.strictObject({ maxCostUsd: z.number().nonnegative('must not be negative') }),
  ],
  { error: approvalError },
);
export type ManifestApproval = z.infer<typeof ManifestApproval>;

/** A path relative to the manifest's folder, or a gs:// URI. */
const DatasetRef = z
  .string()
  .min(1, 'must not be empty')
  .refine((value) => !value.startsWith('gs://') || parseGcsUri(value) !== undefined, {
    error: 'must be a gs://BUCKET/OBJECT URI or a path relative to the manifest',
  })
  .refine((value) => !value.startsWith('/'), { error: 'must be relative to the manifest, not absolute' });

/** A Vertex model resource name: `projects/{p}/locations/{l}/models/{m}[@{version or alias}]`. */
const tunedModelNamePattern = /^projects\/[^/]+\/locations\/[^/]+\/models\/[^/@]+(@[^/@]+)?$/;

/** Continuous tuning: the tuned model to start from, and optionally one of its checkpoints. */
export const ManifestPreTunedModel = z.strictObject({
  tunedModelName: z
    .string()
    .regex(tunedModelNamePattern, 'must be projects/P/locations/L/models/M, optionally with @VERSION'),
  checkpointId: z.string().min(1, 'must not be empty').optional(),
});

export const Manifest = z.strictObject({
  /** vertex (default) or yandex; a Yandex model implies yandex. */
  provider: z.enum(['vertex', 'yandex']).optional(),
  /** Continuous tuning (instead of baseModel; Vertex AI's baseModel and preTunedModel are a oneof). */
  preTunedModel: ManifestPreTunedModel.optional(),
  /** Export only the last checkpoint; by default Vertex AI exports about one per epoch. */
  exportLastCheckpointOnly: z.boolean().optional(),
  /** Checked against the model catalog by preflight: an unknown id is a warning, not an error. */
  baseModel: z.string().min(1, 'must not be empty').optional(),
  trainingDataset: DatasetRef,
  validationDataset: DatasetRef.optional(),
  epochCount: EpochCount.optional(),
  learningRateMultiplier: LearningRateMultiplier.optional(),
  adapterSize: AdapterSize.optional(),
  tunedModelDisplayName: DisplayName.optional(),
  description: z.string().optional(),
  labels: Labels.optional(),
  kmsKeyName: z
    .string()
    .regex(kmsKeyPattern, 'must be projects/P/locations/L/keyRings/R/cryptoKeys/K')
    .optional(),
  serviceAccount: z.string().regex(emailPattern, 'must be a service account email').optional(),
  approval: ManifestApproval.optional(),
  /** Examples the provider would drop (over its token limit) are errors, not warnings. */
  strict: z.boolean().optional(),
  /** Yandex AI Studio's hyperparameters (provider yandex only). */
  yandex: YandexTuningParams.optional(),
});
export type Manifest = z.infer<typeof Manifest>;

const manifestFields = Object.keys(Manifest.shape);

/** Parses a manifest's text. Unknown fields are errors: a typo must not be silently ignored. */
export function parseManifest(text: string): Checked<Manifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, issues: [{ path: '', message: `not valid JSON: ${(error as Error).message}` }] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, issues: [{ path: '', message: 'must be a JSON object' }] };
  }
  const parsed = Manifest.safeParse(raw, { reportInput: true });
  if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error, manifestFields) };
  if (parsed.data.preTunedModel && parsed.data.baseModel !== undefined) {
    return {
      ok: false,
      issues: [
        {
          path: '/preTunedModel',
          message:
            'give either baseModel or preTunedModel, not both: continuous tuning starts from the tuned model, whose base model tunedrop looks up',
        },
      ],
    };
  }
  const wrongProvider = providerIssues(parsed.data, providerFor(parsed.data.provider, parsed.data.baseModel));
  if (wrongProvider.length > 0) return { ok: false, issues: wrongProvider };
  return { ok: true, value: parsed.data };
}

export function approvalPolicyOf(approval: ManifestApproval): ApprovalPolicy {
  if (approval === 'auto' || approval === 'manual') return { mode: approval };
  return { mode: 'budget', maxCostUsd: approval.maxCostUsd };
}

/** The deployment's defaults a manifest falls back on (Config's `defaults`). */
export type SpecDefaults = Config['defaults'];

/**
 * The TuningSpec a manifest asks for: its settings, the deployment's defaults where it is silent,
 * and its dataset references already resolved to gs:// URIs (resolveDatasetRef). The one mapping
 * both ingest and `tunedrop submit` use, so the CLI's preflight checks exactly what ingest will.
 * Fields that end up unset are left out, not set to undefined.
 */
export function specFromManifest(
  manifest: Manifest,
  defaults: SpecDefaults,
  uris: { training: string; validation?: string | undefined },
  /** With `preTunedModel`: the base model of that tuned model, once resolved (continuous-tuning.ts). */
  preTunedBase?: string,
): TuningSpec {
  const provider = providerFor(manifest.provider, manifest.baseModel);
  if (provider === 'yandex') {
    // Vertex defaults (epochs, multiplier, adapter size) do not apply; baseModel is required.
    const yandexSpec: TuningSpec = {
      provider,
      baseModel: manifest.baseModel ?? '',
      trainingDatasetUri: uris.training,
      validationDatasetUri: uris.validation,
      tunedModelDisplayName: manifest.tunedModelDisplayName,
      description: manifest.description,
      labels: manifest.labels ?? {},
      yandex: manifest.yandex,
    };
    return Object.fromEntries(
      Object.entries(yandexSpec).filter(([, value]) => value !== undefined),
    ) as TuningSpec;
  }
  const spec: TuningSpec = {
    baseModel:
      (manifest.preTunedModel ? preTunedBase : undefined) ?? manifest.baseModel ?? defaults.baseModel,
    preTunedModel: manifest.preTunedModel,
    exportLastCheckpointOnly: manifest.exportLastCheckpointOnly,
    trainingDatasetUri: uris.training,
    validationDatasetUri: uris.validation,
    epochCount: manifest.epochCount ?? defaults.epochCount,
    learningRateMultiplier: manifest.learningRateMultiplier ?? defaults.learningRateMultiplier,
    adapterSize: manifest.adapterSize ?? defaults.adapterSize,
    tunedModelDisplayName: manifest.tunedModelDisplayName,
    description: manifest.description,
    labels: manifest.labels ?? {},
    kmsKeyName: manifest.kmsKeyName,
    serviceAccount: manifest.serviceAccount,
  };
  return Object.fromEntries(Object.entries(spec).filter(([, value]) => value !== undefined)) as TuningSpec;
}

/**
 * Resolves a manifest's dataset reference to a gs:// URI: gs:// URIs as they are, other paths
 * relative to the manifest's folder. A relative path must stay inside that folder: `../x.jsonl`
 * would let one team's manifest train on another team's upload (or on tunedrop's own `reports/`
 * and `validated/`) without naming it; a dataset elsewhere must be named by its full gs:// URI.
 */
export function resolveDatasetRef(ref: string, manifest: { bucket: string; name: string }): Checked<string> {
  if (ref.startsWith('gs://')) {
    return parseGcsUri(ref)
      ? { ok: true, value: ref }
      : { ok: false, issues: [{ path: '', message: 'must be a gs://BUCKET/OBJECT URI' }] };
  }
  const folder = posix.dirname(manifest.name);
  const joined = posix.normalize(posix.join(folder, ref));
  const inside =
    folder === '.' ? !joined.startsWith('../') && joined !== '..' : joined.startsWith(`${folder}/`);
  if (!inside || joined === '.' || joined.endsWith('/')) {
    const where = folder === '.' ? 'the bucket' : `the manifest's folder ${folder}/`;
    return {
      ok: false,
      issues: [
        {
          path: '',
          message: `${ref} points outside ${where} (it resolves to ${joined}): name a file inside that folder, or a dataset elsewhere by its full gs://BUCKET/OBJECT URI`,
        },
      ],
    };
  }
  return { ok: true, value: `gs://${manifest.bucket}/${joined}` };
}

// ---------------------------------------------------------------------------------------------
// Custom metadata overrides of a single-file drop (`x-goog-meta-*` on the uploaded object)

export const metadataOverrideKeys = [
  'base-model',
  'epoch-count',
  'learning-rate-multiplier',
  'adapter-size',
  'display-name',
  'approval',
  'strict',
] as const;

export interface MetadataOverrides {
  baseModel?: string;
  epochCount?: number;
  learningRateMultiplier?: number;
  adapterSize?: AdapterSize;
  tunedModelDisplayName?: string;
  approval?: ApprovalPolicy;
  /** Like the manifest's `strict`: examples the provider would drop are errors. */
  strict?: boolean;
  /** Metadata keys that look like a misspelt override (`epochs`, `base_model`): reported, not used. */
  unknownKeys: string[];
}

const budgetPattern = /^budget:(\d+(?:\.\d+)?)$/;

/**
 * Reads the overrides from an object's custom metadata. Metadata values are strings, so numbers
 * are parsed strictly (`"2"` yes, `"2 epochs"` no). `approval` is `auto`, `manual` or `budget:<USD>`.
 * Other metadata keys belong to the user; only near-misses of ours are reported.
 */
export function parseMetadataOverrides(metadata: Record<string, string>): Checked<MetadataOverrides> {
  const issues: FieldIssue[] = [];
  const out: MetadataOverrides = { unknownKeys: [] };
  const number = (key: string, raw: string, schema: z.ZodType<number>): number | undefined => {
    const value = /^\s*-?\d+(?:\.\d+)?(?:e-?\d+)?\s*$/i.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isNaN(value)) {
      issues.push({ path: `/${key}`, message: `must be a number, got "${raw}"` });
      return undefined;
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      issues.push(...toFieldIssues(result.error).map((issue) => ({ ...issue, path: `/${key}` })));
      return undefined;
    }
    return result.data;
  };
  for (const [rawKey, raw] of Object.entries(metadata)) {
    const key = rawKey.toLowerCase();
    const value = raw.trim();
    switch (key) {
      case 'base-model':
        // Checked against the model catalog by preflight, like a manifest's baseModel.
        if (value) out.baseModel = value;
        else issues.push({ path: '/base-model', message: 'must not be empty' });
        break;
      case 'epoch-count':
        out.epochCount = number(key, value, EpochCount);
        break;
      case 'learning-rate-multiplier':
        out.learningRateMultiplier = number(key, value, LearningRateMultiplier);
        break;
      case 'adapter-size': {
        const size = AdapterSize.safeParse(value.toUpperCase());
        if (size.success) out.adapterSize = size.data;
        else
          issues.push({ path: '/adapter-size', message: `must be one of ${AdapterSize.options.join(', ')}` });
        break;
      }
      case 'display-name': {
        const name = DisplayName.safeParse(value);
        if (name.success) out.tunedModelDisplayName = name.data;
        else issues.push(...toFieldIssues(name.error).map((issue) => ({ ...issue, path: '/display-name' })));
        break;
      }
      case 'strict':
        if (value === 'true' || value === 'false') out.strict = value === 'true';
        else issues.push({ path: '/strict', message: `must be true or false, got "${value}"` });
        break;
      case 'approval': {
        const budget = budgetPattern.exec(value);
        if (value === 'auto' || value === 'manual') out.approval = { mode: value };
        else if (budget) out.approval = { mode: 'budget', maxCostUsd: Number(budget[1]) };
        else issues.push({ path: '/approval', message: 'must be auto, manual or budget:<USD>' });
        break;
      }
      default:
        if (closest(key, metadataOverrideKeys)) out.unknownKeys.push(rawKey);
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: out };
}

// ---------------------------------------------------------------------------------------------
// Issue formatting

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

function pointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${escapePointer(String(segment))}`).join('');
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** zod issues as FieldIssues with short messages; unknown keys get a "did you mean" when close. */
export function toFieldIssues(error: ZodError, knownFields: readonly string[] = []): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const path = pointer(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const suggestion = issue.path.length === 0 ? closest(key, knownFields) : undefined;
        issues.push({
          path: `${path}/${escapePointer(key)}`,
          message: suggestion ? `unknown field (did you mean "${suggestion}"?)` : 'unknown field',
        });
      }
    } else if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
      const input = (issue as { input?: unknown }).input;
      issues.push({
        path,
        message:
          input === undefined && !path.includes('/', 1)
            ? 'is required'
            : `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}${input === undefined ? '' : `, got ${typeName(input)}`}`,
      });
    } else if (issue.code === 'invalid_value') {
      issues.push({
        path,
        message: `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`,
      });
    } else {
      issues.push({ path, message: issue.message });
    }
  }
  return issues;
}

/**
 * The known name `name` most likely meant (case- and separator-insensitive): within edit distance
 * 2, or sharing its first five characters (`epochs` → epochCount), or ending it (`displayName` →
 * tunedModelDisplayName).
 */
function closest(name: string, known: readonly string[]): string | undefined {
  const normal = (value: string) => value.toLowerCase().replace(/[-_\s]/g, '');
  const wanted = normal(name);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const target = normal(candidate);
    const distance = editDistance(wanted, target);
    const related =
      distance <= 2 ||
      (wanted.length >= 5 && target.slice(0, 5) === wanted.slice(0, 5)) ||
      (wanted.length >= 4 && target.endsWith(wanted));
    if (related && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
