/**
 * Preflight: the checks a spec gets before any dataset is read or any money spent, shared by
 * ingest and the CLI: the base model against the effective catalog (retired, adapter sizes,
 * location, CMEK), labels, the provider's own rules, and the deployment's allow-lists.
 */
import type { z } from 'zod';
import { AdapterSize, type AllowList } from '../config/index.ts';
import {
  adapterSizeIssue,
  type Catalog,
  type CatalogModel,
  cmekIssue,
  regionIssue,
  resolveModel,
} from '../models/index.ts';
import { toFieldIssues } from './field-issues.ts';
import {
  DisplayName,
  EpochCount,
  emailPattern,
  type FieldIssue,
  kmsKeyPattern,
  LearningRateMultiplier,
  labelIssues,
  parseGcsUri,
} from './manifest.ts';
import type { TuningSpec } from './model.ts';
import { specProviderIssues } from './provider-rules.ts';

/** The LoRA rank of each AdapterSize name, as the model catalog lists allowed sizes. */
const adapterSizeRank: Record<AdapterSize, number> = {
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
  issues.push(...specProviderIssues(spec, context.catalog));
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
