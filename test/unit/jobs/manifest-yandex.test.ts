import { describe, expect, it } from 'vitest';
import { formatIssue, parseManifest, specFromManifest } from '../../../shared/jobs/manifest.ts';
import { preflightSpec } from '../../../shared/jobs/preflight.ts';
import { builtinCatalog, mergeCatalog } from '../../../shared/models/index.ts';

const messages = (fields: Record<string, unknown>) => {
  const result = parseManifest(JSON.stringify({ trainingDataset: 'train.jsonl', ...fields }));
  return result.ok ? [] : result.issues.map(formatIssue);
};
const defaults = { baseModel: 'gemini-2.5-flash', epochCount: 3, adapterSize: 'FOUR' as const };

describe('tuning.json manifest for Yandex AI Studio', () => {
  it('accepts Yandex hyperparameters and builds a Yandex spec without the Vertex defaults', () => {
    const yandex = {
      lr: 0.0002,
      nSamples: 1000,
      seed: 7,
      lora: { rank: 8, alpha: 16 },
      scheduler: { cosine: { minLr: 0 }, warmupRatio: 0.1 },
      optimizer: { adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 } },
      additionalArguments: '',
    };
    const result = parseManifest(
      JSON.stringify({ provider: 'yandex', baseModel: 'yandexgpt-lite', trainingDataset: 't.jsonl', yandex }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const spec = specFromManifest(result.value, defaults, { training: 'gs://bkt/t.jsonl' });
    expect(spec).toEqual({
      provider: 'yandex',
      baseModel: 'yandexgpt-lite',
      trainingDatasetUri: 'gs://bkt/t.jsonl',
      labels: {},
      yandex,
    });
    expect(preflightSpec(spec, { catalog: builtinCatalog(), today: '2026-12-03' }).issues).toEqual([]);
  });

  it('takes a full gpt:// URI as the base model, and lets a Yandex model imply the provider', () => {
    expect(messages({ provider: 'yandex', baseModel: 'gpt://b1gfolder/yandexgpt-lite/rc' })).toEqual([]);
    const implied = parseManifest(
      JSON.stringify({ baseModel: 'yandexgpt-lite', trainingDataset: 't.jsonl' }),
    );
    expect(
      implied.ok && specFromManifest(implied.value, defaults, { training: 'gs://bkt/t.jsonl' }).provider,
    ).toBe('yandex');
  });

  it('names every Vertex-only field in a Yandex manifest', () => {
    expect(
      messages({
        provider: 'yandex',
        baseModel: 'yandexgpt-lite',
        epochCount: 2,
        learningRateMultiplier: 1,
        adapterSize: 'FOUR',
      }),
    ).toEqual([
      '/epochCount: is a Vertex AI setting; Yandex AI Studio has no epochs (its size control is yandex.nSamples)',
      '/learningRateMultiplier: is a Vertex AI setting; Yandex AI Studio takes an absolute learning rate: use yandex.lr',
      '/adapterSize: is a Vertex AI setting; Yandex AI Studio has no adapter-size enum: use yandex.lora.rank',
    ]);
  });

  it('names Yandex settings in a Vertex manifest, and a model of the other provider', () => {
    expect(messages({ baseModel: 'gemini-2.5-flash', yandex: { lr: 0.1 } })).toEqual([
      '/yandex: Yandex AI Studio settings need "provider": "yandex"',
    ]);
    expect(messages({ provider: 'yandex', baseModel: 'gemini-2.5-flash' })).toEqual([
      '/baseModel: gemini-2.5-flash is a Vertex AI model; the job asks for provider yandex',
    ]);
    expect(messages({ provider: 'vertex', baseModel: 'yandexgpt-lite' })).toEqual([
      '/baseModel: yandexgpt-lite is a Yandex AI Studio model; the job asks for provider vertex',
    ]);
    expect(messages({ provider: 'yandex' })).toEqual([
      '/baseModel: is required for provider yandex (e.g. a catalog model or gpt://<folder>/<model>/latest)',
    ]);
  });

  it('checks the Yandex hyperparameters against the proto fields', () => {
    const base = { provider: 'yandex', baseModel: 'yandexgpt-lite' };
    expect(messages({ ...base, yandex: { epochs: 3 } })).toEqual(['/yandex/epochs: unknown field']);
    expect(
      messages({ ...base, yandex: { lora: { rank: 8 }, promptTune: { virtualTokens: 20 } } })[0],
    ).toMatch(/^\/yandex\/promptTune: lora and promptTune are alternatives/);
    expect(messages({ ...base, yandex: { lr: -1, lora: { rank: 1.5 } } })).toHaveLength(2);
    expect(messages({ ...base, yandex: { scheduler: { linear: {}, cosine: {} } } })[0]).toMatch(
      /at most one of linear, constant, cosine/,
    );
  });
});

describe('a Yandex model only the operator catalog override knows', () => {
  const base = builtinCatalog();
  const lite = base.models.find((model) => model.id === 'yandexgpt-lite');
  const catalog = mergeCatalog(
    base,
    { models: [{ ...lite, id: 'yandexgpt-custom', aliases: [], displayName: 'Custom' }] },
    'the test override',
  );
  const manifest = JSON.stringify({ trainingDataset: 'train.jsonl', baseModel: 'yandexgpt-custom' });

  it('implies provider yandex when the effective catalog is passed in', () => {
    const parsed = parseManifest(manifest, { catalog });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const spec = specFromManifest(parsed.value, defaults, { training: 'gs://bucket/t.jsonl' }, undefined, {
      catalog,
    });
    expect(spec).toMatchObject({ provider: 'yandex', baseModel: 'yandexgpt-custom' });
    expect(spec.epochCount).toBeUndefined();
    expect(preflightSpec(spec, { catalog, today: '2026-12-03' }).issues.map(formatIssue)).toEqual([]);
  });

  it('refuses Vertex settings for it, naming the field', () => {
    const parsed = parseManifest(
      JSON.stringify({ trainingDataset: 'train.jsonl', baseModel: 'yandexgpt-custom', epochCount: 2 }),
      { catalog },
    );
    expect(parsed.ok ? [] : parsed.issues.map(formatIssue)).toEqual([
      expect.stringMatching(/^\/epochCount: is a Vertex AI setting/),
    ]);
  });

  it('is a Vertex model to the built-in catalog alone (what ingest did before)', () => {
    const parsed = parseManifest(manifest);
    expect(
      parsed.ok && specFromManifest(parsed.value, defaults, { training: 'gs://bucket/t.jsonl' }).provider,
    ).toBe(undefined);
  });
});
