export { type ListManagedJobsOptions, listManagedJobs } from './list-managed.ts';
export {
  createProviderRegistry,
  notConfigured,
  type ProviderRegistry,
  providerOfJobName,
} from './registry.ts';
export {
  type JobPage,
  type ListJobsOptions,
  ProviderError,
  type ProviderJob,
  type TuningProvider,
} from './types.ts';
export * from './vertex/index.ts';
export * from './yandex/index.ts';
