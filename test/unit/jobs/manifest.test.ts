import { describe, expect, it } from 'vitest';
import {
  formatIssue,
  labelIssues,
  parseGcsUri,
  parseManifest,
  parseMetadataOverrides,
  resolveDatasetRef,
  specFromManifest,
} from '../../../shared/jobs/manifest.ts';
import type { TuningSpec } from '../../../shared/jobs/model.ts';
import { preflightSpec } from '../../../shared/jobs/preflight.ts';
import { builtinCatalog, mergeCatalog } from '../../../shared/models/index.ts';

const messages = (text: string) => {
  const result = parseManifest(text);
  return result.ok ? [] : result.issues.map(formatIssue);
};
const manifest = (fields: Record<string, unknown>) =>
  JSON.stringify({ trainingDataset: 'train.jsonl', ...fields });

describe('tuning.json manifest', () => {
  it('accepts every documented field', () => {
    const result = parseManifest(
      manifest({
        baseModel: 'gemini-3.5-flash',
        validationDataset: 'gs://other-bucket/val.jsonl',
        epochCount: 3,
        learningRateMultiplier: 0.5,
        adapterSize: 'FOUR',
        tunedModelDisplayName: 'support bot',
        description: 'answers support tickets',
        labels: { team: 'support', env: 'prod' },
        kmsKeyName: 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k',
        serviceAccount: 'tuner@p.iam.gserviceaccount.com',
        approval: { maxCostUsd: 20 },
      }),
    );
    expect(result.ok).toBe(true);
    expect(result.ok && result.value.approval).toEqual({ maxCostUsd: 20 });
  });

  it('rejects an unknown field and suggests the field that was meant', () => {
    expect(messages(manifest({ epochsCount: 3 }))).toEqual([
      '/epochsCount: unknown field (did you mean "epochCount"?)',
    ]);
    expect(messages(manifest({ epoch: 3 }))).toEqual(['/epoch: unknown field (did you mean "epochCount"?)']);
    expect(messages(manifest({ displayName: 'x' }))).toEqual([
      '/displayName: unknown field (did you mean "tunedModelDisplayName"?)',
    ]);
    expect(messages(manifest({ colour: 'red' }))).toEqual(['/colour: unknown field']);
  });

  it('names the field in every error', () => {
    expect(messages(manifest({ epochCount: 0 }))).toEqual(['/epochCount: must be positive']);
    expect(messages(manifest({ epochCount: 1.5 }))).toEqual(['/epochCount: must be a whole number']);
    expect(messages(manifest({ learningRateMultiplier: -1 }))).toEqual([
      '/learningRateMultiplier: must be positive',
    ]);
    expect(messages(manifest({ epochCount: '3' }))).toEqual(['/epochCount: must be a number, got a string']);
    expect(messages(manifest({ adapterSize: 'THREE' }))[0]).toMatch(
      /^\/adapterSize: must be one of "ONE", "TWO"/,
    );
    expect(messages(JSON.stringify({}))).toEqual(['/trainingDataset: is required']);
  });

  it('rejects text that is not a JSON object', () => {
    expect(messages('{ nope')[0]).toMatch(/^\/: not valid JSON/);
    expect(messages('[1]')).toEqual(['/: must be a JSON object']);
  });

  it('leaves the base model to preflight: an unknown id parses, an empty one does not', () => {
    expect(parseManifest(manifest({ baseModel: 'gemini-4-flash' })).ok).toBe(true);
    expect(messages(manifest({ baseModel: '' }))).toEqual(['/baseModel: must not be empty']);
  });

  it('takes strict as a boolean', () => {
    expect(parseManifest(manifest({ strict: true })).ok).toBe(true);
    expect(messages(manifest({ strict: 'yes' }))).toEqual(['/strict: must be a boolean, got a string']);
  });

  it('checks the approval setting', () => {
    expect(parseManifest(manifest({ approval: 'manual' })).ok).toBe(true);
    expect(messages(manifest({ approval: 'sometimes' }))).toEqual([
      '/approval: must be "auto", "manual" or {"maxCostUsd": <USD>}',
    ]);
    expect(messages(manifest({ approval: { maxCostUsd: -1 } }))).toEqual([
      '/approval/maxCostUsd: must not be negative',
    ]);
  });

  it('rejects malformed gs:// dataset URIs and absolute paths', () => {
    expect(messages(manifest({ trainingDataset: 'gs://Bad_Bucket!/x.jsonl' }))[0]).toMatch(
      /^\/trainingDataset: must be a gs:/,
    );
    expect(messages(manifest({ trainingDataset: 'gs://bucket' }))[0]).toMatch(/^\/trainingDataset:/);
    expect(messages(manifest({ trainingDataset: '/etc/data.jsonl' }))[0]).toMatch(/must be relative/);
  });

  it('refuses a display name over 128 characters and counts characters, not bytes', () => {
    expect(messages(manifest({ tunedModelDisplayName: 'é'.repeat(128) }))).toEqual([]);
    expect(messages(manifest({ tunedModelDisplayName: 'a'.repeat(129) }))).toEqual([
      '/tunedModelDisplayName: must be at most 128 characters',
    ]);
  });

  it('reports label problems under the label key', () => {
    expect(messages(manifest({ labels: { Team: 'x' } }))[0]).toMatch(
      /^\/labels\/Team: label key must start with a lowercase letter/,
    );
  });
});

