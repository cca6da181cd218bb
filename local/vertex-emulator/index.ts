export { checkpointEpochs } from './checkpoints.ts';
export {
  batchSize,
  computeDataStats,
  defaultEpochCount,
  distribution,
  localPathFor,
} from './dataset-stats.ts';
export { ApiError, type FieldViolation } from './errors.ts';
export { type FaultSettings, FaultUpdate } from './faults.ts';
export { compileFilter, type FilterSubject, LIST_FILTER_MODES, type ListFilterMode } from './filter.ts';
export type { TuningJob } from './jobs.ts';
export { adapterSizeValues, withNumericEnums } from './proto-json.ts';
export {
  type ApiMethod,
  defaultPageSize,
  maxPageSize,
  type RequestStats,
  startVertexEmulator,
  type VertexEmulator,
  type VertexEmulatorOptions,
} from './server.ts';
export { type CreateContext, validateCreate } from './validate.ts';
