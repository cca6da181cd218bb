/**
 * `tuningDataStats.supervisedTuningDataStats` computed from the dataset the emulator can read:
 * example count, characters, a token estimate, the step count and the user input/output token
 * distributions in the shape Vertex AI returns them (int64 as strings, doubles as numbers).
 * Tokens are estimated at four characters each: close enough for a stand-in, and deterministic.
 *
 * Examples over the model's token limit are dropped, not truncated, as Vertex documents: they are
 * counted in `totalTruncatedExampleCount` (a legacy name), listed 1-based in
 * `truncatedExampleIndices` (a partial sample) with one `droppedExampleReasons` entry each, and are
 * neither billed nor trained on. Whether the job may train at all (the 10% rule) is jobs.ts's call.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** Examples per tuning step: steps = ceil(examples / batch) * epochs. */
export const batchSize = 16;
export const defaultEpochCount = 3;
const charsPerToken = 4;
const sampleExamples = 3;
/** Vertex calls the index list "a partial sample"; the emulator keeps the first ones. */
export const maxDroppedIndices = 100;

export class DatasetError extends Error {}

interface Part {
  text?: unknown;
}
interface Content {
  role?: unknown;
  parts?: unknown;
}

const estimateTokens = (chars: number) => Math.ceil(chars / charsPerToken);

function textOf(content: Content): string {
  return Array.isArray(content.parts)
    ? (content.parts as Part[]).map((part) => (typeof part?.text === 'string' ? part.text : '')).join('')
    : '';
}