describe('labels', () => {
  it('accepts lowercase letters of any script, digits, _ and -', () => {
    expect(labelIssues({ team: 'ml-ops_2', équipe: 'données', チーム: 'ｍｌ', 'k-1': '' })).toEqual([]);
  });

  it('refuses uppercase, a leading digit, other characters and overlong keys or values', () => {
    expect(labelIssues({ Team: 'x' })).toHaveLength(1);
    expect(labelIssues({ '1team': 'x' })).toHaveLength(1);
    expect(labelIssues({ team: 'Support' })).toHaveLength(1);
    expect(labelIssues({ team: 'a.b' })).toHaveLength(1);
    expect(labelIssues({ ['k'.repeat(64)]: 'x' })).toHaveLength(1);
    expect(labelIssues({ k: 'v'.repeat(64) })).toHaveLength(1);
    expect(labelIssues({ ['k'.repeat(63)]: 'v'.repeat(63) })).toEqual([]);
  });

  it('reserves tunedrop-* keys for tunedrop', () => {
    expect(labelIssues({ 'tunedrop-job-id': 'abc' })[0]?.message).toMatch(/reserved/);
  });

  it('leaves room for the two labels tunedrop adds', () => {
    const labels = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 'v']));
    expect(labelIssues(labels(62))).toEqual([]);
    expect(labelIssues(labels(63))[0]?.message).toMatch(/at most 62 labels/);
  });
});

describe('dataset references', () => {
  const at = { bucket: 'drop', name: 'incoming/team/tuning.json' };
  it('resolves relative paths against the manifest folder, and gs:// URIs as they are', () => {
    expect(resolveDatasetRef('train.jsonl', at)).toEqual({
      ok: true,
      value: 'gs://drop/incoming/team/train.jsonl',
    });
    expect(resolveDatasetRef('./data/../sub/train.jsonl', at)).toEqual({
      ok: true,
      value: 'gs://drop/incoming/team/sub/train.jsonl',
    });
    expect(resolveDatasetRef('gs://other/x.jsonl', at)).toEqual({ ok: true, value: 'gs://other/x.jsonl' });
    expect(resolveDatasetRef('gs://drop/incoming/shared/x.jsonl', at)).toEqual({
      ok: true,
      value: 'gs://drop/incoming/shared/x.jsonl',
    });
  });

  it("refuses a relative path that leaves the manifest's folder, saying where it leads and what to do", () => {
    expect(resolveDatasetRef('../../other/x.jsonl', at)).toEqual({
      ok: false,
      issues: [
        {
          path: '',
          message:
            "../../other/x.jsonl points outside the manifest's folder incoming/team/ (it resolves to other/x.jsonl): name a file inside that folder, or a dataset elsewhere by its full gs://BUCKET/OBJECT URI",
        },
      ],
    });
    for (const ref of ['../shared/x.jsonl', 'sub/../../x.jsonl', '../../../x.jsonl', '..', '.', 'sub/']) {
      expect(resolveDatasetRef(ref, at).ok, ref).toBe(false);
    }
  });

  it('parses well-formed gs:// URIs only', () => {
    expect(parseGcsUri('gs://my-bucket.example/a/b.jsonl')).toEqual({
      bucket: 'my-bucket.example',
      object: 'a/b.jsonl',
    });
    expect(parseGcsUri('gs://my-bucket/')).toBeUndefined();
    expect(parseGcsUri('gs://MyBucket/a')).toBeUndefined();
    expect(parseGcsUri('gs://ab/a')).toBeUndefined();
    expect(parseGcsUri('https://storage.googleapis.com/b/a')).toBeUndefined();
  });
});

