import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ValidationReportSchema } from '../../../shared/dataset/index.ts';

const fixture = (name: string) => `test/fixtures/datasets/${name}`;

/** Runs the real command, as a user would. */
function tunedrop(...args: string[]) {
  const child = spawnSync(process.execPath, ['bin/tunedrop.js', 'validate', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('tunedrop validate', { timeout: 60_000 }, () => {
  it('exits 0 on a valid file and prints a summary with the estimate', () => {
    const result = tunedrop(fixture('valid.jsonl'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid: 3 examples for gemini-2.5-flash (training)');
    expect(result.stdout).toMatch(/tokens\/ex\s+min \d+/);
    expect(result.stdout).toMatch(/cost\s+about \$\d+\.\d\d, at most \$\d+\.\d\d/);
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
      `${file}:3 unsupported_part`,
      `${file}:4 json_syntax`,
      `${file}:5 not_object`,
    ]);
    expect(result.stdout).toContain('invalid: 5 errors in 5 examples');
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
    expect(tunedrop(fixture('invalid.jsonl'), '--model', 'gemini-2.0-flash-001').stdout).not.toContain(
      'unsupported_part',
    );
    const result = tunedrop(
      fixture('valid.jsonl'),
      '--model',
      'publishers/google/models/gemini-2.5-pro',
      '--role',
      'validation',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('for gemini-2.5-pro (validation)');
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

  it('exits 2 on a missing file, an unknown model or a bad flag', () => {
    const missing = tunedrop(fixture('no-such-file.jsonl'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    const unknown = tunedrop(fixture('valid.jsonl'), '--model', 'gpt-4o');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Known models: gemini-2.5-pro');
    expect(tunedrop(fixture('valid.jsonl'), '--bogus').code).toBe(2);
    expect(tunedrop(fixture('valid.jsonl'), '--role', 'test').code).toBe(2);
    expect(tunedrop().code).toBe(2);
  });
});
