export {
  type AuthHeaders,
  createVertexProvider,
  lookupSkewMs,
  managedLabel,
  maxListPageSize,
  maxLookupPages,
  toProviderJob,
  toTuningJobBody,
  tuningBaseModelLabel,
  type VertexProvider,
  type VertexProviderOptions,
} from './client.ts';
export { errorFromNetwork, errorFromResponse, isTransientHttp } from './errors.ts';
export { allOf, anyOf, labelEquals, stateEquals } from './filter.ts';
export {
  activeJobStates,
  createListModeMemory,
  isListRefusal,
  type ListModeMemory,
  processListModeMemory,
} from './list-modes.ts';
export { adapterSizeEnum, Int64, ModelResource, TuningJobResource } from './schema.ts';
export {
  type StateRow,
  toJobState,
  type VertexJobState,
  vertexJobStates,
  vertexStatesFor,
  vertexStateTable,
} from './states.ts';
