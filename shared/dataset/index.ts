export { base64Problem } from './base64.ts';
export { estimateCost, priceBasis } from './cost.ts';
export { checkExample, type ExampleMetrics } from './example-rules.ts';
export { fieldName } from './field-name.ts';
export { detectMistakenFormat, type MistakenFormat } from './formats.ts';
export { HISTOGRAM_RELATIVE_ERROR, type HistogramBin, LogHistogram } from './histogram.ts';
export { type ByteSource, type Segment, splitLines } from './line-splitter.ts';
export {
  type DatasetModel,
  findModel,
  MODELS,
  type ModelSpec,
  PART_KINDS,
  type PartKind,
  requireModel,
  resolveDatasetModel,
} from './models.ts';
export {
  type CostEstimate,
  CostEstimateSchema,
  type TokenEstimate,
  TokenEstimateSchema,
  type ValidationIssue,
  ValidationIssueSchema,
  type ValidationReport,
  ValidationReportSchema,
  type ValidationStats,
  ValidationStatsSchema,
} from './report.ts';
export { RECOMMENDED_MIN_TRAINING_EXAMPLES, VERTEX_MAX_DROPPED_SHARE } from './report-builder.ts';
export {
  EXAMPLE_OVERHEAD_TOKENS,
  HEURISTIC_TOKENS_PER_BYTE,
  loadTokenCounter,
  MEDIA_NOMINAL_TOKENS,
  type TokenCounter,
  TURN_OVERHEAD_TOKENS,
} from './tokens.ts';
export {
  type DatasetRole,
  DEFAULT_BLOCK_BYTES,
  DEFAULT_MAX_ERRORS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_PARALLEL_THRESHOLD_BYTES,
  defaultWorkers,
  type ParallelOptions,
  type ValidateOptions,
  validateDataset,
} from './validate.ts';
export { validationShareWarning } from './validation-share.ts';
