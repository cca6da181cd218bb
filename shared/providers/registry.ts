/**
 * The providers a deployment has, keyed by name, behind one TuningProvider so ingest, start-job,
 * the poller and the API need not know there are several: a create goes to the provider its spec
 * names (Vertex AI when none), get and cancel to the provider whose name format the job name has
 * (`folders/<f>/tuningTasks/<id>` is Yandex, anything else Vertex), a label look-up asks each
 * provider in turn, and a list page holds a page of every provider.
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

    async findJobByRecordId(recordId, options) {
      for (const provider of providers) {
        const found = await provider.findJobByRecordId(recordId, options);
        if (found) return found;
      }
      return undefined;
    },

    // Every job labelled with the record id, at every provider (duplicate detection).
    async findJobsByRecordId(recordId, options) {
      const found = [];
      for (const provider of providers) {
        if (provider.findJobsByRecordId)
          found.push(...(await provider.findJobsByRecordId(recordId, options)));
        else {
          const job = await provider.findJobByRecordId(recordId, options);
          if (job) found.push(job);
        }
      }
      return found;
    },

    // Continuous tuning and the poll summary are Vertex AI's: asked of the provider that has them.
    async describeTunedModel(name) {
      const provider = providers.find((candidate) => candidate.describeTunedModel);
      return provider?.describeTunedModel?.(name);
    },
    listScope: () => first.listScope?.() ?? 'labels',
    requestCount: () => providers.reduce((sum, provider) => sum + (provider.requestCount?.() ?? 0), 0),

    /**
     * One page holds a page of every provider that has more, so a caller that stops once a page
     * holds only old jobs (the poller) stops only when every provider has reached old jobs. The
     * page token carries each provider's own token (null once a provider is exhausted).
     */
    async listJobs(options: ListJobsOptions = {}): Promise<JobPage> {
      // One provider (the usual deployment): its pages as they are, with its list scope and the
      // states a page covers, which the poller's list fallback reads.
      if (providers.length === 1) return first.listJobs(options);
      let tokens: (string | null | undefined)[] = providers.map(() => undefined);
      if (options.pageToken) {
        try {
          const parsed: unknown = JSON.parse(Buffer.from(options.pageToken, 'base64url').toString('utf8'));
          if (!Array.isArray(parsed) || parsed.length !== providers.length) throw new Error('shape');
          tokens = parsed.map((token) => (typeof token === 'string' ? token : null));
        } catch {
          throw new ProviderError('invalid page token', 400, 'INVALID_ARGUMENT', false);
        }
      }
      const { pageToken: _ignored, ...rest } = options;
      const merged: JobPage = { jobs: [] };
      const next: (string | null)[] = [];
      for (const [index, provider] of providers.entries()) {
        const token = tokens[index];
        if (token === null) {
          next.push(null);
          continue;
        }
        const page = await provider.listJobs({ ...rest, ...(token ? { pageToken: token } : {}) });
        merged.jobs.push(...page.jobs);
        // The default provider's list scope and covered states speak for the merged page: the
        // others (Yandex) always filter by labels themselves.
        if (index === 0) {
          if (page.scope) merged.scope = page.scope;
          if (page.coveredStates) merged.coveredStates = page.coveredStates;
        }
        next.push(page.nextPageToken ?? null);
      }
      if (next.some((token) => token !== null)) {
        merged.nextPageToken = Buffer.from(JSON.stringify(next)).toString('base64url');
      }
      return merged;
    },
  };
}
