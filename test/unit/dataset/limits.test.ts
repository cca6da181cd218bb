import { describe, expect, it } from 'vitest';
import {
  estimateCost,
  findModel,
  MODELS,
  type ModelSpec,
  RECOMMENDED_MIN_TRAINING_EXAMPLES,
  requireModel,
  ValidationReportSchema,
} from '../../../shared/dataset/index.ts';
import { codes, example, line, model, user, validate } from './helpers.ts';

const ok = line(example());

describe('model table', () => {
  it('finds models by id, alias and publishers/google/models/<id> name', () => {
    expect(findModel('gemini-2.5-flash')?.displayName).toBe('Gemini 2.5 Flash');
    expect(findModel('gemini-2.0-flash')?.id).toBe('gemini-2.0-flash-001');
    expect(findModel('publishers/google/models/gemini-2.5-pro')?.id).toBe('gemini-2.5-pro');
    expect(
      findModel('projects/p/locations/us-central1/publishers/google/models/gemini-1.5-flash-002')?.id,
    ).toBe('gemini-1.5-flash-002');
    for (const id of [
      'gemini-2.0-flash-lite-001',
      'gemini-2.5-flash-lite',
      'gemini-1.5-pro-002',
      'gemini-1.0-pro-002',
    ]) {
      expect(findModel(id)?.id).toBe(id);
    }
  });

  it('checks an unknown model with conservative limits and a warning, instead of refusing it', async () => {
    expect(findModel('gpt-4o')).toBeUndefined();
    const report = await validate(`${ok}\n`, { model: 'gemini-9-flash', today: '2026-12-03' });
    expect(report.valid).toBe(true);
    expect(report.model).toBe('gemini-9-flash');
    const warning = report.warnings.find((issue) => issue.code === 'unknown_model');
    expect(warning?.message).toMatch(/unknown model "gemini-9-flash": checked with conservative limits/);
    expect(warning?.message).toContain('facts are as of 2026-12-02');
    expect(report.stats.tokens.limit).toBe(32_768);
  });

  it("only warns over an unknown model's conservative limits: Vertex AI answers for it", async () => {
    const report = await validate(`${ok}\n`.repeat(300), {
      model: 'gemini-9-flash',
      role: 'validation',
      today: '2026-12-03',
    });
    expect(report.valid).toBe(true);
    const warning = report.warnings.find((issue) => issue.code === 'too_many_examples');
    expect(warning?.message).toContain('holds at most 256');
    expect(warning?.message).toContain(
      "a conservative limit for a model not in the catalog: Vertex AI's own answer stands",
    );
    // A known model's limit stays an error.
    const known = await validate(`${ok}\n`.repeat(300), {
      model: requireModel('gemini-1.5-flash-002'),
      role: 'validation',
    });
    expect(codes(known)).toEqual(['too_many_examples']);
  });

  it('refuses a retired model with its date and replacements, and still checks the data', async () => {
    const report = await validate(`${ok}\nnope\n`, { model: 'gemini-2.0-flash-001', today: '2026-12-03' });
    expect(report.valid).toBe(false);
    expect(report.errors[0]).toEqual({
      line: 0,
      code: 'retired_model',
      path: '',
      message:
        'gemini-2.0-flash-001 was retired on 2026-06-01; use gemini-3.5-flash-lite or gemini-3.5-flash',
    });
    expect(codes(report)).toContain('json_syntax');
    // The same model before its retirement date is accepted.
    expect((await validate(`${ok}\n`, { model: 'gemini-2.0-flash', today: '2026-05-01' })).errors).toEqual(
      [],
    );
  });

  it('only warns for a listed but unconfirmed retirement, and within 30 days of one', async () => {
    const past = await validate(`${ok}\n`, { model: 'gemini-2.5-flash', today: '2026-12-03' });
    expect(past.valid).toBe(true);
    expect(past.warnings.find((issue) => issue.code === 'model_lifecycle')?.message).toMatch(
      /listed for retirement on 2026-10-20; whether new tuning jobs are refused is not confirmed/,
    );
    const soon = await validate(`${ok}\n`, { model: 'gemini-2.5-flash', today: '2026-10-01' });
    expect(soon.warnings.find((issue) => issue.code === 'model_lifecycle')?.message).toContain(
      'retires on or after 2026-10-20 (in 19 days); use gemini-3.5-flash',
    );
    const early = await validate(`${ok}\n`, { model: 'gemini-2.5-flash', today: '2026-06-01' });
    expect(early.warnings.filter((issue) => issue.code === 'model_lifecycle')).toEqual([]);
  });

  it('gives the 2.x and 3.x families 131,072 tokens and 5,000 validation examples, the 1.x family 32,768 and 256', () => {
    for (const spec of MODELS.filter((model) => model.provider === 'vertex')) {
      const old = spec.id.startsWith('gemini-1.');
      expect(spec.limits.maxTokensPerExample).toBe(old ? 32_768 : 131_072);
      expect(spec.limits.maxValidationExamples).toBe(old ? 256 : 5_000);
    }
  });
});

