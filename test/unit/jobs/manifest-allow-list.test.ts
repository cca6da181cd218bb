import { describe, expect, it } from 'vitest';
import { loadConfig, parseAllowList } from '../../../shared/config/index.ts';
import { formatIssue } from '../../../shared/jobs/manifest.ts';
import type { TuningSpec } from '../../../shared/jobs/model.ts';
import { preflightSpec } from '../../../shared/jobs/preflight.ts';
import { builtinCatalog } from '../../../shared/models/index.ts';

const key = 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k';
const otherKey = 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/other';
const spec: TuningSpec = {
  baseModel: 'gemini-2.5-pro',
  trainingDatasetUri: 'gs://datasets/incoming/a.jsonl',
  labels: {},
  serviceAccount: 'tuner@p.iam.gserviceaccount.com',
  kmsKeyName: key,
};
type AllowList = NonNullable<Parameters<typeof preflightSpec>[1]['allowed']>;
// gemini-2.5-pro: its CMEK support is unknown to the catalog, so only the allow-list can refuse a key.
const context = (allowed: AllowList) => ({ catalog: builtinCatalog(), today: '2026-12-03', allowed });
const issues = (allowed: AllowList) => preflightSpec(spec, context(allowed)).issues.map(formatIssue);

describe('the deployment allow-list of manifest service accounts and keys', () => {
  it('accepts an account and a key the deployment lists', () => {
    expect(
      issues({ serviceAccounts: ['tuner@p.iam.gserviceaccount.com'], kmsKeys: [otherKey, key] }),
    ).toEqual([]);
  });

  it('compares service account emails without regard to case', () => {
    expect(issues({ serviceAccounts: ['Tuner@P.iam.gserviceaccount.com'] })).toEqual([]);
  });

  it('refuses an account or a key that is not listed, naming the field, the list and the variable', () => {
    expect(issues({ serviceAccounts: ['other@p.iam.gserviceaccount.com'], kmsKeys: [otherKey] })).toEqual([
      '/serviceAccount: service account tuner@p.iam.gserviceaccount.com is not allowed by this deployment (allowed: other@p.iam.gserviceaccount.com; an operator adds one to allowed_tuning_service_accounts)',
      `/kmsKeyName: KMS key ${key} is not allowed by this deployment (allowed: ${otherKey}; an operator adds one to allowed_kms_keys)`,
    ]);
  });

  it('refuses every account and key when the deployment allows none', () => {
    expect(issues({ serviceAccounts: [], kmsKeys: [] })).toEqual([
      '/serviceAccount: this deployment allows no service account here (an operator adds one to allowed_tuning_service_accounts)',
      '/kmsKeyName: this deployment allows no KMS key here (an operator adds one to allowed_kms_keys)',
    ]);
  });

  it('checks nothing when no list is configured (the local stack), and nothing a spec does not name', () => {
    expect(issues({})).toEqual([]);
    expect(
      preflightSpec(
        { ...spec, serviceAccount: undefined, kmsKeyName: undefined },
        context({ serviceAccounts: [], kmsKeys: [] }),
      ).issues,
    ).toEqual([]);
  });
});

describe('TUNEDROP_ALLOWED_SERVICE_ACCOUNTS and TUNEDROP_ALLOWED_KMS_KEYS', () => {
  it('are comma-separated lists, with "none" for an empty one', () => {
    expect(parseAllowList('a@p.iam.gserviceaccount.com, b@p.iam.gserviceaccount.com,')).toEqual([
      'a@p.iam.gserviceaccount.com',
      'b@p.iam.gserviceaccount.com',
    ]);
    expect(parseAllowList('none')).toEqual([]);
    expect(parseAllowList(undefined)).toBeUndefined();
  });

  it('reach the configuration; unset means unchecked', () => {
    const config = loadConfig({ TUNEDROP_ALLOWED_SERVICE_ACCOUNTS: 'none', TUNEDROP_ALLOWED_KMS_KEYS: key });
    expect(config.allowed).toEqual({ serviceAccounts: [], kmsKeys: [key] });
    expect(loadConfig({}).allowed).toEqual({ serviceAccounts: undefined, kmsKeys: undefined });
  });
});
