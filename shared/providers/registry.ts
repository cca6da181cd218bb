/**
 * The providers a deployment has, keyed by name, behind one TuningProvider so ingest, start-job,
 * the poller and the API need not know there are several: a create goes to the provider its spec
 * names (Vertex AI when none), get and cancel to the provider whose name format the job name has
 * (`folders/<f>/tuningTasks/<id>` is Yandex, anything else Vertex), a label look-up asks each
 * provider in turn, and a list page holds every provider's share of the page (composite-page.ts).
 * Datasets prepared before a job exists go to the provider the spec names; held datasets are
 * listed at every provider that keeps them and deleted at the one that holds each.
 */

import type { TuningSpec } from '../jobs/model.ts';
import { type Cursor, decodePageToken, encodePageToken, firstCursors, shareOf } from './composite-page.ts';
import {
  type DeleteDatasetOptions,
  type HeldDataset,
  type JobPage,
  type ListJobsOptions,
  ProviderError,
  type TuningProvider,
} from './types.ts';
import { maxListPageSize } from './vertex/client.ts';

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

    async createJob(spec, recordId, context) {
      return named(spec.provider ?? first.name).createJob(spec, recordId, context);
    },
    // Only where some provider keeps datasets apart from jobs (Yandex): a Vertex-only deployment
    // has no such step, and ingest and the poller skip it.
    ...(providers.some((provider) => provider.prepareDatasets)
      ? {
          async prepareDatasets(spec: TuningSpec, recordId: string) {
            return named(spec.provider ?? first.name).prepareDatasets?.(spec, recordId);
          },
        }
      : {}),
    ...(providers.some((provider) => provider.heldDatasets)
      ? {
          async heldDatasets() {
            const held: HeldDataset[] = [];
            for (const provider of providers)
              if (provider.heldDatasets) held.push(...(await provider.heldDatasets()));
            return held;
          },
          async deleteDataset(dataset: HeldDataset, options?: DeleteDatasetOptions) {
            await named(dataset.provider).deleteDataset?.(dataset, options);
          },
        }
      : {}),
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

    async listJobs(options: ListJobsOptions = {}): Promise<JobPage> {
      // One provider (the usual deployment): its pages as they are, with its list scope and the
      // states a page covers, which the poller's list fallback reads.
      if (providers.length === 1) return first.listJobs(options);
      const names = providers.map((provider) => provider.name);
      const cursors: Cursor[] = options.pageToken
        ? decodePageToken(options.pageToken, names)
        : firstCursors(names);
      const { pageToken: _ignored, pageSize, ...rest } = options;
      const share = shareOf(
        pageSize ?? maxListPageSize,
        cursors.filter((cursor) => cursor.token !== null).length,
      );
      const merged: JobPage = { jobs: [] };
      const next: Cursor[] = [];
      for (const [index, provider] of providers.entries()) {
        const token = cursors[index]?.token ?? null;
        if (token === null) {
          next.push({ provider: provider.name, token: null });
          continue;
        }
        const page = await provider.listJobs({
          ...rest,
          pageSize: share,
          ...(token ? { pageToken: token } : {}),
        });
        merged.jobs.push(...page.jobs);
        // The default provider's list scope and covered states speak for the merged page: the
        // others (Yandex) always filter by labels themselves.
        if (index === 0) {
          if (page.scope) merged.scope = page.scope;
          if (page.coveredStates) merged.coveredStates = page.coveredStates;
        }
        next.push({ provider: provider.name, token: page.nextPageToken || null });
      }
      const nextPageToken = encodePageToken(next);
      if (nextPageToken) merged.nextPageToken = nextPageToken;
      return merged;
    },
  };
}