describe('dataset limits', () => {
  it('applies validation-set limits with role validation', async () => {
    const lines = `${ok}\n`.repeat(257);
    const old = requireModel('gemini-1.5-flash-002');
    expect((await validate(lines, { model: old, role: 'validation' })).errors).toEqual([
      expect.objectContaining({ line: 0, code: 'too_many_examples' }),
    ]);
    expect((await validate(lines, { model: old, role: 'training' })).valid).toBe(true);
    expect((await validate(lines, { model: 'gemini-3.5-flash', role: 'validation' })).valid).toBe(true);
  });

  it('decides the token limit by the byte bound without the tokenizer when it can', async () => {
    const loadCounter = () => Promise.reject(new Error('the tokenizer must not be loaded'));
    const report = await validate(`${ok}\n`, { loadCounter });
    expect(report.valid).toBe(true);
    expect(report.stats.tokens).toMatchObject({ method: 'bound', bounded: 1, counted: 0 });
  });

  it('counts precisely where the bound exceeds the limit, and accepts an example under it', async () => {
    // 40,000 bytes of text: over 1.x's 32,768 by the bound, far under it once counted.
    const long = line({ contents: [user('ab '.repeat(13_334)), model('ok')] });
    const loadCounter = async () => ({ count: (text: string) => Math.ceil(text.length / 4) });
    const report = await validate(`${long}\n`, { model: requireModel('gemini-1.5-pro-002'), loadCounter });
    expect(report.errors).toEqual([]);
    expect(report.stats.tokens).toMatchObject({ method: 'counted', counted: 1, bounded: 0 });
  });

  it('counts with the real Gemma 3 tokenizer, which never exceeds the byte bound', {
    timeout: 30_000,
  }, async () => {
    const text = 'Grüße aus München — 日本語のテキスト 🎉 function f(x) { return x * 2; }\n'.repeat(600);
    const long = line({ contents: [user(text), model('ok')] });
    const report = await validate(`${long}\n`, { model: requireModel('gemini-1.0-pro-002') });
    expect(report.valid).toBe(true);
    expect(report.stats.tokens.method).toBe('counted');
    expect(report.stats.tokens.max).toBeLessThan(Buffer.byteLength(text));
    expect(report.stats.tokens.max).toBeGreaterThan(1000);
  });
});

describe('stats and estimates', () => {
  it('reports counts, distributions and a cost estimate that validates against the schema', async () => {
    const three = line({ contents: [user('a'), model('b'), user('c'), model('d')] });
    const report = await validate(`${ok}\n${three}\n${ok}\n`, { epochs: 2 });
    expect(ValidationReportSchema.parse(report)).toEqual(report);
    expect(report.stats).toMatchObject({ examples: 3, validExamples: 3, characters: 2 * 8 + 4 });
    expect(report.stats.turns).toMatchObject({ min: 2, max: 4, total: 8 });
    const cost = report.stats.estimate.cost!;
    expect(cost).toMatchObject({
      model: 'gemini-3.5-flash',
      epochs: 2,
      epochsSource: 'caller',
      method: 'heuristic',
    });
    expect(cost.billableTokens.estimated).toBeLessThanOrEqual(cost.billableTokens.upperBound);
  });

  it('computes cost as tokens × epochs × price per million, with the model default epochs', () => {
    const tokens = {
      upperBound: 4_000_000,
      estimated: 1_000_000,
      method: 'sampled' as const,
      tokensPerByte: 0.25,
      sampleSize: 64,
      margin: 0.01,
      basis: '64 of 1000 examples counted',
    };
    const priced: ModelSpec = {
      ...requireModel('gemini-3.5-flash'),
      price: { usdPerMillionTrainingTokens: 5, source: 'an operator override', asOf: '2026-12-01' },
    };
    expect(estimateCost(priced, tokens)).toMatchObject({
      epochs: 3,
      epochsSource: 'model-default',
      estimatedUsd: 15,
      upperBoundUsd: 60,
      pricesTakenOn: '2026-12-01',
      priceSource: 'an operator override',
    });
    // The built-in catalog records no price it could not source: the cost is null, never invented.
    expect(estimateCost(requireModel('gemini-3.5-flash'), tokens, 1)).toMatchObject({
      estimatedUsd: null,
      pricesTakenOn: null,
    });
  });

  it('calibrates the estimate on a deterministic counted sample', async () => {
    const lines = Array.from({ length: 50 }, (_, i) =>
      line({ contents: [user(`question ${i}`), model('answer')] }),
    );
    const loadCounter = async () => ({ count: (text: string) => text.split(' ').length });
    const run = () => validate(`${lines.join('\n')}\n`, { tokenSample: 8, loadCounter });
    const [first, second] = [await run(), await run()];
    expect(first.stats.estimate.tokens).toMatchObject({ method: 'sampled' });
    expect(first.stats.estimate.tokens.sampleSize).toBeLessThanOrEqual(8);
    expect(first.stats.estimate.tokens.sampleSize).toBeGreaterThan(0);
    expect(second.stats.estimate).toEqual(first.stats.estimate);
  });

  it('has no cost for a validation set', async () => {
    expect((await validate(`${ok}\n`, { role: 'validation' })).stats.estimate.cost).toBeNull();
  });

  it('reports the rest of a file after an invalid line', async () => {
    const report = await validate(`${ok}\nnope\n${ok}\n`);
    expect(codes(report)).toEqual(['json_syntax']);
    expect(report.stats.validExamples).toBe(2);
  });
});