describe('metadata overrides', () => {
  it('reads every override, from strings', () => {
    const result = parseMetadataOverrides({
      'base-model': 'gemini-2.5-pro',
      'epoch-count': '2',
      'learning-rate-multiplier': '0.5',
      'adapter-size': 'eight',
      'display-name': 'my model',
      approval: 'budget:12.5',
      strict: 'true',
      owner: 'someone',
    });
    expect(result).toEqual({
      ok: true,
      value: {
        baseModel: 'gemini-2.5-pro',
        epochCount: 2,
        learningRateMultiplier: 0.5,
        adapterSize: 'EIGHT',
        tunedModelDisplayName: 'my model',
        approval: { mode: 'budget', maxCostUsd: 12.5 },
        strict: true,
        unknownKeys: [],
      },
    });
  });

  it('validates overrides like the manifest does, naming the metadata key', () => {
    const result = parseMetadataOverrides({
      'epoch-count': '0',
      'adapter-size': 'HUGE',
      approval: 'maybe',
      'base-model': ' ',
      strict: 'yes',
    });
    expect(result.ok ? [] : result.issues.map(formatIssue)).toEqual([
      '/epoch-count: must be positive',
      '/adapter-size: must be one of ONE, TWO, FOUR, EIGHT, SIXTEEN, THIRTY_TWO',
      '/approval: must be auto, manual or budget:<USD>',
      '/base-model: must not be empty',
      '/strict: must be true or false, got "yes"',
    ]);
    const notNumber = parseMetadataOverrides({ 'epoch-count': '2 epochs' });
    expect(notNumber.ok ? [] : notNumber.issues.map(formatIssue)).toEqual([
      '/epoch-count: must be a number, got "2 epochs"',
    ]);
  });

  it('reports a near-miss of an override key instead of silently ignoring it', () => {
    const result = parseMetadataOverrides({ epoch_count: '2', 'goog-reserved-file-mtime': '1' });
    expect(result.ok && result.value.unknownKeys).toEqual(['epoch_count']);
  });
});

describe('preflight', () => {
  const spec: TuningSpec = {
    baseModel: 'gemini-3.5-flash',
    trainingDatasetUri: 'gs://drop/incoming/a.jsonl',
    labels: {},
  };
  const context = { catalog: builtinCatalog(), today: '2026-12-03', region: 'us-central1' };
  const messagesOf = (checked: { path: string; message: string }[]) => checked.map(formatIssue);

  it('passes a spec Vertex AI accepts', () => {
    const checked = preflightSpec(
      { ...spec, epochCount: 3, adapterSize: 'SIXTEEN', labels: { team: 'a' } },
      context,
    );
    expect(checked.issues).toEqual([]);
    expect(checked.warnings).toEqual([]);
    expect(checked.model.id).toBe('gemini-3.5-flash');
  });

  it('finds what Vertex AI would refuse', () => {
    const issues = preflightSpec(
      {
        ...spec,
        baseModel: 'gemini-2.0-flash',
        trainingDatasetUri: 'train.jsonl',
        epochCount: -1,
        learningRateMultiplier: 0,
        tunedModelDisplayName: 'x'.repeat(200),
        kmsKeyName: 'key',
        serviceAccount: 'not-an-email',
        labels: { Bad: 'x' },
      },
      context,
    ).issues.map((issue) => issue.path);
    expect(issues).toEqual([
      '/baseModel',
      '/trainingDatasetUri',
      '/epochCount',
      '/learningRateMultiplier',
      '/tunedModelDisplayName',
      '/kmsKeyName',
      '/serviceAccount',
      '/labels/Bad',
    ]);
  });

  it('refuses a retired model with its date and replacements', () => {
    const checked = preflightSpec({ ...spec, baseModel: 'gemini-2.0-flash-001' }, context);
    expect(checked.retired).toBe(true);
    expect(messagesOf(checked.issues)).toEqual([
      '/baseModel: gemini-2.0-flash-001 was retired on 2026-06-01; use gemini-3.5-flash-lite or gemini-3.5-flash',
    ]);
  });

  it('passes an unknown model with a warning, so Vertex AI answers for it', () => {
    const checked = preflightSpec(
      { ...spec, baseModel: 'gemini-4-flash', adapterSize: 'THIRTY_TWO' },
      context,
    );
    expect(checked.issues).toEqual([]);
    expect(messagesOf(checked.warnings)[0]).toMatch(
      /^\/baseModel: unknown model "gemini-4-flash": checked with conservative limits; the catalog's facts are as of/,
    );
  });

  it('warns for an unconfirmed retirement and within 30 days of one', () => {
    const past = preflightSpec({ ...spec, baseModel: 'gemini-2.5-pro' }, context);
    expect(past.issues).toEqual([]);
    expect(messagesOf(past.warnings)[0]).toContain('listed for retirement on 2026-10-20');
    const soon = preflightSpec({ ...spec, baseModel: 'gemini-2.5-pro' }, { ...context, today: '2026-10-05' });
    expect(messagesOf(soon.warnings)[0]).toContain('(in 15 days)');
  });

  it('refuses an adapter size the model does not offer, listing the allowed ones from the catalog', () => {
    expect(
      messagesOf(
        preflightSpec({ ...spec, baseModel: 'gemini-2.5-pro', adapterSize: 'SIXTEEN' }, context).issues,
      ),
    ).toEqual([
      '/adapterSize: SIXTEEN: adapter size 16 is not available for gemini-2.5-pro; allowed: 1, 2, 4, 8 (ONE, TWO, FOUR, EIGHT)',
    ]);
    expect(preflightSpec({ ...spec, adapterSize: 'THIRTY_TWO' }, context).issues[0]?.message).toContain(
      'allowed: 1, 2, 4, 8, 16',
    );
    expect(preflightSpec({ ...spec, adapterSize: 'TWO' }, context).issues).toEqual([]);
  });

  it('refuses a location the model cannot be tuned in, and a CMEK key where CMEK is unsupported', () => {
    const key = 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k';
    expect(messagesOf(preflightSpec(spec, { ...context, region: 'asia-northeast1' }).issues)).toEqual([
      '/baseModel: gemini-3.5-flash cannot be tuned in asia-northeast1; tuning regions: us-central1, europe-west4; this deployment creates tuning jobs in asia-northeast1 (TUNEDROP_REGION)',
    ]);
    expect(messagesOf(preflightSpec({ ...spec, kmsKeyName: key }, context).issues)).toEqual([
      '/kmsKeyName: gemini-3.5-flash tuning does not support customer-managed encryption keys (kmsKeyName)',
    ]);
    // Where the catalog does not know (2.5: regions and CMEK not stated), nothing is refused.
    expect(
      preflightSpec(
        { ...spec, baseModel: 'gemini-2.5-pro', kmsKeyName: key },
        { ...context, region: 'asia-northeast1' },
      ).issues,
    ).toEqual([]);
  });

  it("follows the operator's catalog override", () => {
    const catalog = mergeCatalog(
      builtinCatalog(),
      {
        models: [
          { id: 'gemini-3.5-flash', tuningRegions: ['us-central1', 'europe-west4', 'asia-northeast1'] },
        ],
      },
      'a test override',
    );
    expect(preflightSpec(spec, { ...context, catalog, region: 'asia-northeast1' }).issues).toEqual([]);
  });
});

