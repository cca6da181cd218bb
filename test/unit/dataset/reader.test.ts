import { describe, expect, it } from 'vitest';
import { type Segment, splitLines } from '../../../shared/dataset/index.ts';
import { codes, example, line, lineWarnings, validate } from './helpers.ts';

const ok = line(example());

describe('streaming JSONL reader', () => {
  it('accepts CRLF line endings and a missing final newline', async () => {
    const report = await validate(`${ok}\r\n${ok}\r\n${ok}`);
    expect(report.errors).toEqual([]);
    expect(report.examples).toBe(3);
  });

  it('joins lines split across chunks at any byte, including inside a multi-byte character', async () => {
    const text = `${line(
      example({
        contents: [
          { role: 'user', parts: [{ text: 'Grüße 日本 🎉' }] },
          { role: 'model', parts: [{ text: 'ok' }] },
        ],
      }),
    )}\n${ok}\n`;
    const bytes = Buffer.from(text);
    const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    const report = await validate(chunks);
    expect(report.errors).toEqual([]);
    expect(report.examples).toBe(2);
  });

  it('reports a BOM on line 1', async () => {
    const report = await validate([Buffer.from([0xef]), Buffer.from([0xbb, 0xbf]), `${ok}\n`]);
    expect(report.errors).toEqual([expect.objectContaining({ line: 1, code: 'bom' })]);
    expect(report.stats.validExamples).toBe(1);
  });

  it('reports invalid UTF-8 with its line', async () => {
    const bad = Buffer.concat([Buffer.from('{"contents":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
    const report = await validate([`${ok}\n`, bad, `${ok}\n`]);
    expect(report.errors).toEqual([expect.objectContaining({ line: 2, code: 'invalid_utf8' })]);
  });

  it('reports a JSON syntax error with its line', async () => {
    const report = await validate(`${ok}\n{"contents": [\n`);
    expect(report.errors).toEqual([expect.objectContaining({ line: 2, code: 'json_syntax' })]);
  });

  it('reports an empty file', async () => {
    expect(codes(await validate(''))).toEqual(['empty_file']);
    expect(codes(await validate('\n\n'))).toEqual(['empty_file']);
  });

  it('skips blank lines with a warning', async () => {
    const report = await validate(`${ok}\n\n${ok}\n`);
    expect(report.valid).toBe(true);
    expect(lineWarnings(report)).toEqual([expect.objectContaining({ line: 2, code: 'blank_line' })]);
  });

  it('reports a line over the cap and goes on with the next one', async () => {
    const long = line(example({ contents: [{ role: 'user', parts: [{ text: 'x'.repeat(5000) }] }] }));
    const report = await validate([`${ok}\n`, long.slice(0, 100), long.slice(100), `\n${ok}\n`], {
      maxLineBytes: 1000,
    });
    expect(report.errors).toEqual([expect.objectContaining({ line: 2, code: 'line_too_long' })]);
    expect(report.errors[0]?.message).toContain(`${long.length} bytes`);
    expect(report.stats.validExamples).toBe(2);
  });

  it('never holds an over-long line: the splitter keeps at most the cap', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let yielded = 0;
    async function* endless() {
      // 64 MiB of one line, then a newline and a short line.
      for (let i = 0; i < 1024; i++) yield chunk;
      yield Buffer.from('\n{}\n');
    }
    const segments: Segment[] = [];
    for await (const segment of splitLines(endless(), { maxLineBytes: 1024 * 1024 })) {
      segments.push(segment);
      if (segment.kind === 'lines') yielded += segment.bytes.length;
    }
    expect(segments[0]).toEqual({ kind: 'oversized', bytes: 64 * 1024 * 1024 });
    expect(yielded).toBe(3);
  });

  it('collects every error up to the cap and counts the rest', async () => {
    const report = await validate(`${'nope\n'.repeat(25)}`, { maxErrors: 10 });
    expect(report.errors).toHaveLength(10);
    expect(report.errorsOmitted).toBe(15);
    expect(report.errors.map((error) => error.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('reports progress in bytes read', async () => {
    const seen: number[] = [];
    await validate([`${ok}\n`, `${ok}\n`], { onProgress: (bytes) => seen.push(bytes) });
    expect(seen).toEqual([ok.length + 1, 2 * ok.length + 2]);
  });
});
