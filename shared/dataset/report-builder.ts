import type { BlockResult, IssueBatch, SampleCandidate } from './block-validator.ts';
import { lineTooLongMessage } from './block-validator.ts';
import { HISTOGRAM_RELATIVE_ERROR } from './histogram.ts';
import type { ModelSpec } from './models.ts';
import type { TokenEstimate, ValidationIssue, ValidationReport } from './report.ts';
import {
  HEURISTIC_TOKENS_PER_BYTE,
  MEDIA_NOMINAL_TOKENS,
  type TokenCounter,
  templateOverhead,
} from './tokens.ts';
import { ExampleTotals } from './totals.ts';

export type DatasetRole = 'training' | 'validation';

/**
 * Vertex AI's advice for a training set: "For best results, we recommend that you start with 100
 * examples" (Prepare supervised fine-tuning data for Gemini models,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-about,
 * checked 2025; earlier versions of the page said "at least 100 to 500 examples"). Fewer is
 * allowed, so it is a warning, not an error.
 */
export const RECOMMENDED_MIN_TRAINING_EXAMPLES = 100;

/**
 * The first `cap` issues in file order, and a count of the rest. Issues arrive in line order
 * (blocks are merged in order), so the listed ones are the same whatever the block boundaries.
 */
class IssueList {
  items: ValidationIssue[] = [];
  omitted = 0;
  constructor(private readonly cap: number) {}

  add(issue: ValidationIssue): void {
    if (this.items.length < this.cap) this.items.push(issue);
    else this.omitted++;
  }

  /**
   * Adds a block's issues and `late` ones found for its lines afterwards (precise token counts),
   * both in line order; on the same line a late issue comes after the block's own. A late issue
   * at or after the block's first omitted issue is past the block's first `cap`: counted only.
   */
  addBlock(batch: IssueBatch, late: ValidationIssue[]): void {
    let i = 0;
    let j = 0;
    while (i < batch.items.length || j < late.length) {
      const own = batch.items[i];
      const extra = late[j];
      if (extra === undefined || (own !== undefined && own.line <= extra.line)) {
        this.add(own!);
        i++;
      } else {
        if (extra.line < batch.firstOmittedLine) this.add(extra);
        else this.omitted++;
        j++;
      }
    }
    this.omitted += batch.omitted;
  }

  /** File-level issues (line 0) go first; the cap then drops the last listed ones. */
  addFileLevel(issues: ValidationIssue[]): void {
    if (issues.length === 0) return;
    this.items = [...issues, ...this.items];
    while (this.items.length > this.cap) {
      this.items.pop();
      this.omitted++;
    }
  }

  get total(): number {
    return this.items.length + this.omitted;
  }
}

export interface BuilderOptions {
  maxErrors: number;
  maxLineBytes: number;
  tokenSample: number;
  loadCounter: () => Promise<TokenCounter>;
}

export type BuiltReport = Omit<ValidationReport, 'file' | 'model' | 'role'>;

/**
 * Merges, in file order, what the splitter saw (a BOM, over-long lines) and the results of
 * validated blocks into one report. Whichever thread validated a block, the report is the same.
 */
export class ReportBuilder {
  private line = 0;
  private examples = 0;
  private readonly totals = new ExampleTotals();
  private readonly errors: IssueList;
  private readonly warnings: IssueList;
  private sample: SampleCandidate[] = [];
  private stride = 1;

  constructor(
    private readonly model: ModelSpec,
    private readonly role: DatasetRole,
    private readonly options: BuilderOptions,
  ) {
    this.errors = new IssueList(options.maxErrors);
    this.warnings = new IssueList(options.maxErrors);
  }

  /** Lines merged so far. */
  get lines(): number {
    return this.line;
  }

  /** The stride for sample candidates of a block validated now (0: no sample). It only grows,
   * by doubling, so a block's candidates hold every line the final stride selects. */
  get sampleStride(): number {
    return this.options.tokenSample > 0 ? this.stride : 0;
  }

  bom(): void {
    this.errors.add({
      line: 1,
      code: 'bom',
      path: '',
      message: 'The file starts with a byte-order mark (BOM); save it as UTF-8 without BOM',
    });
  }

  oversized(bytes: number): void {
    this.line++;
    this.examples++;
    this.errors.add({
      line: this.line,
      code: 'line_too_long',
      path: '',
      message: lineTooLongMessage(bytes, this.options.maxLineBytes),
    });
  }

