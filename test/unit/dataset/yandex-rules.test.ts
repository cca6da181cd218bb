import { describe, expect, it } from 'vitest';
import { codes, example, line, validate } from './helpers.ts';

const yandex = (request: unknown[] = [{ role: 'user', text: 'Hi' }], response: unknown = 'Hello!') => ({
  request,
  response,
});
const file = (rows: unknown[]) => `${rows.map(line).join('\n')}\n`;
const ten = (row: unknown = yandex()) => Array.from({ length: 10 }, () => row);
const asYandex = { model: 'yandexgpt-lite' };

describe("Yandex AI Studio's dataset format", () => {
  it('accepts ten well-formed examples with system, user and assistant messages', async () => {
    const row = yandex([
      { role: 'system', text: 'Be brief.' },
      { role: 'user', text: 'Hi' },
      { role: 'assistant', text: 'Hello' },
      { role: 'user', text: 'How are you?' },
    ]);
    const report = await validate(file(ten(row)), asYandex);
    expect(report.valid).toBe(true);
    // Only the catalog's note that Yandex tuning is in Preview.
    expect(report.warnings.map((warning) => warning.code)).toEqual(['model_lifecycle']);
  });

  it('needs at least the catalog minimum of examples', async () => {
    const report = await validate(file(ten().slice(0, 9)), asYandex);
    expect(codes(report)).toEqual(['too_few_examples']);
  });

  it('names each broken line and field', async () => {
    const rows: unknown[] = ten();
    rows[1] = { request: [{ role: 'user', text: 'q' }] };
    rows[3] = yandex([{ role: 'model', text: 'q' }]);
    rows[5] = yandex([], 'a');
    rows[7] = yandex([{ role: 'user' }]);
    const report = await validate(file(rows), asYandex);
    expect(report.errors.map((issue) => [issue.line, issue.code, issue.path])).toEqual([
      [2, 'missing_response', '/response'],
      [4, 'invalid_role', '/request/0/role'],
      [6, 'invalid_request', '/request'],
      [8, 'missing_text', '/request/0/text'],
    ]);
  });

  it('calls a Gemini file given to a Yandex job by its name, and the reverse', async () => {
    const gemini = await validate(file(Array.from({ length: 10 }, () => example())), asYandex);
    expect(gemini.errors[0]?.message).toMatch(/Vertex AI Gemini example.*asks for yandexgpt-lite/);
    const reverse = await validate(file(ten()), { model: 'gemini-2.5-flash' });
    expect(reverse.errors[0]?.message).toMatch(/Yandex AI Studio example.*asks for gemini-2.5-flash/);
  });

  it('refuses a response over the limit on a labelled character estimate, and warns near it', async () => {
    const rows: unknown[] = ten();
    rows[0] = yandex([{ role: 'user', text: 'q' }], 'x'.repeat(2000 * 4 + 8));
    rows[1] = yandex([{ role: 'user', text: 'q' }], 'x'.repeat(2000 * 3));
    const report = await validate(file(rows), asYandex);
    expect(codes(report)).toEqual(['too_many_tokens']);
    expect(report.errors[0]?.message).toMatch(
      /estimated at 4 characters per token; Yandex's tokenizer is not public/,
    );
    expect(report.warnings.map((issue) => [issue.line, issue.code])).toContainEqual([2, 'may_exceed_tokens']);
  });

  it('checks request and response together against the per-example limit', async () => {
    const rows: unknown[] = ten();
    rows[4] = yandex([{ role: 'user', text: 'x'.repeat(7000 * 4) }], 'y'.repeat(1500 * 4));
    const report = await validate(file(rows), asYandex);
    expect(report.errors.map((issue) => [issue.line, issue.code, issue.path])).toEqual([
      [5, 'too_many_tokens', ''],
    ]);
  });
});
