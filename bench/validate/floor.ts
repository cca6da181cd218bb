import { createReadStream } from 'node:fs';

/** The read size of both the floor and the validator runs. */
export const HIGH_WATER_MARK = 1 << 20;

/**
 * The floor every benchmark compares with: split lines and JSON.parse them, nothing else. Its own
 * module, so the CLI benchmark can run it as a process that loads nothing else
 * (bench/cli/floor-process.ts).
 */
export async function floor(path: string): Promise<{ bytes: number; examples: number }> {
  let bytes = 0;
  let examples = 0;
  let carry: Buffer | undefined;
  for await (const raw of createReadStream(path, { highWaterMark: HIGH_WATER_MARK })) {
    const chunk = raw as Buffer;
    bytes += chunk.length;
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10, start)) {
      if (newline > start) {
        JSON.parse(data.toString('utf8', start, newline));
        examples++;
      }
      start = newline + 1;
    }
    carry = start < data.length ? data.subarray(start) : undefined;
  }
  if (carry) {
    JSON.parse(carry.toString('utf8'));
    examples++;
  }
  return { bytes, examples };
}
