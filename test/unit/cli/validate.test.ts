import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationReportSchema } from '../../../shared/dataset/index.ts';

const fixture = (name: string) => `test/fixtures/datasets/${name}`;

/** Runs the real command, as a user would. */
function tunedrop(...args: string[]) {
  return tunedropWith({}, ...args);
}

function tunedropWith(env: Record<string, string>, ...args: string[]) {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete base.TUNEDROP_MODEL_CATALOG;
  const child = spawnSync(process.execPath, ['bin/tunedrop.js', 'validate', ...args], {
    encoding: 'utf8',
    env: { ...base, ...env },
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

const scratch = mkdtempSync(join(tmpdir(), 'tunedrop-validate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('tunedrop validate', { timeout: 60_000 }, () => {
  it('exits 0 on a valid file and prints a summary with the estimate', () => {
    const result = tunedrop(fixture('valid.jsonl'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid: 3 examples for gemini-3.5-flash (training)');
    expect(result.stdout).toMatch(/tokens\/ex\s+min \d+/);
    // The built-in catalog has no sourced price: the estimate says so, with the catalog's date.
    expect(result.stdout).toMatch(
      /cost\s+no public price for gemini-3\.5-flash \(model catalog facts as of \d{4}-\d\d-\d\d\); [\d,]+ training tokens over 3 epochs \(default\)/,
    );
  });

  it('shows a Yandex model only what applies to Yandex: no epochs, and refuses --epochs', () => {
    const file = join(scratch, 'yandex.jsonl');
    const row = (i: number) => JSON.stringify({ request: [{ role: 'user', text: `q${i}` }], response: 'a' });
    writeFileSync(file, `${Array.from({ length: 12 }, (_, i) => row(i)).join('\n')}\n`);
    const result = tunedrop('--provider', 'yandex', file);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid: 12 examples for yandexgpt-lite (training)');
    expect(result.stdout).toMatch(/cost\s+no public price for yandexgpt-lite .*tokens in the dataset/);
    expect(result.stdout).not.toMatch(/epoch|adapter|multiplier/i);
    const refused = tunedrop('--provider', 'yandex', '--epochs', '2', file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--epochs does not apply to Yandex AI Studio models');
  });

  it('accepts CRLF endings and a missing final newline', () => {
    expect(tunedrop(fixture('valid-crlf-no-final-newline.jsonl')).code).toBe(0);
  });

  it('exits 1 and prints FILE:LINE code message for each error', () => {
    const file = fixture('invalid.jsonl');
    const result = tunedrop(file);
    expect(result.code).toBe(1);
    const lines = result.stdout
      .split('\n')
      .filter((line) => line.startsWith(`${file}:`) && !line.includes(' warning: '));
    expect(lines.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      `${file}:2 first_role`,
      `${file}:3 empty_text`,
      `${file}:4 json_syntax`,
      `${file}:5 not_object`,
    ]);
    expect(result.stdout).toContain('invalid: 4 errors in 5 examples');
  });

  it('names mistaken formats plainly', () => {
    const openai = tunedrop(fixture('openai-chat.jsonl'));
    expect(openai.code).toBe(1);
    expect(openai.stdout).toContain('Line 1 is in the OpenAI chat format');
    expect(tunedrop(fixture('gemini-1-messages.jsonl')).stdout).toContain('Gemini 1.0 `messages` format');
    expect(tunedrop(fixture('palm-text.jsonl')).stdout).toContain('PaLM text format');
  });

  it('reports a BOM, invalid UTF-8 and an empty file', () => {
    expect(tunedrop(fixture('bom.jsonl')).stdout).toContain(':1 bom');
    expect(tunedrop(fixture('invalid-utf8.jsonl')).stdout).toContain(':1 invalid_utf8');
    const empty = tunedrop(fixture('empty.jsonl'));
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain('empty_file');
  });

  it('applies a chosen model and role', () => {
    const result = tunedrop(
      fixture('valid.jsonl'),
      '--model',
      'publishers/google/models/gemini-2.5-pro',
      '--role',
      'validation',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('for gemini-2.5-pro (validation)');
    // 2.5's listed retirement is not confirmed: a warning, and Vertex AI's answer stands.
    expect(result.stdout).toContain(
      'warning: model_lifecycle gemini-2.5-pro was listed for retirement on 2026-10-20',
    );
  });

  it('exits 1 for a retired model, with its date and replacements', () => {
    const file = fixture('valid.jsonl');
    const result = tunedrop(file, '--model', 'gemini-2.0-flash-001');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `${file}: retired_model gemini-2.0-flash-001 was retired on 2026-06-01; use gemini-3.5-flash-lite or gemini-3.5-flash`,
    );
  });

  it('checks an unknown model with conservative limits and a warning, exit 0', () => {
    const result = tunedrop(fixture('valid.jsonl'), '--model', 'gemini-4-flash');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /warning: unknown_model unknown model "gemini-4-flash": checked with conservative limits; the catalog's facts are as of \d{4}-\d\d-\d\d/,
    );
    expect(result.stdout).toContain('limit 32,768');
  });

  it('follows TUNEDROP_MODEL_CATALOG, warns for a droppable example, and fails it with --strict', () => {
    const catalog = join(scratch, 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify({
        factsAsOf: '2026-12-24',
        models: [{ id: 'gemini-3.5-flash', limits: { maxTokensPerExample: 200 } }],
      }),
    );
    const data = join(scratch, 'long.jsonl');
    const ok = JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: 'Hi' }] },
        { role: 'model', parts: [{ text: 'Hello' }] },
      ],
    });
    const long = JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: 'alpha beta gamma delta '.repeat(200) }] },
        { role: 'model', parts: [{ text: 'ok' }] },
      ],
    });
    writeFileSync(data, `${`${ok}\n`.repeat(10)}${long}\n`);
    const env = { TUNEDROP_MODEL_CATALOG: catalog };
    const lenient = tunedropWith(env, data);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(
      /:11 warning: example_dropped Vertex AI will drop this example: (at least )?[\d,]+ tokens > 200/,
    );
    expect(lenient.stdout).toContain('model catalog facts as of 2026-12-24');
    const strict = tunedropWith(env, data, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/:11 example_dropped Vertex AI will drop this example/);
    const broken = tunedropWith({ TUNEDROP_MODEL_CATALOG: join(scratch, 'missing.json') }, data);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('missing.json');
  });

  it('refuses an override that breaks the catalog schema, naming the field, exit 2', () => {
    // The built-in catalog is checked when built; an operator's override is checked at each run.
    const catalog = join(scratch, 'negative-limit.json');
    writeFileSync(
      catalog,
      JSON.stringify({ models: [{ id: 'gemini-3.5-flash', limits: { maxTokensPerExample: -5 } }] }),
    );
    const result = tunedropWith({ TUNEDROP_MODEL_CATALOG: catalog }, fixture('valid.jsonl'));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^tunedrop validate: .*negative-limit\.json.*models\.\d+\.limits\.maxTokensPerExample/,
    );
  });

  it('prints the report alone as JSON with --json', () => {
    const result = tunedrop(fixture('invalid.jsonl'), '--json');
    expect(result.code).toBe(1);
    const report = ValidationReportSchema.parse(JSON.parse(result.stdout));
    expect(report.errors[0]).toEqual({
      line: 2,
      code: 'first_role',
      path: '/contents/0/role',
      message: '`contents[0].role` must be "user": the first turn is the user\'s',
    });
  });

  it('exits 2 on a missing file or a bad flag', () => {
    const missing = tunedrop(fixture('no-such-file.jsonl'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    expect(tunedrop(fixture('valid.jsonl'), '--bogus').code).toBe(2);
    expect(tunedrop(fixture('valid.jsonl'), '--role', 'test').code).toBe(2);
    expect(tunedrop().code).toBe(2);
  });
});
