/**
 * Splits a byte stream into runs of whole JSONL lines without decoding it, in constant memory:
 * it holds at most one partial line, and a line longer than `maxLineBytes` is dropped as it
 * streams past (reported as an `oversized` segment with its length), never held whole.
 * A segment may be a view of the source's chunk, valid until the next segment is asked for; what
 * is kept across chunks is copied, so a source may refill a chunk's memory once the chunk after
 * it is asked for (file-source.ts does).
 */
export type Segment =
  /** One or more whole lines; each ends with "\n" except possibly the last line of the stream. */
  | { kind: 'lines'; bytes: Buffer }
  /** One line longer than the cap, skipped; `bytes` excludes its line ending. */
  | { kind: 'oversized'; bytes: number }
  /** The stream started with a UTF-8 byte-order mark (removed before the first line). */
  | { kind: 'bom' };

export type ByteSource = AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream;

const NEWLINE = 0x0a;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export async function* splitLines(
  source: ByteSource,
  options: { maxLineBytes: number; onBytes?: (total: number) => void },
): AsyncGenerator<Segment> {
  const { maxLineBytes } = options;
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let skipping = false;
  let skipped = 0;
  let total = 0;
  // The first bytes are held until three have arrived, to see a BOM split across chunks.
  let head: Buffer | undefined = Buffer.alloc(0);

  const takeCarry = (): Buffer => {
    const joined = carry.length === 1 ? carry[0]! : Buffer.concat(carry, carryBytes);
    carry = [];
    carryBytes = 0;
    return joined;
  };
  const keep = (rest: Buffer): boolean => {
    if (rest.length === 0) return false;
    if (carryBytes + rest.length > maxLineBytes) {
      skipping = true;
      skipped = carryBytes + rest.length;
      carry = [];
      carryBytes = 0;
      return true;
    }
    // A copy, so a small tail does not keep a large source chunk alive.
    carry.push(Buffer.from(rest));
    carryBytes += rest.length;
    return false;
  };

  for await (const raw of source as AsyncIterable<Uint8Array | string>) {
    let chunk = toBuffer(raw);
    total += chunk.length;
    options.onBytes?.(total);
    if (head) {
      chunk = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (chunk.length < BOM.length) {
        // A copy: a source may reuse its chunk's memory for the next one (file-source.ts).
        head = Buffer.from(chunk);
        continue;
      }
      head = undefined;
      if (chunk[0] === BOM[0] && chunk[1] === BOM[1] && chunk[2] === BOM[2]) {
        yield { kind: 'bom' };
        chunk = chunk.subarray(BOM.length);
      }
    }
    let position = 0;
    if (skipping) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        skipped += chunk.length;
        continue;
      }
      yield { kind: 'oversized', bytes: lineLength(skipped, chunk, newline, 0) };
      skipping = false;
      position = newline + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last < position) {
      keep(chunk.subarray(position));
      continue;
    }
    if (carryBytes > 0) {
      const firstNewline = chunk.indexOf(NEWLINE, position);
      const length = carryBytes + firstNewline - position;
      if (length > maxLineBytes) {
        const before = carryBytes;
        carry = [];
        carryBytes = 0;
        yield { kind: 'oversized', bytes: lineLength(before, chunk, firstNewline, position) };
      } else {
        carry.push(chunk.subarray(position, firstNewline + 1));
        carryBytes += firstNewline + 1 - position;
        yield { kind: 'lines', bytes: takeCarry() };
      }
      position = firstNewline + 1;
    }
    if (last >= position) yield { kind: 'lines', bytes: chunk.subarray(position, last + 1) };
    keep(chunk.subarray(last + 1));
  }
  // A stream of one or two bytes: too short for a BOM, it is a (final) line.
  if (head && head.length > 0) keep(head);
  if (skipping) yield { kind: 'oversized', bytes: skipped };
  else if (carryBytes > 0) yield { kind: 'lines', bytes: takeCarry() };
}

/** The length of a skipped line ending at `newline`, excluding a "\r" before it. */
function lineLength(before: number, chunk: Buffer, newline: number, from: number): number {
  const crlf = newline > from ? chunk[newline - 1] === 0x0d : false;
  const length = before + newline - from;
  return crlf ? length - 1 : length;
}
