/**
 * tunedrop's configuration, validated with zod from an env object the caller passes in (never read
 * at import time, so tests and the local stack can hand in their own). Every function reads the
 * same schema; each uses the part it needs. Variable names are listed in docs/operations.md.
 */
import { z } from 'zod';
import { DeploymentId, deploymentIdFor } from './deployment.ts';
import { loadYandexConfig, type YandexConfig } from './yandex.ts';

const adapterSizes = ['ONE', 'TWO', 'FOUR', 'EIGHT', 'SIXTEEN', 'THIRTY_TWO'] as const;
export const AdapterSize = z.enum(adapterSizes);
export type AdapterSize = z.infer<typeof AdapterSize>;

/** Who must approve a job before it starts: nobody, a person, or nobody below a cost in USD. */
export const ApprovalPolicy = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('auto') }),
  z.object({ mode: z.literal('manual') }),
  z.object({ mode: z.literal('budget'), maxCostUsd: z.number().nonnegative() }),
]);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

export const WebhookEndpoint = z.object({
  url: z.url(),
  /** `whsec_...` secrets; two while a secret rotates (every one signs, receivers accept either). */
  secrets: z.array(z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, 'a webhook secret starts with whsec_')).min(1),
  /** Event types this endpoint wants (`tunedrop.v1.job.succeeded`...); empty means all. */
  types: z.array(z.string()).default([]),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

/** A modest ceiling: a few typical tuning runs, far below what a mistaken upload could cost. */
export const defaultAutoApproveMaxUsd = 50;

/** TUNEDROP_EVENT_MAX_AGE_MINUTES' default: how long ingest keeps retrying an event. */
export const defaultEventMaxAgeMinutes = 24 * 60;
/** The deployed ingest function's timeout (terraform/functions.tf, ingest_timeout_seconds; a unit test keeps them equal). */
export const ingestTimeoutMs = 540_000;

/**
 * How long a provider dataset with no job record is kept: an ingest retries its event for up to
 * the event max age, and its last attempt may run a whole timeout before it creates the record.
 * An hour more absorbs clock skew between tunedrop and the provider.
 */
export const datasetOrphanGraceMs = (eventMaxAgeMs: number) => eventMaxAgeMs + ingestTimeoutMs + 3_600_000;

const EnvSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string().min(1).default('tunedrop-local'),
  TUNEDROP_REGION: z.string().min(1).default('us-central1'),
  TUNEDROP_BUCKET: z.string().min(1).default('tunedrop-local'),
  /** Set for the local stack: the folder standing in for the bucket. Unset: Cloud Storage. */
  TUNEDROP_BUCKET_DIR: z.string().min(1).optional(),
  TUNEDROP_FIRESTORE_DATABASE: z.string().min(1).default('(default)'),
  TUNEDROP_JOBS_COLLECTION: z.string().min(1).default('tunedrop-jobs'),
  /** Unset: derived from the project, database and collection (deployment.ts). */
  TUNEDROP_DEPLOYMENT_ID: DeploymentId.optional(),
  TUNEDROP_EVENTS_TOPIC: z.string().min(1).default('tuning-events'),
  /** Overrides `https://{region}-aiplatform.googleapis.com`, e.g. to point at the emulator. */
  TUNEDROP_VERTEX_ENDPOINT: z.url().optional(),
  TUNEDROP_DEFAULT_BASE_MODEL: z.string().min(1).default('gemini-3.5-flash'),
  /**
   * The operator's model catalog override, merged over the built-in catalog: a file path, or a
   * gs://BUCKET/OBJECT in the cloud. Read once per function instance (shared/models).
   */
  TUNEDROP_MODEL_CATALOG: z
    .string()
    .trim()
    .min(1)
    .refine((value) => !value.startsWith('gs://') || /^gs:\/\/[^/]+\/.+$/.test(value), {
      error: 'must be a file path or gs://BUCKET/OBJECT',
    })
    .optional(),
  TUNEDROP_DEFAULT_EPOCH_COUNT: z.coerce.number().int().positive().optional(),
  TUNEDROP_DEFAULT_LEARNING_RATE_MULTIPLIER: z.coerce.number().positive().optional(),
  TUNEDROP_DEFAULT_ADAPTER_SIZE: AdapterSize.optional(),
  TUNEDROP_APPROVAL: z.enum(['auto', 'manual', 'budget']).default('auto'),
  TUNEDROP_APPROVAL_BUDGET_USD: z.coerce.number().nonnegative().optional(),
  /** No job whose estimate is above this starts without a person, whatever the policy; `off` disables. */
  TUNEDROP_AUTO_APPROVE_MAX_USD: z
    .union([z.literal('off'), z.coerce.number().nonnegative()], {
      error: 'must be a number of US dollars (e.g. 50) or off',
    })
    .default(defaultAutoApproveMaxUsd),
  TUNEDROP_MAX_CONCURRENT_JOBS: int(4),
  TUNEDROP_STALL_TIMEOUT_MINUTES: int(120),
  /** A DRAFT nobody approved within this many hours becomes EXPIRED (job.expired); 7 days by default. */
  TUNEDROP_DRAFT_TTL_HOURS: z.coerce
    .number()
    .positive()
    .default(7 * 24),
  /** Events older than this are acknowledged and logged instead of retried forever. */
  TUNEDROP_EVENT_MAX_AGE_MINUTES: int(defaultEventMaxAgeMinutes),
  /** JSON array of {url, secrets, types}; secrets may be given by env name as {secretEnv: NAME}. */
  TUNEDROP_WEBHOOKS: z.string().default('[]'),
  TUNEDROP_WEBHOOK_REQUIRE_HTTPS: bool(true),
  /** Hosts exempt from the private-address guard: the local stack's receivers only. */
  TUNEDROP_WEBHOOK_ALLOW_HOSTS: z.string().default(''),
  TUNEDROP_WEBHOOK_TIMEOUT_MS: int(15_000),
  TUNEDROP_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR']).default('INFO'),
  /** Comma-separated; `none` allows none. Unset: a manifest may name any (IAM still decides). */
  TUNEDROP_ALLOWED_SERVICE_ACCOUNTS: z.string().optional(),
  TUNEDROP_ALLOWED_KMS_KEYS: z.string().optional(),
  /** Training examples counted with the tokenizer for the cost estimate (0: an assumed ratio). */
  TUNEDROP_TOKEN_SAMPLE: z.coerce.number().int().nonnegative().default(200),
});

