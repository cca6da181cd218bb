export {
  type AuthHeaders,
  createVertexProvider,
  managedLabel,
  maxListPageSize,
  toProviderJob,
  toTuningJobBody,
  type VertexProvider,
  type VertexProviderOptions,
} from './client.ts';
export { errorFromNetwork, errorFromResponse, isTransientHttp } from './errors.ts';
export { allOf, labelEquals } from './filter.ts';
export { adapterSizeEnum, Int64, TuningJobResource } from './schema.ts';
export {
  type StateRow,
  toJobState,
  type VertexJobState,
  vertexJobStates,
  vertexStatesFor,
  vertexStateTable,
} from './states.ts';
