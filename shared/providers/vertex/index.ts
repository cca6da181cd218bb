export {
  createVertexProvider,
  lookupSkewMs,
  maxListPageSize,
  maxLookupPages,
  type VertexProvider,
  type VertexProviderOptions,
} from './client.ts';
export { errorFromNetwork, errorFromResponse, isTransientHttp } from './errors.ts';
export { allOf, anyOf, labelEquals, stateEquals } from './filter.ts';
export type { AuthHeaders } from './http.ts';
export {
  activeJobStates,
  createListModeMemory,
  isListRefusal,
  type ListModeMemory,
  processListModeMemory,
} from './list-modes.ts';
export { managedLabel, toProviderJob, toTuningJobBody, tuningBaseModelLabel } from './resource-mapping.ts';
export { adapterSizeEnum, Int64, ModelResource, TuningJobResource } from './schema.ts';
export {
  type StateRow,
  toJobState,
  type VertexJobState,
  vertexJobStates,
  vertexStatesFor,
  vertexStateTable,
} from './states.ts';