  async addBlock(block: BlockResult): Promise<void> {
    if (block.firstLine !== this.line + 1) {
      throw new Error(`block starting at line ${block.firstLine} merged after line ${this.line}`);
    }
    this.line += block.lines;
    this.examples += block.examples;
    this.totals.merge(block.totals);
    const lateErrors: ValidationIssue[] = [];
    const lateWarnings: ValidationIssue[] = [];
    if (block.pending.length > 0) {
      const counter = await this.options.loadCounter();
      const limit = this.model.limits.maxTokensPerExample;
      for (const item of block.pending) {
        let content = 0;
        for (const text of item.texts) content += counter.count(text);
        const overhead = templateOverhead(item.metrics);
        if (content > limit) {
          lateErrors.push({
            line: item.line,
            code: 'too_many_tokens',
            path: '',
            message: `Example has ${content} tokens (counted), over ${this.model.id}'s limit of ${limit} per example`,
          });
          continue;
        }
        if (content + overhead > limit) {
          lateWarnings.push({
            line: item.line,
            code: 'may_exceed_tokens',
            path: '',
            message: `Example has ${content} tokens (counted) plus about ${overhead} template tokens: at ${this.model.id}'s limit of ${limit}`,
          });
        }
        this.totals.accept(item.metrics, content + overhead, 'counted');
      }
    }
    this.errors.addBlock(block.errors, lateErrors);
    this.warnings.addBlock(block.warnings, lateWarnings);
    for (const candidate of block.sample) this.offerSample(candidate);
  }

  /** A systematic sample: valid lines whose number is 1 modulo a stride that doubles as the
   * sample fills. Chosen by line number, so it does not depend on how the file was split. */
  private offerSample(candidate: SampleCandidate): void {
    const { tokenSample } = this.options;
    if (tokenSample <= 0 || (candidate.line - 1) % this.stride !== 0) return;
    this.sample.push(candidate);
    if (this.sample.length > tokenSample) {
      this.stride *= 2;
      this.sample = this.sample.filter((item) => (item.line - 1) % this.stride === 0);
    }
  }

  async finish(bytes: number): Promise<BuiltReport> {
    const { model, role, totals } = this;
    const fileErrors: ValidationIssue[] = [];
    if (this.examples === 0) {
      fileErrors.push({ line: 0, code: 'empty_file', path: '', message: 'The file holds no examples' });
    }
    // Null: the provider documents no maximum. Which training maximum applies (text-only or
    // multimodal) follows from whether the file holds media.
    const maxExamples =
      role === 'validation'
        ? model.limits.maxValidationExamples
        : totals.mediaParts > 0
          ? (model.limits.maxTrainingExamplesMultimodal ?? model.limits.maxTrainingExamplesTextOnly)
          : model.limits.maxTrainingExamplesTextOnly;
    if (maxExamples !== null && this.examples > maxExamples) {
      fileErrors.push({
        line: 0,
        code: 'too_many_examples',
        path: '',
        message: `${this.examples} examples: a ${role} set for ${model.id} holds at most ${maxExamples}`,
      });
    }
    if (bytes > model.limits.maxTrainingFileBytes) {
      fileErrors.push({
        line: 0,
        code: 'file_too_large',
        path: '',
        message: `The file is ${bytes} bytes; ${model.id} accepts at most ${model.limits.maxTrainingFileBytes}`,
      });
    }
    const minExamples = model.limits.minTrainingExamples;
    if (
      model.provider === 'yandex' &&
      role === 'training' &&
      minExamples !== null &&
      this.examples > 0 &&
      this.examples < minExamples
    ) {
      fileErrors.push({
        line: 0,
        code: 'too_few_examples',
        path: '',
        message: `${this.examples} example${this.examples === 1 ? '' : 's'}: ${model.id} needs at least ${minExamples} for tuning`,
      });
    }
    this.errors.addFileLevel(fileErrors);
    if (
      model.provider !== 'yandex' &&
      role === 'training' &&
      this.examples > 0 &&
      this.examples < RECOMMENDED_MIN_TRAINING_EXAMPLES
    ) {
      this.warnings.addFileLevel([
        {
          line: 0,
          code: 'few_examples',
          path: '',
          message: `${this.examples} example${this.examples === 1 ? '' : 's'}: Vertex AI recommends starting with at least ${RECOMMENDED_MIN_TRAINING_EXAMPLES} for supervised tuning`,
        },
      ]);
    }
    const tokens = await this.estimateTokens();
    const tokenSummary = totals.tokens.summary();
    return {
      valid: this.errors.total === 0,
      examples: this.examples,
      errors: this.errors.items,
      errorsOmitted: this.errors.omitted,
      warnings: this.warnings.items,
      warningsOmitted: this.warnings.omitted,
      stats: {
        bytes,
        lines: this.line,
        examples: this.examples,
        validExamples: totals.validExamples,
        characters: totals.characters,
        mediaParts: totals.mediaParts,
        turns: { ...totals.turns.summary(), total: totals.turns.sum },
        tokens: {
          ...tokenSummary,
          method: totals.counted === 0 ? 'bound' : totals.bounded === 0 ? 'counted' : 'mixed',
          bounded: totals.bounded,
          counted: totals.counted,
          relativeError: HISTOGRAM_RELATIVE_ERROR,
          limit: model.limits.maxTokensPerExample,
        },
        estimate: { tokens, cost: null },
      },
    };
  }

  private async estimateTokens(): Promise<TokenEstimate> {
    const { totals } = this;
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
    const media = totals.mediaParts * MEDIA_NOMINAL_TOKENS;
    return {
      upperBound: totals.upperBoundTokens,
      estimated: Math.min(
        totals.upperBoundTokens,
        Math.round(totals.contentBytes * tokensPerByte + totals.overheadTokens + media),
      ),
      method,
      tokensPerByte,
      sampleSize,
    };
  }
}
