/**
 * The providers a deployment has, keyed by name, behind one TuningProvider so ingest, start-job,
 * the poller and the API need not know there are several: a create goes to the provider its spec
 * names (Vertex AI when none), get and cancel to the provider whose name format the job name has
 * (`folders/<f>/tuningTasks/<id>` is Yandex, anything else Vertex), a label look-up asks each
 * provider in turn, and a list walks every provider's pages one after the other.
 */
import { type JobPage, type ListJobsOptions, ProviderError, type TuningProvider } from './types.ts';

export type ProviderRegistry = TuningProvider & {
  /** The provider registered under a name, if any. */
  get(name: string): TuningProvider | undefined;
  readonly names: readonly string[];
};

const yandexJobName = /^folders\/[^/]+\/tuningTasks\/[^/]+$/;

/** Which provider owns a provider job name. */
export function providerOfJobName(name: string): 'vertex' | 'yandex' {
  return yandexJobName.test(name) ? 'yandex' : 'vertex';
}

export function notConfigured(name: string): ProviderError {
  return new ProviderError(
    `provider ${name} is not configured on this deployment`,
    400,
    'FAILED_PRECONDITION',
    false,
  );
}

/** `providers` in list order; the first is the default for specs that name none. */
export function createProviderRegistry(providers: readonly TuningProvider[]): ProviderRegistry {
  const first = providers[0];
  if (!first) throw new Error('a provider registry needs at least one provider');
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  const named = (name: string): TuningProvider => {
    const provider = byName.get(name);
    if (!provider) throw notConfigured(name);
    return provider;
  };

  return {
    name: first.name,
    names: providers.map((provider) => provider.name),
    get: (name) => byName.get(name),

    async createJob(spec, recordId) {
      return named(spec.provider ?? first.name).createJob(spec, recordId);
    },
    async getJob(name) {
      return named(providerOfJobName(name)).getJob(name);
    },
    async cancelJob(name) {
      return named(providerOfJobName(name)).cancelJob(name);
    },

    async findJobByRecordId(recordId) {
      for (const provider of providers) {
        const found = await provider.findJobByRecordId(recordId);
        if (found) return found;
      }
      return undefined;
    },

    /** The page token is `<provider index>:<that provider's token>`. */
    async listJobs(options: ListJobsOptions = {}): Promise<JobPage> {
      let index = 0;
      let inner: string | undefined;
      if (options.pageToken) {
        const colon = options.pageToken.indexOf(':');
        index = Number(options.pageToken.slice(0, colon));
        inner = options.pageToken.slice(colon + 1) || undefined;
        if (colon < 0 || !Number.isInteger(index) || !providers[index]) {
          throw new ProviderError('invalid page token', 400, 'INVALID_ARGUMENT', false);
        }
      }
      const provider = providers[index] as TuningProvider;
      const { pageToken: _ignored, ...rest } = options;
      const page = await provider.listJobs({ ...rest, ...(inner ? { pageToken: inner } : {}) });
      if (page.nextPageToken) return { jobs: page.jobs, nextPageToken: `${index}:${page.nextPageToken}` };
      if (index + 1 < providers.length) return { jobs: page.jobs, nextPageToken: `${index + 1}:` };
      return { jobs: page.jobs };
    },
  };
}
