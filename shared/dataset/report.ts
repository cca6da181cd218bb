import { z } from 'zod';

/** One finding. `line` is 1-based; 0 means the whole file (size, example count, empty file). */
export const ValidationIssueSchema = z.object({
  line: z.number().int().nonnegative(),
  code: z.string(),
  /** JSON pointer into the line's example, e.g. `/contents/2/parts/0/text`; "" for the whole line. */
  path: z.string(),
  message: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssueSchema>;

const DistributionSchema = z.object({
  count: z.number().int().nonnegative(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  p50: z.number(),
  p95: z.number(),
});

export const TokenEstimateSchema = z.object({
  /** Provable: no example can have more tokens than this (media parts at their nominal figure). */
  upperBound: z.number().int().nonnegative(),
  /** Best estimate of the billable tokens. */
  estimated: z.number().int().nonnegative(),
  /** `counted`: every example's text counted with the tokenizer; `sampled`: tokens per byte
   * measured by counting `sampleSize` examples, with `margin` added for the sampling error;
   * `heuristic`: an assumed tokens-per-byte ratio (no sample counted). */
  method: z.enum(['counted', 'sampled', 'heuristic']),
  tokensPerByte: z.number().nonnegative(),
  sampleSize: z.number().int().nonnegative(),
  /** Tokens per byte added to `tokensPerByte` for the estimate: about two standard errors of the
   * sampled ratio (95%), 0 when nothing was sampled from or everything was counted. */
  margin: z.number().nonnegative().default(0),
  /** How the estimate was made, in words, for the report's reader. */
  basis: z.string().default(''),
});
export type TokenEstimate = z.infer<typeof TokenEstimateSchema>;

export const CostEstimateSchema = z.object({
  model: z.string(),
  epochs: z.number().int().positive(),
  epochsSource: z.enum(['caller', 'model-default']),
  /** USD per 1M training tokens; null when the model has no public price. */
  pricePerMillionTrainingTokens: z.number().nonnegative().nullable(),
  /** The price's date and source in the model catalog; null with a null price ("no public price"). */
  pricesTakenOn: z.string().nullable(),
  priceSource: z.string().nullable(),
  billableTokens: z.object({
    estimated: z.number().int().nonnegative(),
    upperBound: z.number().int().nonnegative(),
  }),
  /** estimated tokens × epochs × price. The figure for an approval policy; null without a price. */
  estimatedUsd: z.number().nonnegative().nullable(),
  /** upper-bound tokens × epochs × price: the most the job can cost. */
  upperBoundUsd: z.number().nonnegative().nullable(),
  method: z.enum(['counted', 'sampled', 'heuristic']),
  /** The price's basis in words: "USD … per 1M training tokens: <model>'s catalog price as of
   * <date> (<source>)" or "no public price for <model> (model catalog facts as of <date>)".
   * Absent in reports written before it existed. */
  basis: z.string().optional(),
});
export type CostEstimate = z.infer<typeof CostEstimateSchema>;

export const ValidationStatsSchema = z.object({
  bytes: z.number().int().nonnegative(),
  lines: z.number().int().nonnegative(),
  /** Example lines read (blank lines excluded), valid or not. */
  examples: z.number().int().nonnegative(),
  /** Examples with no error that the provider will train on (droppable ones excluded). */
  validExamples: z.number().int().nonnegative(),
  /**
   * Examples the provider will drop (Vertex AI: counted over the model's token limit): not
   * billed, not trained on, and the job fails when more than 10% of the dataset is dropped.
   * Absent in reports written before it existed.
   */
  droppable: z.number().int().nonnegative().default(0),
  /** UTF-16 code units of text across valid examples. */
  characters: z.number().int().nonnegative(),
  mediaParts: z.number().int().nonnegative(),
  turns: DistributionSchema.extend({ total: z.number().int().nonnegative() }),
  /** Per-example tokens of valid examples. Each figure is the provable bound unless the bound
   * exceeded the limit and the example was counted precisely; percentiles are within
   * `relativeError` of the true value (log-bucketed histogram). */
  tokens: DistributionSchema.extend({
    method: z.enum(['bound', 'counted', 'mixed']),
    bounded: z.number().int().nonnegative(),
    counted: z.number().int().nonnegative(),
    relativeError: z.number().nonnegative(),
    limit: z.number().int().positive(),
    /** Examples per power-of-two range of tokens, [from, to), lowest to highest non-empty range;
     * edges within 2%. Absent in reports written before it existed. */
    histogram: z
      .array(
        z.object({
          from: z.number().int().nonnegative(),
          to: z.number().int().positive(),
          count: z.number().int().nonnegative(),
        }),
      )
      .optional(),
  }),
  estimate: z.object({
    tokens: TokenEstimateSchema,
    /** null for a validation set: only training tokens are billed. */
    cost: CostEstimateSchema.nullable(),
  }),
});
export type ValidationStats = z.infer<typeof ValidationStatsSchema>;

export const ValidationReportSchema = z.object({
  valid: z.boolean(),
  file: z.string().optional(),
  model: z.string(),
  role: z.enum(['training', 'validation']),
  examples: z.number().int().nonnegative(),
  errors: z.array(ValidationIssueSchema),
  /** Errors beyond `maxErrors`, counted but not listed. */
  errorsOmitted: z.number().int().nonnegative(),
  warnings: z.array(ValidationIssueSchema),
  warningsOmitted: z.number().int().nonnegative(),
  stats: ValidationStatsSchema,
});
export type ValidationReport = z.infer<typeof ValidationReportSchema>;
