export { type ListManagedJobsOptions, listManagedJobs } from './list-managed.ts';
export {
  createProviderRegistry,
  notConfigured,
  type ProviderRegistry,
  providerOfJobName,
} from './registry.ts';
export {
  type FindJobOptions,
  type JobPage,
  type ListJobsOptions,
  type ListScope,
  ListUnavailableError,
  LookupInconclusiveError,
  listScopes,
  ProviderError,
  type ProviderJob,
  type TuningProvider,
} from './types.ts';
export * from './vertex/index.ts';
export * from './yandex/index.ts';