export interface Config {
  project: string;
  region: string;
  bucket: string;
  bucketDir?: string;
  firestoreDatabase: string;
  jobsCollection: string;
  /**
   * The label value (`tunedrop-deployment`) on what this deployment creates at a shared provider
   * folder; only what carries it is listed, adopted, cancelled or freed (deployment.ts).
   */
  deploymentId: string;
  eventsTopic: string;
  vertexEndpoint: string;
  /** TUNEDROP_MODEL_CATALOG: where the operator's catalog override is; unset: built-in only. */
  modelCatalog?: string;
  defaults: {
    baseModel: string;
    epochCount?: number;
    learningRateMultiplier?: number;
    adapterSize?: AdapterSize;
  };
  approval: ApprovalPolicy;
  /** TUNEDROP_AUTO_APPROVE_MAX_USD: no automatic start above this estimate; null when off. */
  autoApproveMaxUsd: number | null;
  maxConcurrentJobs: number;
  stallTimeoutMs: number;
  /** How long a DRAFT waits for its approval before the poller expires it. */
  draftTtlMs: number;
  eventMaxAgeMs: number;
  webhooks: {
    endpoints: WebhookEndpoint[];
    requireHttps: boolean;
    allowHosts: string[];
    timeoutMs: number;
  };
  logLevel: z.infer<typeof EnvSchema>['TUNEDROP_LOG_LEVEL'];
  /**
   * What a manifest may name in `serviceAccount` and `kmsKeyName`: the accounts and keys the
   * deployment granted (terraform/iam.tf). A list (possibly empty) is enforced; undefined is not.
   */
  allowed: AllowList;
  /** Examples counted with the tokenizer for the estimate behind the budget gate (see token-estimate.ts). */
  tokenSample: number;
  /** Yandex AI Studio, when TUNEDROP_YANDEX_FOLDER_ID is set (shared/config/yandex.ts). */
  yandex?: YandexConfig;
}

export interface AllowList {
  serviceAccounts?: string[];
  kmsKeys?: string[];
}

/** `a,b` → [a, b]; `none` → [] (the deployment allows none); unset → undefined (no check). */
export function parseAllowList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  return items.length === 1 && items[0]!.toLowerCase() === 'none' ? [] : items;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const RawWebhook = z.object({
  url: z.string(),
  secrets: z.array(z.string()).optional(),
  secretEnv: z.array(z.string()).or(z.string()).optional(),
  types: z.array(z.string()).optional(),
});