/** Maps `gs://BUCKET/path` to `<bucketDir>/path`; the bucket name is not part of the folder. */
export function localPathFor(uri: string, bucketDir: string | undefined): string {
  const match = /^gs:\/\/[^/]+\/(.+)$/.exec(uri);
  if (!match?.[1]) throw new DatasetError(`${uri} is not a Cloud Storage URI.`);
  if (!bucketDir) throw new DatasetError(`No such object: ${uri}`);
  const root = path.resolve(bucketDir);
  const file = path.resolve(root, match[1]);
  if (!file.startsWith(root + path.sep)) throw new DatasetError(`No such object: ${uri}`);
  return file;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** SupervisedTuningDatasetDistribution: sums as int64 strings, the rest as doubles, 10 buckets. */
export function distribution(values: number[], billable = true) {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  const min = sorted[0] ?? 0;
  const max = sorted[sorted.length - 1] ?? 0;
  const bucketCount = Math.min(10, Math.max(1, sorted.length));
  const width = max > min ? (max - min) / bucketCount : 1;
  const buckets = Array.from({ length: bucketCount }, (_, i) => ({
    count: 0,
    left: min + i * width,
    right: min + (i + 1) * width,
  }));
  for (const value of sorted) {
    const index = Math.min(bucketCount - 1, Math.floor((value - min) / width));
    (buckets[index] as { count: number }).count++;
  }
  return {
    sum: String(sum),
    ...(billable ? { billableSum: String(sum) } : {}),
    min,
    max,
    mean: sorted.length ? sum / sorted.length : 0,
    median: percentile(sorted, 50),
    p5: percentile(sorted, 5),
    p95: percentile(sorted, 95),
    buckets: buckets.filter((bucket) => bucket.count > 0),
  };
}

export interface DataAnalysis {
  stats: SupervisedTuningDataStats;
  examples: number;
  dropped: number;
}

/** Reads a JSONL dataset (Gemini `contents` or chat `messages` format) and computes Vertex's stats. */
export async function computeDataStats(
  file: string,
  uri: string,
  epochCount: number,
  maxTokensPerExample: number = Number.POSITIVE_INFINITY,
): Promise<DataAnalysis> {
  const inputTokens: number[] = [];
  const outputTokens: number[] = [];
  const messagesPerExample: number[] = [];
  const samples: unknown[] = [];
  let characters = 0;
  let lineNumber = 0;
  let examples = 0;
  const droppedIndices: string[] = [];
  const droppedReasons: string[] = [];
  let dropped = 0;
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(
      code === 'ENOENT' ? `No such object: ${uri}` : `Unable to read ${uri}: ${code ?? error}`,
    );
  }
  for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    if (!line.trim()) continue;
    let example: { contents?: unknown; messages?: unknown; systemInstruction?: unknown };
    try {
      example = JSON.parse(line);
    } catch {
      throw new DatasetError(`Invalid JSON in ${uri} at line ${lineNumber}.`);
    }
    let input = 0;
    let output = 0;
    let messages = 0;
    const system = example.systemInstruction as Content | undefined;
    if (system) input += textOf(system).length;
    if (Array.isArray(example.contents)) {
      for (const content of example.contents as Content[]) {
        const chars = textOf(content).length;
        messages++;
        if (content.role === 'model') output += chars;
        else input += chars;
      }
      if (samples.length < sampleExamples) {
        const user = (example.contents as Content[]).find((content) => content.role === 'user');
        if (user) samples.push(user);
      }
    } else if (Array.isArray(example.messages)) {
      for (const message of example.messages as { role?: unknown; content?: unknown }[]) {
        const chars = typeof message.content === 'string' ? message.content.length : 0;
        messages++;
        if (message.role === 'assistant' || message.role === 'model') output += chars;
        else input += chars;
      }
    } else {
      throw new DatasetError(`Example at line ${lineNumber} of ${uri} has no "contents".`);
    }
    examples++;
    const exampleTokens = estimateTokens(input) + estimateTokens(output);
    if (exampleTokens > maxTokensPerExample) {
      dropped++;
      if (droppedIndices.length < maxDroppedIndices) {
        droppedIndices.push(String(examples));
        // Vertex's reason wording is not documented; this one names the figures.
        droppedReasons.push(
          `The example has ${exampleTokens} input and output tokens, more than the limit of ${maxTokensPerExample}.`,
        );
      }
      continue;
    }
    characters += input + output;
    inputTokens.push(estimateTokens(input));
    outputTokens.push(estimateTokens(output));
    messagesPerExample.push(messages);
  }
  if (!examples) throw new DatasetError(`The dataset ${uri} is empty.`);
  const kept = inputTokens.length;
  const tokens = [...inputTokens, ...outputTokens].reduce((total, value) => total + value, 0);
  const stats: SupervisedTuningDataStats = {
    // Every example of the dataset; the figures below cover only those trained on (and billed).
    tuningDatasetExampleCount: String(examples),
    totalTuningCharacterCount: String(characters),
    totalBillableCharacterCount: String(characters),
    totalBillableTokenCount: String(tokens),
    tuningStepCount: String(Math.ceil(kept / batchSize) * epochCount),
    userInputTokenDistribution: distribution(inputTokens),
    userOutputTokenDistribution: distribution(outputTokens),
    userMessagePerExampleDistribution: distribution(messagesPerExample, false),
    userDatasetExamples: samples,
  };
  if (dropped) {
    stats.totalTruncatedExampleCount = String(dropped);
    stats.truncatedExampleIndices = droppedIndices;
    stats.droppedExampleReasons = droppedReasons;
  }
  return { stats, examples, dropped };
}

export interface SupervisedTuningDataStats {
  tuningDatasetExampleCount: string;
  totalTuningCharacterCount: string;
  totalBillableCharacterCount: string;
  totalBillableTokenCount: string;
  tuningStepCount: string;
  userInputTokenDistribution: ReturnType<typeof distribution>;
  userOutputTokenDistribution: ReturnType<typeof distribution>;
  userMessagePerExampleDistribution: ReturnType<typeof distribution>;
  userDatasetExamples: unknown[];
  totalTruncatedExampleCount?: string;
  truncatedExampleIndices?: string[];
  droppedExampleReasons?: string[];
}
