import { isUtf8 } from 'node:buffer';
import {
  checkExample,
  collectTexts,
  type ExampleMetrics,
  emptyMetrics,
  type Reporter,
} from './example-rules.ts';
import type { ModelSpec } from './models.ts';
import type { ValidationIssue } from './report.ts';
import { tokenUpperBound } from './tokens.ts';
import { ExampleTotals, type TotalsState } from './totals.ts';
import { checkYandexExample } from './yandex-rules.ts';

/**
 * Validates one block of whole JSONL lines on its own: the unit of work of a worker thread, and
 * of the calling thread on the single-threaded path. Everything that needs more than one block
 * (the error cap across the file, precise token counts with the tokenizer, the counted sample,
 * file-level checks) is left to the report builder, which merges block results in order.
 */
export interface BlockSettings {
  model: ModelSpec;
  maxLineBytes: number;
  /** Issues listed per block; the report builder never needs more than this from one block. */
  maxErrors: number;
}

/** A block's first issues in line order, with a count of the rest. */
export interface IssueBatch {
  items: ValidationIssue[];
  omitted: number;
  /** The line of the first omitted issue (Infinity when none was), so issues found later for an
   * earlier line (precise token counts) can be placed exactly. */
  firstOmittedLine: number;
}

/** A line whose token bound exceeded the limit: the report builder counts it precisely. */
export interface PendingExample {
  line: number;
  texts: string[];
  metrics: ExampleMetrics;
}

/** A valid line that may enter the counted sample (see ReportBuilder.offerSample). */
export interface SampleCandidate {
  line: number;
  texts: string[];
  contentBytes: number;
}

export interface BlockResult {
  firstLine: number;
  lines: number;
  /** Lines holding something other than whitespace, valid or not. */
  examples: number;
  /** Examples accepted by the byte bound; pending ones are added when counted. */
  totals: TotalsState;
  errors: IssueBatch;
  warnings: IssueBatch;
  pending: PendingExample[];
  sample: SampleCandidate[];
}

class IssueCollector {
  readonly items: ValidationIssue[] = [];
  omitted = 0;
  firstOmittedLine = Number.POSITIVE_INFINITY;
  constructor(private readonly cap: number) {}
  add(issue: ValidationIssue): void {
    if (this.items.length < this.cap) this.items.push(issue);
    else if (this.omitted++ === 0) this.firstOmittedLine = issue.line;
  }
  batch(): IssueBatch {
    return { items: this.items, omitted: this.omitted, firstOmittedLine: this.firstOmittedLine };
  }
}

export function lineTooLongMessage(bytes: number, maxLineBytes: number): string {
  return `Line is ${bytes} bytes, over the ${maxLineBytes}-byte line cap; it was skipped`;
}

/**
 * `block` holds whole lines, each ending with "\n" except possibly the last line of the file;
 * `firstLine` is the 1-based number of its first line. `sampleStride` > 0 offers every valid line
 * whose number is 1 modulo the stride as a sample candidate (0: no sample is taken).
 */
export function validateBlock(
  block: Buffer,
  firstLine: number,
  settings: BlockSettings,
  sampleStride: number,
): BlockResult {
  const { model, maxLineBytes, maxErrors } = settings;
  const errors = new IssueCollector(maxErrors);
  const warnings = new IssueCollector(maxErrors);
  const totals = new ExampleTotals();
  const pending: PendingExample[] = [];
  const sample: SampleCandidate[] = [];
  let line = firstLine - 1;
  let examples = 0;
  const report: Reporter = (severity, code, path, message) =>
    (severity === 'error' ? errors : warnings).add({ line, code, path, message });
  // One check for the whole block; only a block with a bad sequence is re-checked per line.
  const blockIsUtf8 = isUtf8(block);
  let start = 0;
  while (start < block.length) {
    let newline = block.indexOf(0x0a, start);
    if (newline === -1) newline = block.length;
    let end = newline;
    if (end > start && block[end - 1] === 0x0d) end--;
    line++;
    const from = start;
    start = newline + 1;
    if (end === from) {
      warnings.add({ line, code: 'blank_line', path: '', message: 'Blank line skipped' });
      continue;
    }
    examples++;
    if (end - from > maxLineBytes) {
      errors.add({
        line,
        code: 'line_too_long',
        path: '',
        message: lineTooLongMessage(end - from, maxLineBytes),
      });
      continue;
    }
    if (!blockIsUtf8 && !isUtf8(block.subarray(from, end))) {
      errors.add({ line, code: 'invalid_utf8', path: '', message: 'Line is not valid UTF-8' });
      continue;
    }
    const text = block.toString('utf8', from, end);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (text.trim() === '') {
        examples--;
        warnings.add({ line, code: 'blank_line', path: '', message: 'Blank line skipped' });
      } else {
        errors.add({
          line,
          code: 'json_syntax',
          path: '',
          message: `Invalid JSON: ${(error as Error).message}`,
        });
      }
      continue;
    }
    const metrics = emptyMetrics();
    if (model.provider === 'yandex') {
      // Yandex's own format, limits checked on an estimate there (no tokenizer, no counted sample).
      if (checkYandexExample(value, line, model, report, metrics))
        totals.accept(metrics, tokenUpperBound(metrics), 'bound');
      continue;
    }
    // snake_case field names need a renaming pass; a line without any underscore cannot have one.
    if (!checkExample(value, line, model, report, metrics, text.includes('_'))) continue;
    const bound = tokenUpperBound(metrics);
    if (bound > model.limits.maxTokensPerExample) {
      // The bound cannot decide: the report builder counts it precisely with the tokenizer.
      pending.push({ line, texts: collectTexts(value as Record<string, unknown>), metrics });
      continue;
    }
    totals.accept(metrics, bound, 'bound');
    if (sampleStride > 0 && metrics.contentBytes > 0 && (line - 1) % sampleStride === 0) {
      sample.push({
        line,
        texts: collectTexts(value as Record<string, unknown>),
        contentBytes: metrics.contentBytes,
      });
    }
  }
  return {
    firstLine,
    lines: line - firstLine + 1,
    examples,
    totals: totals.state(),
    errors: errors.batch(),
    warnings: warnings.batch(),
    pending,
    sample,
  };
}

/** The lines a block holds, counted the way validateBlock numbers them. */
export function countLines(block: Buffer): number {
  let lines = 0;
  let start = 0;
  while (start < block.length) {
    const newline = block.indexOf(0x0a, start);
    lines++;
    if (newline === -1) break;
    start = newline + 1;
  }
  return lines;
}
