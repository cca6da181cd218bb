import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A realistic supervised-tuning dataset, deterministic for a given size: chat examples with an
 * optional system instruction, 1–4 user/model exchanges, prose in several scripts, code with
 * quotes and escapes, and a long-tail of long examples (a few 20–60 KB documents).
 */
const WORDS = (
  'the of and to in is that for it as with was on be by this are or from at an which but not have ' +
  'model data request user answer cluster network latency query result report invoice customer ' +
  'order shipment refund policy contract summary function value error retry timeout deploy bucket'
).split(' ');
const FOREIGN = [
  'Привет, как дела? Расскажите подробнее о заказе.',
  'こんにちは、注文の状況を教えてください。',
  'Bonjour, où en est ma commande ? Merci beaucoup.',
  '你好，请总结一下这份合同的主要条款。',
  'Grüße aus München — die Lieferung ist verspätet.',
  'مرحبا، أحتاج إلى مساعدة في الفاتورة',
  'Emoji are text too 🎉🚀✅',
];
const CODE = [
  'function add(a, b) {\n  return a + b; // "sum"\n}\n',
  'SELECT id, "name" FROM users WHERE created_at > \'2024-01-01\';\n',
  'def parse(line):\n    return json.loads(line.strip())\t# tab\n',
];

function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeText(random: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const r = random();
    if (r < 0.01) out.push(FOREIGN[Math.floor(random() * FOREIGN.length)]!);
    else if (r < 0.015) out.push(`\n\`\`\`\n${CODE[Math.floor(random() * CODE.length)]!}\`\`\`\n`);
    else out.push(WORDS[Math.floor(random() * WORDS.length)]!);
    if (random() < 0.06) out.push('.\n');
  }
  return out.join(' ');
}

export function makeExample(random: () => number): string {
  const exchanges = 1 + Math.floor(random() * 4);
  const long = random() < 0.002;
  const contents: unknown[] = [];
  for (let i = 0; i < exchanges; i++) {
    const userWords =
      long && i === 0 ? 4_000 + Math.floor(random() * 8_000) : 20 + Math.floor(random() * 120);
    contents.push({ role: 'user', parts: [{ text: makeText(random, userWords) }] });
    contents.push({ role: 'model', parts: [{ text: makeText(random, 30 + Math.floor(random() * 200)) }] });
  }
  const example: Record<string, unknown> = { contents };
  if (random() < 0.5) {
    example.systemInstruction = { parts: [{ text: makeText(random, 15 + Math.floor(random() * 40)) }] };
  }
  return JSON.stringify(example);
}

/** Writes (once) a dataset of just under `bytes` bytes (so "1GB" stays within the 1 GiB limit). */
export async function ensureDataset(path: string, bytes: number): Promise<string> {
  const existing = await stat(path).catch(() => undefined);
  if (existing && existing.size <= bytes && existing.size > bytes - (1 << 20)) return path;
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  const out = createWriteStream(partial, { highWaterMark: 1 << 20 });
  const random = rng(42);
  let written = 0;
  for (;;) {
    const line = `${makeExample(random)}\n`;
    const length = Buffer.byteLength(line);
    if (written + length > bytes) break;
    written += length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await rename(partial, path);
  return path;
}
