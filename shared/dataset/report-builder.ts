import type { BlockResult, IssueBatch, SampleCandidate } from './block-validator.ts';
import { lineTooLongMessage } from './block-validator.ts';
import { HISTOGRAM_RELATIVE_ERROR } from './histogram.ts';
import type { DatasetModel, ModelSpec } from './models.ts';
import type { TokenEstimate, ValidationIssue, ValidationReport } from './report.ts';
import type { TokenCounting } from './token-counting.ts';
import { estimateTokens, type SampledExample } from './token-estimate.ts';
import { templateOverhead } from './tokens.ts';
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
 * Vertex AI drops an example over the token limit (it is "not billed or used for training") and
 * "If more than 10% of the dataset is dropped, the job will fail … before the start of training"
 * (supervised-tuning video data page; `totalTruncatedExampleCount` in tuning_job.proto counts the
 * dropped examples). A rule of the provider, not a number of one model, so it lives here. Whether
 * it holds for every modality is not confirmed: applied to every dataset, it never refuses a
 * dataset Vertex AI would accept, since more than 10% dropped fails the job either way.
 */
export const VERTEX_MAX_DROPPED_SHARE = 0.1;

const number = new Intl.NumberFormat('en-US');
const fmt = (value: number) => number.format(value);

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
  /** Where examples are counted with the tokenizer, started on first use only. */
  counting: () => Promise<TokenCounting>;
  /** Droppable examples are errors, not warnings. */
  strict: boolean;
  /** File-level issues about the model (retired, unknown...), listed first. */
  modelIssues: Pick<DatasetModel, 'errors' | 'warnings'>;
  /**
   * The model is not in the catalog: its limits are the catalog's conservative guesses, so going
   * over one (examples per file, file size, dropped share) is a warning; the provider's own
   * answer stands.
   */
  guessedLimits: boolean;
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
  /** Examples the provider will drop: counted over the token limit (see addBlock). */
  private droppable = 0;

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
      const counting = await this.options.counting();
      const limit = this.model.limits.maxTokensPerExample;
      const drops = this.model.provider === 'vertex';
      const dropIssues = this.options.strict ? lateErrors : lateWarnings;
      for (const item of block.pending) {
        // Far from the limit, a counted sample of a long text decides; near it, counting stops
        // once past it: an example that is over needs no exact figure (token-counting.ts).
        const count = await counting.countUpTo(item.texts, limit);
        const content = count.tokens;
        const how = count.exact
          ? 'counted'
          : count.atLeast
            ? 'counted until past the limit'
            : 'estimated from a counted sample';
        const figure = `${count.exact ? '' : count.atLeast ? 'at least ' : 'about '}${fmt(content)}`;
        const overhead = templateOverhead(item.metrics);
        // Only an example whose tokenizer count of its content alone is over the limit is counted
        // as droppable. The byte bound that sent it here is an upper bound (a line of long words
        // has far fewer tokens than bytes), so it never drops an example by itself; the content
        // count leaves the template tokens out, so it is a lower bound of what the provider
        // counts (with the Gemma 3 tokenizer standing in for Gemini's, see tokens.ts). Above the
        // limit by the content alone is as certain as tunedrop can be without the provider.
        if (content > limit) {
          if (!drops) {
            lateErrors.push({
              line: item.line,
              code: 'too_many_tokens',
              path: '',
              message: `Example has ${figure} tokens (${how}), over ${this.model.id}'s limit of ${fmt(limit)} per example`,
            });
            continue;
          }
          this.droppable++;
          dropIssues.push({
            line: item.line,
            code: 'example_dropped',
            path: '',
            message: `Vertex AI will drop this example: ${figure} tokens > ${fmt(limit)} (${this.model.id}'s limit per example; ${how})`,
          });
          continue;
        }
        if (content + overhead > limit) {
          // Within a few template tokens of the limit: not certain, so never counted as droppable.
          (drops ? dropIssues : lateWarnings).push({
            line: item.line,
            code: 'may_exceed_tokens',
            path: '',
            message: `Example has ${fmt(content)} tokens (${how}) plus about ${overhead} template tokens: at ${this.model.id}'s limit of ${fmt(limit)}${drops ? '; Vertex AI drops an example over it' : ''}`,
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
    const fileWarnings: ValidationIssue[] = [...this.options.modelIssues.warnings];
    if (this.droppable > 0) {
      const share = this.droppable / this.examples;
      const summary = `${fmt(this.droppable)} of ${fmt(this.examples)} examples (${percent(share)}) are over ${model.id}'s limit of ${fmt(model.limits.maxTokensPerExample)} tokens per example`;
      if (share > VERTEX_MAX_DROPPED_SHARE) {
        fileErrors.push({
          line: 0,
          code: 'too_many_dropped',
          path: '',
          message: `${summary}: Vertex AI drops such examples and fails the job when more than ${percent(VERTEX_MAX_DROPPED_SHARE)} of the dataset is dropped`,
        });
      } else if (!this.options.strict) {
        fileWarnings.push({
          line: 0,
          code: 'examples_dropped',
          path: '',
          message: `${summary}: Vertex AI will drop them (not billed, not trained on); the job fails only above ${percent(VERTEX_MAX_DROPPED_SHARE)}`,
        });
      }
    }
    const guessed = this.options.guessedLimits
      ? fileErrors.filter((issue) => issue.code !== 'empty_file')
      : [];
    for (const issue of guessed) {
      fileWarnings.push({
        ...issue,
        message: `${issue.message} (a conservative limit for a model not in the catalog: Vertex AI's own answer stands)`,
      });
    }
    this.errors.addFileLevel([
      ...this.options.modelIssues.errors,
      ...fileErrors.filter((issue) => !guessed.includes(issue)),
    ]);
    this.warnings.addFileLevel(fileWarnings);
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
        droppable: this.droppable,
        turns: { ...totals.turns.summary(), total: totals.turns.sum },
        tokens: {
          ...tokenSummary,
          method: totals.counted === 0 ? 'bound' : totals.bounded === 0 ? 'counted' : 'mixed',
          bounded: totals.bounded,
          counted: totals.counted,
          relativeError: HISTOGRAM_RELATIVE_ERROR,
          limit: model.limits.maxTokensPerExample,
          histogram: totals.tokens.bins(),
        },
        estimate: { tokens, cost: null },
      },
    };
  }

  /** Counts the sample (if any) with the tokenizer and estimates the billable tokens from it. */
  private async estimateTokens(): Promise<TokenEstimate> {
    const sample: SampledExample[] = [];
    if (this.sample.length > 0) {
      const counting = await this.options.counting();
      for (const item of this.sample) {
        sample.push({
          tokens: (await counting.countUpTo(item.texts, Number.POSITIVE_INFINITY)).tokens,
          bytes: item.contentBytes,
        });
      }
    }
    return estimateTokens(this.totals, sample);
  }
}

function percent(share: number): string {
  return `${Number((share * 100).toFixed(1))}%`;
}
