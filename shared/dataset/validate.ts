import { isUtf8 } from 'node:buffer';
import { estimateCost } from './cost.ts';
import { checkExample, collectTexts, type ExampleMetrics, emptyMetrics } from './example-rules.ts';
import { HISTOGRAM_RELATIVE_ERROR, LogHistogram } from './histogram.ts';
import { type ByteSource, type Segment, splitLines } from './line-splitter.ts';
import { type ModelSpec, requireModel } from './models.ts';
import type { TokenEstimate, ValidationIssue, ValidationReport } from './report.ts';
import {
  HEURISTIC_TOKENS_PER_BYTE,
  loadTokenCounter,
  MEDIA_NOMINAL_TOKENS,
  type TokenCounter,
  templateOverhead,
  tokenUpperBound,
} from './tokens.ts';

export type DatasetRole = 'training' | 'validation';

export interface ValidateOptions {
  /** Base model id, alias or `publishers/google/models/<id>`; an unknown one throws UnknownModelError. */
  model: string;
  role?: DatasetRole;
  /** Named in the report only. */
  fileName?: string;
  /** Epochs for the cost estimate; the model's default when absent. */
  epochs?: number;
  /** Errors (and, separately, warnings) listed in the report; the rest are counted. Default 100. */
  maxErrors?: number;
  /** A longer line is reported and skipped without being held in memory. Default 1 MiB. */
  maxLineBytes?: number;
  /** Examples counted with the tokenizer to calibrate the cost estimate (0: use a heuristic ratio).
   * Loading the tokenizer costs about a second and 300 MB, once. Default 0. */
  tokenSample?: number;
  onProgress?: (bytesRead: number) => void;
  /** For tests: a tokenizer other than the Gemma 3 one, loaded lazily. */
  loadCounter?: () => Promise<TokenCounter>;
}

/**
 * 1 MiB: an example at the 131,072-token limit is rarely more than ~600 KB of JSON text, while a
 * cap this size keeps memory flat. Raise it for datasets with inline media.
 */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_ERRORS = 100;

class IssueList {
  readonly items: ValidationIssue[] = [];
  omitted = 0;
  constructor(private readonly cap: number) {}
  add(issue: ValidationIssue): void {
    if (this.items.length < this.cap) this.items.push(issue);
    else this.omitted++;
  }
  get total(): number {
    return this.items.length + this.omitted;
  }
}

interface PendingCount {
  line: number;
  texts: string[];
  metrics: ExampleMetrics;
}

interface SampleItem {
  index: number;
  texts: string[];
  contentBytes: number;
}

/** The validator's state over one stream: feed it segments in order, then `finish`. */
class DatasetValidator {
  readonly errors: IssueList;
  readonly warnings: IssueList;
  private line = 0;
  private examples = 0;
  private validExamples = 0;
  private characters = 0;
  private mediaParts = 0;
  private contentBytes = 0;
  private overheadTokens = 0;
  private upperBoundTokens = 0;
  private bounded = 0;
  private counted = 0;
  private readonly turns = new LogHistogram();
  private readonly tokens = new LogHistogram();
  private pending: PendingCount[] = [];
  private sample: SampleItem[] = [];
  private sampleStride = 1;
  private currentLine = 0;
  private readonly report = (severity: 'error' | 'warning', code: string, path: string, message: string) => {
    (severity === 'error' ? this.errors : this.warnings).add({ line: this.currentLine, code, path, message });
  };

  constructor(
    private readonly model: ModelSpec,
    private readonly role: DatasetRole,
    private readonly options: {
      maxErrors: number;
      maxLineBytes: number;
      tokenSample: number;
      loadCounter: () => Promise<TokenCounter>;
    },
  ) {
    this.errors = new IssueList(options.maxErrors);
    this.warnings = new IssueList(options.maxErrors);
  }

  async consume(segment: Segment): Promise<void> {
    if (segment.kind === 'bom') {
      this.errors.add({
        line: 1,
        code: 'bom',
        path: '',
        message: 'The file starts with a byte-order mark (BOM); save it as UTF-8 without BOM',
      });
      return;
    }
    if (segment.kind === 'oversized') {
      this.line++;
      this.examples++;
      this.lineTooLong(this.line, segment.bytes);
      return;
    }
    this.consumeLines(segment.bytes);
    if (this.pending.length > 0) await this.countPending();
  }

