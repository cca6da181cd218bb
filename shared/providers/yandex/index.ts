export {
  type AuthorizationSource,
  createAuthorizationSource,
  iamTokenUrl,
  ServiceAccountKey,
  serviceAccountJwt,
  type YandexAuth,
} from './auth.ts';
export { createYandexProvider, type YandexProvider, type YandexProviderOptions } from './client.ts';
export { datasetRoleLabel, defaultChunkBytes, ensureDataset, rejectedDataset } from './datasets.ts';
export {
  createYandexChannel,
  createYandexClients,
  defaultYandexEndpoint,
  providerErrorFrom,
} from './grpc.ts';
export { statusName } from './job-mapping.ts';
export { baseModelUri, toTextToTextParams, toTuningRequest } from './request.ts';
export {
  isYandexTuningState,
  type YandexTuningState,
  yandexStatesFor,
  yandexStateTable,
  yandexToJobState,
  yandexTuningStates,
} from './states.ts';
