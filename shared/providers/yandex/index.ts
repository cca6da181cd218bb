export {
  type AuthorizationSource,
  createAuthorizationSource,
  iamTokenUrl,
  ServiceAccountKey,
  serviceAccountJwt,
  type YandexAuth,
} from './auth.ts';
export {
  baseModelUri,
  createYandexProvider,
  statusName,
  toTextToTextParams,
  toTuningRequest,
  type YandexProvider,
  type YandexProviderOptions,
} from './client.ts';
export { datasetRoleLabel, defaultChunkBytes, ensureDataset, rejectedDataset } from './datasets.ts';
export {
  createYandexChannel,
  createYandexClients,
  defaultYandexEndpoint,
  providerErrorFrom,
} from './grpc.ts';
export {
  isYandexTuningState,
  type YandexTuningState,
  yandexStatesFor,
  yandexStateTable,
  yandexToJobState,
  yandexTuningStates,
} from './states.ts';