describe('dataset size advice', () => {
  it('warns when a training set has fewer examples than Vertex AI recommends', async () => {
    const report = await validate(`${ok}\n`.repeat(99));
    expect(report.valid).toBe(true);
    expect(report.warnings[0]).toMatchObject({ line: 0, code: 'few_examples' });
    expect(report.warnings[0]?.message).toContain('99 examples');
    expect(report.warnings[0]?.message).toContain(String(RECOMMENDED_MIN_TRAINING_EXAMPLES));
  });

  it('does not warn at the recommended size, for a validation set, or for an empty file', async () => {
    const fileLevel = (report: Awaited<ReturnType<typeof validate>>) =>
      report.warnings.filter((warning) => warning.code === 'few_examples');
    expect(fileLevel(await validate(`${ok}\n`.repeat(RECOMMENDED_MIN_TRAINING_EXAMPLES)))).toEqual([]);
    expect(fileLevel(await validate(`${ok}\n`, { role: 'validation' }))).toEqual([]);
    expect(fileLevel(await validate(''))).toEqual([]);
  });

  it('lists file-level errors first, within the error cap', async () => {
    const report = await validate('nope\n'.repeat(300), {
      model: requireModel('gemini-1.5-flash-002'),
      role: 'validation',
      maxErrors: 5,
    });
    expect(codes(report)).toEqual([
      'too_many_examples',
      'json_syntax',
      'json_syntax',
      'json_syntax',
      'json_syntax',
    ]);
    expect(report.errorsOmitted).toBe(296);
  });
});

describe('file-level limits', () => {
  const base = requireModel('gemini-3.5-flash');
  const small = (limits: Partial<ModelSpec['limits']>, partKinds = base.partKinds): ModelSpec => ({
    ...base,
    limits: { ...base.limits, ...limits },
    partKinds,
  });

  it('rejects a training file over the model size limit, whatever its examples', async () => {
    const lines = `${ok}\n`.repeat(3);
    const report = await validate(lines, { model: small({ maxTrainingFileBytes: 100 }) });
    expect(report.errors).toEqual([expect.objectContaining({ line: 0, code: 'file_too_large' })]);
    expect((await validate(lines, { model: small({ maxTrainingFileBytes: 1_000_000 }) })).valid).toBe(true);
  });

  it('rejects a training set with more examples than the model accepts', async () => {
    const lines = `${ok}\n`.repeat(3);
    expect((await validate(lines, { model: small({ maxTrainingExamplesTextOnly: 2 }) })).errors).toEqual([
      expect.objectContaining({ line: 0, code: 'too_many_examples' }),
    ]);
    expect((await validate(lines, { model: small({ maxTrainingExamplesTextOnly: 3 }) })).valid).toBe(true);
  });

  it('applies a spec of its own on the worker threads too', async () => {
    // Blocks validated on a worker, with a spec that accepts no text: every example breaks it.
    const counts = { workerBlocks: 0, callerBlocks: 0 };
    const report = await validate(`${ok}\n`.repeat(20_000), {
      model: small({}, ['inlineData']),
      maxErrors: 1,
      parallel: { workers: 1, thresholdBytes: 0, blockBytes: 64 * 1024, callerValidates: false, counts },
    });
    expect(counts.workerBlocks).toBeGreaterThan(0);
    expect(report.errors[0]).toMatchObject({ code: 'unsupported_part' });
  });
});