  private lineTooLong(line: number, bytes: number): void {
    this.errors.add({
      line,
      code: 'line_too_long',
      path: '',
      message: `Line is ${bytes} bytes, over the ${this.options.maxLineBytes}-byte line cap; it was skipped`,
    });
  }

  private consumeLines(block: Buffer): void {
    // One check for the whole block; only a block with a bad sequence is re-checked per line.
    const blockIsUtf8 = isUtf8(block);
    const { maxLineBytes } = this.options;
    let start = 0;
    while (start < block.length) {
      let newline = block.indexOf(0x0a, start);
      if (newline === -1) newline = block.length;
      let end = newline;
      if (end > start && block[end - 1] === 0x0d) end--;
      const line = ++this.line;
      const from = start;
      start = newline + 1;
      if (end === from) {
        this.warnings.add({ line, code: 'blank_line', path: '', message: 'Blank line skipped' });
        continue;
      }
      this.examples++;
      if (end - from > maxLineBytes) {
        this.lineTooLong(line, end - from);
        continue;
      }
      if (!blockIsUtf8 && !isUtf8(block.subarray(from, end))) {
        this.errors.add({ line, code: 'invalid_utf8', path: '', message: 'Line is not valid UTF-8' });
        continue;
      }
      const text = block.toString('utf8', from, end);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        if (text.trim() === '') {
          this.examples--;
          this.warnings.add({ line, code: 'blank_line', path: '', message: 'Blank line skipped' });
        } else {
          this.errors.add({
            line,
            code: 'json_syntax',
            path: '',
            message: `Invalid JSON: ${(error as Error).message}`,
          });
        }
        continue;
      }
      this.currentLine = line;
      const metrics = emptyMetrics();
      if (!checkExample(value, line, this.model, this.report, metrics)) continue;
      const bound = tokenUpperBound(metrics);
      if (bound > this.model.maxTokensPerExample) {
        // The bound cannot decide: count precisely before judging (after this block).
        this.pending.push({ line, texts: collectTexts(value as Record<string, unknown>), metrics });
        continue;
      }
      this.accept(metrics, bound, 'bound');
      if (this.options.tokenSample > 0) this.offerSample(value as Record<string, unknown>, metrics);
    }
  }

  private accept(metrics: ExampleMetrics, tokens: number, method: 'bound' | 'counted'): void {
    this.validExamples++;
    this.characters += metrics.characters;
    this.mediaParts += metrics.mediaParts;
    this.contentBytes += metrics.contentBytes;
    this.overheadTokens += templateOverhead(metrics);
    this.upperBoundTokens += tokenUpperBound(metrics) + metrics.mediaParts * MEDIA_NOMINAL_TOKENS;
    this.turns.add(metrics.turns);
    this.tokens.add(tokens);
    if (method === 'bound') this.bounded++;
    else this.counted++;
  }

  /** A systematic sample: every stride-th valid example, the stride doubling as the sample fills. */
  private offerSample(example: Record<string, unknown>, metrics: ExampleMetrics): void {
    const index = this.validExamples - 1;
    if (index % this.sampleStride !== 0 || metrics.contentBytes === 0) return;
    this.sample.push({ index, texts: collectTexts(example), contentBytes: metrics.contentBytes });
    if (this.sample.length > this.options.tokenSample) {
      this.sampleStride *= 2;
      this.sample = this.sample.filter((item) => item.index % this.sampleStride === 0);
    }
  }

  private async countPending(): Promise<void> {
    const counter = await this.options.loadCounter();
    const pending = this.pending;
    this.pending = [];
    for (const item of pending) {
      let content = 0;
      for (const text of item.texts) content += counter.count(text);
      const overhead = templateOverhead(item.metrics);
      const limit = this.model.maxTokensPerExample;
      this.currentLine = item.line;
      if (content > limit) {
        this.report(
          'error',
          'too_many_tokens',
          '',
          `Example has ${content} tokens (counted), over ${this.model.id}'s limit of ${limit} per example`,
        );
        continue;
      }
      if (content + overhead > limit) {
        this.report(
          'warning',
          'may_exceed_tokens',
          '',
          `Example has ${content} tokens (counted) plus about ${overhead} template tokens: at ${this.model.id}'s limit of ${limit}`,
        );
      }
      this.accept(item.metrics, content + overhead, 'counted');
    }
  }

  async finish(
    bytes: number,
  ): Promise<Omit<ValidationReport, 'file' | 'model' | 'role'> & { bytes: number }> {
    if (this.pending.length > 0) await this.countPending();
    const model = this.model;
    if (this.examples === 0) {
      this.errors.add({ line: 0, code: 'empty_file', path: '', message: 'The file holds no examples' });
    }
    const maxExamples = this.role === 'validation' ? model.maxValidationExamples : model.maxTrainingExamples;
    if (this.examples > maxExamples) {
      this.errors.add({
        line: 0,
        code: 'too_many_examples',
        path: '',
        message: `${this.examples} examples: a ${this.role} set for ${model.id} holds at most ${maxExamples}`,
      });
    }
    if (bytes > model.maxTrainingFileBytes) {
      this.errors.add({
        line: 0,
        code: 'file_too_large',
        path: '',
        message: `The file is ${bytes} bytes; ${model.id} accepts at most ${model.maxTrainingFileBytes}`,
      });
    }
    const tokens = await this.estimateTokens();
    const turns = this.turns.summary();
    const tokenSummary = this.tokens.summary();
    const errors = [...this.errors.items].sort((a, b) => a.line - b.line);
    const warnings = [...this.warnings.items].sort((a, b) => a.line - b.line);
    return {
      bytes,
      valid: this.errors.total === 0,
      examples: this.examples,
      errors,
      errorsOmitted: this.errors.omitted,
      warnings,
      warningsOmitted: this.warnings.omitted,
      stats: {
        bytes,
        lines: this.line,
        examples: this.examples,
        validExamples: this.validExamples,
        characters: this.characters,
        mediaParts: this.mediaParts,
        turns: { ...turns, total: this.turns.sum },
        tokens: {
          ...tokenSummary,
          method: this.counted === 0 ? 'bound' : this.bounded === 0 ? 'counted' : 'mixed',
          bounded: this.bounded,
          counted: this.counted,
          relativeError: HISTOGRAM_RELATIVE_ERROR,
          limit: model.maxTokensPerExample,
        },
        estimate: { tokens, cost: null },
      },
    };
  }

  private async estimateTokens(): Promise<TokenEstimate> {
    let tokensPerByte = HEURISTIC_TOKENS_PER_BYTE;
    let method: TokenEstimate['method'] = 'heuristic';
    let sampleSize = 0;
    if (this.sample.length > 0) {
      const counter = await this.options.loadCounter();
      let tokens = 0;
      let bytes = 0;
      for (const item of this.sample) {
        for (const text of item.texts) tokens += counter.count(text);
        bytes += item.contentBytes;
      }
      tokensPerByte = bytes === 0 ? 0 : tokens / bytes;
      method = 'sampled';
      sampleSize = this.sample.length;
    }
    const media = this.mediaParts * MEDIA_NOMINAL_TOKENS;
    return {
      upperBound: this.upperBoundTokens,
      estimated: Math.min(
        this.upperBoundTokens,
        Math.round(this.contentBytes * tokensPerByte + this.overheadTokens + media),
      ),
      method,
      tokensPerByte,
      sampleSize,
    };
  }
}

