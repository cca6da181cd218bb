import { describe, expect, it } from 'vitest';
import { type ModelSpec, requireModel } from '../../../shared/dataset/index.ts';
import { validationShareWarning } from '../../../shared/dataset/validation-share.ts';
import { codes, example, line, model, user, validate } from './helpers.ts';

const ok = line(example());
// 40,002 characters of text: counted one token per character, over a 32,768-token limit.
const long = line({ contents: [user('ab '.repeat(13_334)), model('ok')] });
const perCharacter = async () => ({ count: (text: string) => text.length });
const perWord = async () => ({ count: (text: string) => Math.ceil(text.length / 4) });
const limited: ModelSpec = {
  ...requireModel('gemini-3.5-flash'),
  limits: { ...requireModel('gemini-3.5-flash').limits, maxTokensPerExample: 32_768 },
};

describe('drop semantics (Vertex AI drops over-limit examples, fails above 10%)', () => {
  it('warns that an over-limit example will be dropped, naming its line, and counts it', async () => {
    const report = await validate(`${`${ok}\n`.repeat(9)}${long}\n`, {
      model: limited,
      loadCounter: perCharacter,
    });
    expect(report.valid).toBe(true);
    const drop = report.warnings.find((issue) => issue.code === 'example_dropped');
    expect(drop).toMatchObject({ line: 10 });
    expect(drop?.message).toMatch(/^Vertex AI will drop this example: (at least )?[\d,]+ tokens > 32,768/);
    expect(report.stats.droppable).toBe(1);
    // Dropped examples are neither trained on nor billed: not in the valid count or the tokens.
    expect(report.stats.validExamples).toBe(9);
    expect(report.warnings.find((issue) => issue.code === 'examples_dropped')?.message).toContain(
      '1 of 10 examples (10%)',
    );
  });

  it('rejects the dataset when more than 10% of its examples would be dropped, and says so', async () => {
    const report = await validate(`${`${ok}\n`.repeat(8)}${long}\n${long}\n`, {
      model: limited,
      loadCounter: perCharacter,
    });
    expect(report.valid).toBe(false);
    expect(codes(report)).toEqual(['too_many_dropped']);
    expect(report.errors[0]?.message).toContain('2 of 10 examples (20%)');
    expect(report.errors[0]?.message).toContain('fails the job when more than 10% of the dataset is dropped');
    expect(report.stats.droppable).toBe(2);
  });

  it('makes every droppable example an error in strict mode', async () => {
    const report = await validate(`${`${ok}\n`.repeat(9)}${long}\n`, {
      model: limited,
      loadCounter: perCharacter,
      strict: true,
    });
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ line: 10, code: 'example_dropped' })]);
  });

  it('never counts an example as droppable on the byte bound alone', async () => {
    const report = await validate(`${long}\n`, { model: limited, loadCounter: perWord });
    expect(report.valid).toBe(true);
    expect(report.stats.droppable).toBe(0);
    expect(report.warnings.filter((issue) => issue.code === 'example_dropped')).toEqual([]);
  });
});

describe('the validation-set share rule (UNCONFIRMED: a warning only)', () => {
  const spec = requireModel('gemini-3.5-flash');
  it('warns above 1000 validation examples that are more than 30% of the training examples', () => {
    const warning = validationShareWarning(spec, 4000, 1500);
    expect(warning).toMatchObject({ line: 0, code: 'validation_share' });
    expect(warning?.message).toContain('UNCONFIRMED');
  });

  it('is silent at or under 1000 validation examples, within the share, or without the rule', () => {
    expect(validationShareWarning(spec, 100, 1000)).toBeUndefined();
    expect(validationShareWarning(spec, 10_000, 3000)).toBeUndefined();
    expect(validationShareWarning(requireModel('gemini-1.5-pro-002'), 100, 5000)).toBeUndefined();
  });
});
