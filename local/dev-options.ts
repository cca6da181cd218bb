/**
 * Turns `tunedrop dev`'s flags and the `.env` file into the local stack's settings, without any
 * I/O, so every precedence rule is unit-tested: an explicit flag beats `.env`, which beats the
 * default. Webhook URLs and secrets are checked here, before anything starts, rather than failing
 * later inside deliver-webhooks.
 */

import type { PortChoice } from './ports.ts';
import type { LocalWebhook } from './stack.ts';
import { LIST_FILTER_MODES, type ListFilterMode } from './vertex-emulator/filter.ts';

export interface DevFlags {
  'bucket-dir'?: string;
  webhook?: string[];
  'webhook-secret'?: string[];
  /** Files holding the secrets instead (nothing secret on the command line, where `ps` shows it). */
  'webhook-secret-file'?: string[];
  'poll-seconds'?: string;
  'job-seconds'?: string;
  approval?: string;
  'port-base'?: string;
  'free-ports'?: boolean;
  'vertex-max-running'?: string;
  'vertex-list-filter'?: string;
  fresh?: boolean;
}

export interface DevSettings {
  /** Start with empty job data instead of what the last run on this bucket folder saved. */
  fresh: boolean;
  bucketDir: string;
  pollSeconds: number;
  jobSeconds: number;
  approval: 'auto' | 'manual';
  webhooks: LocalWebhook[];
  ports: PortChoice;
  /** The Vertex AI emulator's concurrent tuning jobs quota, and how much list filter it honours. */
  vertex: { maxRunning?: number; listFilter: ListFilterMode };
  /** Every other TUNEDROP_* setting from `.env`, passed to the functions as the deployment would. */
  env: Record<string, string>;
  /** Things to tell the user before starting, e.g. a `.env` setting the stack ignores and why. */
  notices: string[];
}

/**
 * `.env` keys that do not pass through to the functions: the one receiver's URL and secret become
 * a --webhook/--webhook-secret pair, the approval mode is resolved against --approval, and the
 * receiver list and loopback allow-list are built by the stack itself from those receivers.
 */
const consumedKeys = new Set(['TUNEDROP_WEBHOOK_URL', 'TUNEDROP_WEBHOOK_SECRET', 'TUNEDROP_APPROVAL']);
const stackBuiltKeys = ['TUNEDROP_WEBHOOKS', 'TUNEDROP_WEBHOOK_ALLOW_HOSTS'] as const;

export type DevSettingsResult = { ok: true; settings: DevSettings } | { ok: false; message: string };

/** Why `url` cannot be a webhook receiver, or undefined. Never echoes the URL: it may hold a token. */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not an absolute URL (expected http://host[:port]/path or https://...)';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `uses ${parsed.protocol.replace(/:$/, '')}; only http and https receivers are supported`;
  }
  return undefined;
}

/** Why `secret` is not a usable Standard Webhooks secret, or undefined. Never echoes the secret. */
export function webhookSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith('whsec_')) return 'must start with whsec_ (a Standard Webhooks secret)';
  const encoded = secret.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || Buffer.from(encoded, 'base64').length === 0) {
    return 'must be whsec_ followed by base64 (e.g. whsec_$(openssl rand -base64 24))';
  }
  return undefined;
}

function positive(value: string | undefined, fallback: number, flag: string): number | string {
  if (value === undefined) return fallback;
  const number = Number(value);
  return Number.isFinite(number) && number > 0 ? number : `${flag} must be a positive number`;
}

/** Reads a secret file; dev.ts passes the real one, tests their own (this module does no I/O). */
export type ReadSecretFile = (path: string) => string;