/**
 * Validates a JSONL supervised-tuning dataset streamed from `source` (a Node Readable, e.g. a
 * Cloud Storage read stream, or any async iterable of bytes) in constant memory. Throws
 * UnknownModelError for an unknown model and passes through I/O errors of the source; every
 * problem with the data itself is in the report.
 */
export async function validateDataset(
  source: ByteSource,
  options: ValidateOptions,
): Promise<ValidationReport> {
  const model = requireModel(options.model);
  const role = options.role ?? 'training';
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const validator = new DatasetValidator(model, role, {
    maxErrors: options.maxErrors ?? DEFAULT_MAX_ERRORS,
    maxLineBytes,
    tokenSample: options.tokenSample ?? 0,
    loadCounter: options.loadCounter ?? loadTokenCounter,
  });
  let bytes = 0;
  const onBytes = (total: number) => {
    bytes = total;
    options.onProgress?.(total);
  };
  for await (const segment of splitLines(source, { maxLineBytes, onBytes })) await validator.consume(segment);
  const { bytes: _bytes, ...result } = await validator.finish(bytes);
  const cost = role === 'training' ? estimateCost(model, result.stats.estimate.tokens, options.epochs) : null;
  return {
    ...result,
    ...(options.fileName === undefined ? {} : { file: options.fileName }),
    model: model.id,
    role,
    stats: { ...result.stats, estimate: { ...result.stats.estimate, cost } },
  };
}
