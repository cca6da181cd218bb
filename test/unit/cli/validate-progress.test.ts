import { describe, expect, it } from 'vitest';
import { progressBar } from '../../../cli/commands/validate.ts';

describe('the validate progress bar', () => {
  it('redraws in place only when the percentage changes, and clears itself when done', () => {
    const written: string[] = [];
    const bar = progressBar(200 * 1024 * 1024, (text) => written.push(text));
    bar.update(0);
    bar.update(1024); // still 0%
    bar.update(100 * 1024 * 1024);
    bar.update(200 * 1024 * 1024);
    bar.done();
    expect(written).toHaveLength(4);
    expect(written[0]).toBe(`\r[${'.'.repeat(30)}] 0% of 200.0 MB`);
    expect(written[1]).toBe(`\r[${'#'.repeat(15)}${'.'.repeat(15)}] 50% of 200.0 MB`);
    expect(written[2]).toBe(`\r[${'#'.repeat(30)}] 100% of 200.0 MB`);
    expect(written[3]).toMatch(/^\r +\r$/);
  });

  it('writes nothing when nothing was drawn', () => {
    const written: string[] = [];
    progressBar(10, (text) => written.push(text)).done();
    expect(written).toEqual([]);
  });
});