export function resolveDevSettings(
  flags: DevFlags,
  dotEnv: Record<string, string>,
  readSecretFile: ReadSecretFile = () => {
    throw new Error('no secret file reader given');
  },
): DevSettingsResult {
  const fail = (message: string): DevSettingsResult => ({ ok: false, message });

  const approval = flags.approval ?? dotEnv.TUNEDROP_APPROVAL ?? 'auto';
  if (approval !== 'auto' && approval !== 'manual') {
    const source = flags.approval === undefined ? 'TUNEDROP_APPROVAL in .env' : '--approval';
    return fail(`${source} must be auto or manual`);
  }
  const pollSeconds = positive(flags['poll-seconds'], 5, '--poll-seconds');
  if (typeof pollSeconds === 'string') return fail(pollSeconds);
  const jobSeconds = positive(flags['job-seconds'], 10, '--job-seconds');
  if (typeof jobSeconds === 'string') return fail(jobSeconds);

  const vertex: DevSettings['vertex'] = { listFilter: 'full' };
  const maxRunning = flags['vertex-max-running'];
  if (maxRunning !== undefined) {
    const number = Number(maxRunning);
    if (!Number.isInteger(number) || number < 1)
      return fail('--vertex-max-running must be a whole number of 1 or more');
    vertex.maxRunning = number;
  }
  const listFilter = flags['vertex-list-filter'];
  if (listFilter !== undefined) {
    if (!(LIST_FILTER_MODES as readonly string[]).includes(listFilter)) {
      return fail(`--vertex-list-filter must be one of ${LIST_FILTER_MODES.join(', ')}`);
    }
    vertex.listFilter = listFilter as ListFilterMode;
  }

  let ports: PortChoice = { kind: 'default' };
  if (flags['free-ports'] && flags['port-base'] !== undefined) {
    return fail('give either --free-ports or --port-base, not both');
  }
  if (flags['free-ports']) ports = { kind: 'free' };
  if (flags['port-base'] !== undefined) {
    const base = Number(flags['port-base']);
    if (!Number.isInteger(base) || base < 1024 || base > 65525) {
      return fail('--port-base must be a whole number from 1024 to 65525');
    }
    ports = { kind: 'base', base };
  }

  // Flags first, then the one receiver .env may name.
  const candidates: { url: string; secret: string | undefined; source: string }[] = [];
  const urls = flags.webhook ?? [];
  const files = flags['webhook-secret-file'] ?? [];
  if (files.length > 0 && (flags['webhook-secret'] ?? []).length > 0) {
    return fail('give either --webhook-secret or --webhook-secret-file, not both');
  }
  let secrets = flags['webhook-secret'] ?? [];
  if (files.length > 0) {
    secrets = [];
    for (const [index, file] of files.entries()) {
      try {
        secrets.push(readSecretFile(file).trim());
      } catch (error) {
        return fail(
          `--webhook-secret-file #${index + 1} (${file}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
    }
  }
  if (urls.length !== secrets.length) {
    return fail(
      'give one --webhook-secret (whsec_...) or --webhook-secret-file per --webhook, in the same order',
    );
  }
  for (const [index, url] of urls.entries()) {
    candidates.push({ url, secret: secrets[index], source: `--webhook #${index + 1}` });
  }
  if (dotEnv.TUNEDROP_WEBHOOK_URL !== undefined || dotEnv.TUNEDROP_WEBHOOK_SECRET !== undefined) {
    if (!dotEnv.TUNEDROP_WEBHOOK_URL || !dotEnv.TUNEDROP_WEBHOOK_SECRET) {
      return fail('.env must set both TUNEDROP_WEBHOOK_URL and TUNEDROP_WEBHOOK_SECRET, or neither');
    }
    candidates.push({
      url: dotEnv.TUNEDROP_WEBHOOK_URL,
      secret: dotEnv.TUNEDROP_WEBHOOK_SECRET,
      source: 'TUNEDROP_WEBHOOK_URL in .env',
    });
  }
  const webhooks: LocalWebhook[] = [];
  for (const candidate of candidates) {
    const urlProblem = webhookUrlProblem(candidate.url);
    if (urlProblem) return fail(`${candidate.source} ${urlProblem}`);
    const secretProblem = webhookSecretProblem(candidate.secret ?? '');
    if (secretProblem) return fail(`the secret for ${candidate.source} ${secretProblem}`);
    webhooks.push({ url: candidate.url, secret: candidate.secret ?? '' });
  }

  // The rest of .env's TUNEDROP_* (TUNEDROP_WEBHOOK_TIMEOUT_MS included) reaches the functions as is.
  const ignored = new Set<string>(stackBuiltKeys);
  const env = Object.fromEntries(
    Object.entries(dotEnv).filter(
      ([key]) => key.startsWith('TUNEDROP_') && !consumedKeys.has(key) && !ignored.has(key),
    ),
  );
  const notices = stackBuiltKeys
    .filter((key) => dotEnv[key] !== undefined)
    .map(
      (key) =>
        `${key} in .env is ignored: the local stack builds it from --webhook/--webhook-secret and TUNEDROP_WEBHOOK_URL/TUNEDROP_WEBHOOK_SECRET`,
    );
  return {
    ok: true,
    settings: {
      fresh: flags.fresh ?? false,
      bucketDir: flags['bucket-dir'] ?? '.tunedrop/bucket',
      pollSeconds,
      jobSeconds,
      approval,
      webhooks,
      ports,
      vertex,
      env: { ...env, TUNEDROP_APPROVAL: approval },
      notices,
    },
  };
}
