export { type ListManagedJobsOptions, listManagedJobs } from './list-managed.ts';
export {
  type JobPage,
  type ListJobsOptions,
  ProviderError,
  type ProviderJob,
  type TuningProvider,
} from './types.ts';
export * from './vertex/index.ts';
export * from './yandex/index.ts';