function parseWebhooks(json: string, env: Record<string, string | undefined>): WebhookEndpoint[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ConfigError('TUNEDROP_WEBHOOKS is not valid JSON');
  }
  const list = z.array(RawWebhook).safeParse(raw);
  if (!list.success) throw new ConfigError(`TUNEDROP_WEBHOOKS: ${z.prettifyError(list.error)}`);
  return list.data.map((hook, index) => {
    const names = hook.secretEnv === undefined ? [] : [hook.secretEnv].flat();
    const fromEnv = names.map((name) => {
      const value = env[name];
      if (!value)
        throw new ConfigError(`TUNEDROP_WEBHOOKS[${index}]: environment variable ${name} is not set`);
      return value.trim();
    });
    const parsed = WebhookEndpoint.safeParse({
      url: hook.url,
      secrets: [...(hook.secrets ?? []), ...fromEnv],
      types: hook.types,
    });
    // The message names the field, never the secret's value.
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
      throw new ConfigError(`TUNEDROP_WEBHOOKS[${index}] is invalid at ${fields}`);
    }
    return parsed.data;
  });
}

function yandexSetting(env: Record<string, string | undefined>): { yandex?: YandexConfig } {
  const yandex = loadYandexConfig(env, (message) => new ConfigError(message));
  return yandex ? { yandex } : {};
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  let approval: ApprovalPolicy;
  if (e.TUNEDROP_APPROVAL === 'budget') {
    if (e.TUNEDROP_APPROVAL_BUDGET_USD === undefined) {
      throw new ConfigError('TUNEDROP_APPROVAL=budget needs TUNEDROP_APPROVAL_BUDGET_USD');
    }
    approval = { mode: 'budget', maxCostUsd: e.TUNEDROP_APPROVAL_BUDGET_USD };
  } else {
    approval = { mode: e.TUNEDROP_APPROVAL };
  }
  return {
    project: e.GOOGLE_CLOUD_PROJECT,
    region: e.TUNEDROP_REGION,
    bucket: e.TUNEDROP_BUCKET,
    bucketDir: e.TUNEDROP_BUCKET_DIR,
    firestoreDatabase: e.TUNEDROP_FIRESTORE_DATABASE,
    jobsCollection: e.TUNEDROP_JOBS_COLLECTION,
    deploymentId:
      e.TUNEDROP_DEPLOYMENT_ID ??
      deploymentIdFor({
        project: e.GOOGLE_CLOUD_PROJECT,
        firestoreDatabase: e.TUNEDROP_FIRESTORE_DATABASE,
        jobsCollection: e.TUNEDROP_JOBS_COLLECTION,
      }),
    eventsTopic: e.TUNEDROP_EVENTS_TOPIC,
    vertexEndpoint: e.TUNEDROP_VERTEX_ENDPOINT ?? `https://${e.TUNEDROP_REGION}-aiplatform.googleapis.com`,
    ...(e.TUNEDROP_MODEL_CATALOG === undefined ? {} : { modelCatalog: e.TUNEDROP_MODEL_CATALOG }),
    defaults: {
      baseModel: e.TUNEDROP_DEFAULT_BASE_MODEL,
      epochCount: e.TUNEDROP_DEFAULT_EPOCH_COUNT,
      learningRateMultiplier: e.TUNEDROP_DEFAULT_LEARNING_RATE_MULTIPLIER,
      adapterSize: e.TUNEDROP_DEFAULT_ADAPTER_SIZE,
    },
    approval,
    autoApproveMaxUsd: e.TUNEDROP_AUTO_APPROVE_MAX_USD === 'off' ? null : e.TUNEDROP_AUTO_APPROVE_MAX_USD,
    maxConcurrentJobs: e.TUNEDROP_MAX_CONCURRENT_JOBS,
    stallTimeoutMs: e.TUNEDROP_STALL_TIMEOUT_MINUTES * 60_000,
    draftTtlMs: Math.round(e.TUNEDROP_DRAFT_TTL_HOURS * 3_600_000),
    eventMaxAgeMs: e.TUNEDROP_EVENT_MAX_AGE_MINUTES * 60_000,
    webhooks: {
      endpoints: parseWebhooks(e.TUNEDROP_WEBHOOKS, env),
      requireHttps: e.TUNEDROP_WEBHOOK_REQUIRE_HTTPS,
      allowHosts: e.TUNEDROP_WEBHOOK_ALLOW_HOSTS.split(',')
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
      timeoutMs: e.TUNEDROP_WEBHOOK_TIMEOUT_MS,
    },
    logLevel: e.TUNEDROP_LOG_LEVEL,
    allowed: {
      serviceAccounts: parseAllowList(e.TUNEDROP_ALLOWED_SERVICE_ACCOUNTS),
      kmsKeys: parseAllowList(e.TUNEDROP_ALLOWED_KMS_KEYS),
    },
    tokenSample: e.TUNEDROP_TOKEN_SAMPLE,
    ...yandexSetting(cleaned),
  };
}

export { DeploymentId, deploymentIdFor } from './deployment.ts';
export { defaultYandexEndpointSetting, type YandexAuthSetting, type YandexConfig } from './yandex.ts';
