export { decodePageToken, encodePageToken } from './composite-page.ts';
export { type ListManagedJobsOptions, listManagedJobs } from './list-managed.ts';
export {
  createProviderRegistry,
  notConfigured,
  type ProviderRegistry,
  providerOfJobName,
} from './registry.ts';
export {
  type CreateJobContext,
  type DatasetRowErrors,
  type DeleteDatasetOptions,
  deploymentLabel,
  type FindJobOptions,
  type HeldDataset,
  isDatasetRowErrors,
  type JobPage,
  type ListJobsOptions,
  type ListScope,
  ListUnavailableError,
  LookupInconclusiveError,
  listScopes,
  type PreparedDatasets,
  ProviderError,
  type ProviderJob,
  type TuningProvider,
} from './types.ts';
export * from './vertex/index.ts';
export * from './yandex/index.ts';
