/**
 * Job settings a user gives tunedrop: the `tuning.json` manifest of a folder drop, the custom
 * metadata overrides of a single-file drop, and the preflight checks both share with the CLI.
 * Preflight repeats what Vertex AI checks on `tuningJobs.create`, so a mistake is reported with
 * the dataset (and costs nothing) instead of surfacing later as a failed job.
 *
 * Every problem is a FieldIssue naming the field as a JSON pointer: `/epochCount: must be positive`.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { AdapterSize, type ApprovalPolicy, type Config } from '../config/index.ts';
import type { Catalog } from '../models/index.ts';
import { closest, escapePointer, toFieldIssues, unescapePointer } from './field-issues.ts';
import { jobIdLabel, type TuningSpec } from './model.ts';
import { providerFor, providerIssues } from './provider-rules.ts';
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
export const kmsKeyPattern = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;
export const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

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
export function parseManifest(
  text: string,
  /** The effective model catalog: an override-only Yandex model then implies provider yandex. */
  options: { catalog?: Catalog } = {},
): Checked<Manifest> {
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
  const { catalog } = options;
  const wrongProvider = providerIssues(
    parsed.data,
    providerFor(parsed.data.provider, parsed.data.baseModel, catalog),
    catalog,
  );
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
  /** The effective model catalog (see parseManifest). */
  options: { catalog?: Catalog } = {},
): TuningSpec {
  const provider = providerFor(manifest.provider, manifest.baseModel, options.catalog);
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