describe('the TuningSpec of a manifest', () => {
  const parsed = (fields: Record<string, unknown>) => {
    const result = parseManifest(manifest(fields));
    if (!result.ok) throw new Error(result.issues.map(formatIssue).join('; '));
    return result.value;
  };
  const defaults = {
    baseModel: 'gemini-3.5-flash',
    epochCount: 3,
    learningRateMultiplier: 0.5,
    adapterSize: 'EIGHT' as const,
  };

  it("takes every setting the manifest gives over the deployment's defaults", () => {
    const spec = specFromManifest(
      parsed({
        baseModel: 'gemini-3.5-flash-lite',
        validationDataset: 'val.jsonl',
        epochCount: 2,
        learningRateMultiplier: 1.5,
        adapterSize: 'FOUR',
        tunedModelDisplayName: 'support bot',
        description: 'answers support questions',
        labels: { team: 'support' },
        kmsKeyName: 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k',
        serviceAccount: 'tuner@p.iam.gserviceaccount.com',
      }),
      defaults,
      { training: 'gs://b/incoming/run/train.jsonl', validation: 'gs://b/incoming/run/val.jsonl' },
    );
    expect(spec).toEqual({
      baseModel: 'gemini-3.5-flash-lite',
      trainingDatasetUri: 'gs://b/incoming/run/train.jsonl',
      validationDatasetUri: 'gs://b/incoming/run/val.jsonl',
      epochCount: 2,
      learningRateMultiplier: 1.5,
      adapterSize: 'FOUR',
      tunedModelDisplayName: 'support bot',
      description: 'answers support questions',
      labels: { team: 'support' },
      kmsKeyName: 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k',
      serviceAccount: 'tuner@p.iam.gserviceaccount.com',
    });
  });

  it('falls back on the defaults where the manifest is silent, and leaves unset fields out', () => {
    const spec = specFromManifest(parsed({}), defaults, { training: 'gs://b/incoming/run/train.jsonl' });
    expect(spec).toEqual({
      baseModel: 'gemini-3.5-flash',
      trainingDatasetUri: 'gs://b/incoming/run/train.jsonl',
      epochCount: 3,
      learningRateMultiplier: 0.5,
      adapterSize: 'EIGHT',
      labels: {},
    });
    expect(Object.keys(spec)).not.toContain('validationDatasetUri');
    expect(
      specFromManifest(parsed({}), { baseModel: 'gemini-3.5-flash' }, { training: 'gs://b/t.jsonl' }),
    ).toEqual({ baseModel: 'gemini-3.5-flash', trainingDatasetUri: 'gs://b/t.jsonl', labels: {} });
  });
});
