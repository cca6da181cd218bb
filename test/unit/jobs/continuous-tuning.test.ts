import { describe, expect, it } from 'vitest';
import { parseManifest, resolvePreTunedBase, specFromManifest } from '../../../shared/jobs/index.ts';
import { builtinCatalog } from '../../../shared/models/index.ts';
import { createListModeMemory, createVertexProvider } from '../../../shared/providers/index.ts';
import { jobFixture } from './job-fixture.ts';

const catalog = builtinCatalog();
const tunedModelName = 'projects/p/locations/us-central1/models/42@3';

/** A Vertex client whose models.get answers with `model` (or 404 when undefined). */
function vertexWithModel(model: Record<string, unknown> | undefined) {
  const urls: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    urls.push(String(input));
    return model
      ? new Response(JSON.stringify(model), { status: 200 })
      : new Response(JSON.stringify({ error: { code: 404, message: 'not found', status: 'NOT_FOUND' } }), {
          status: 404,
        });
  }) as typeof globalThis.fetch;
  const provider = createVertexProvider({
    project: 'p',
    region: 'us-central1',
    endpoint: 'http://127.0.0.1:9',
    fetch,
    retry: { attempts: 1 },
    listModes: createListModeMemory(),
  });
  return { provider, urls };
}

describe('continuous tuning manifest', () => {
  it('takes preTunedModel and exportLastCheckpointOnly, and maps them to the spec', () => {
    const parsed = parseManifest(
      JSON.stringify({
        preTunedModel: { tunedModelName, checkpointId: '2' },
        exportLastCheckpointOnly: true,
        trainingDataset: 'train.jsonl',
      }),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const spec = specFromManifest(
      parsed.value,
      { baseModel: 'gemini-2.5-flash' },
      { training: 'gs://b/t' },
      'gemini-3.5-flash',
    );
    expect(spec).toMatchObject({
      baseModel: 'gemini-3.5-flash',
      preTunedModel: { tunedModelName, checkpointId: '2' },
      exportLastCheckpointOnly: true,
    });
  });

  it('refuses baseModel and preTunedModel together, naming both', () => {
    const parsed = parseManifest(
      JSON.stringify({
        baseModel: 'gemini-3.5-flash',
        preTunedModel: { tunedModelName },
        trainingDataset: 't.jsonl',
      }),
    );
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues[0]?.message).toMatch(/either baseModel or preTunedModel, not both/);
  });

  it('refuses a tuned model name that is not a model resource', () => {
    const parsed = parseManifest(
      JSON.stringify({ preTunedModel: { tunedModelName: 'gemini-3.5-flash' }, trainingDataset: 't.jsonl' }),
    );
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues[0]).toMatchObject({ path: '/preTunedModel/tunedModelName' });
  });
});

describe('the base model of a tuned model', () => {
  it('comes from the tunedrop job that produced it, without asking the provider', async () => {
    const producer = jobFixture('SUCCEEDED', {
      spec: { baseModel: 'gemini-3.5-flash', trainingDatasetUri: 'gs://b/x', labels: {} },
      result: { tunedModel: tunedModelName },
    });
    const { provider, urls } = vertexWithModel(undefined);
    const resolved = await resolvePreTunedBase(
      { tunedModelName },
      { store: { findByTunedModel: async () => [producer] }, provider, catalog },
    );
    expect(resolved).toMatchObject({ ok: true, baseModel: 'gemini-3.5-flash' });
    expect(urls).toEqual([]);
  });

  it('comes from the base model label of Vertex AI’s model resource otherwise, with dots spelled as label values allow', async () => {
    const { provider, urls } = vertexWithModel({
      name: 'projects/p/locations/us-central1/models/42',
      labels: { 'google-vertex-llm-tuning-base-model-id': 'gemini-3_5-flash' },
    });
    const resolved = await resolvePreTunedBase({ tunedModelName }, { store: {}, provider, catalog });
    expect(resolved).toMatchObject({ ok: true, baseModel: 'gemini-3.5-flash' });
    expect(urls).toEqual([`http://127.0.0.1:9/v1/${tunedModelName}`]);
  });

  it('is refused when the catalog says the base cannot be continued', async () => {
    const { provider } = vertexWithModel({
      name: 'projects/p/locations/us-central1/models/42',
      labels: { 'google-vertex-llm-tuning-base-model-id': 'gemini-2.0-flash-001' },
    });
    const resolved = await resolvePreTunedBase({ tunedModelName }, { store: {}, provider, catalog });
    expect(resolved.ok).toBe(false);
    if (!resolved.ok)
      expect(resolved.issues[0]?.message).toMatch(
        /does not support continuous tuning \(catalog facts as of \d{4}-/,
      );
  });

  it('is refused with the reason when nothing names it', async () => {
    const { provider } = vertexWithModel({ name: 'projects/p/locations/us-central1/models/42' });
    const resolved = await resolvePreTunedBase({ tunedModelName }, { store: {}, provider, catalog });
    expect(resolved.ok).toBe(false);
    if (!resolved.ok) expect(resolved.issues[0]?.message).toMatch(/cannot tell the base model/);
  });
});
