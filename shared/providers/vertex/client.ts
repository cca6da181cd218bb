/**
 * The Vertex AI tuning client: REST v1 `projects.locations.tuningJobs` behind the TuningProvider
 * contract. The transport (credentials, retries) is http.ts; the mapping between a TuningSpec or a
 * ProviderJob and the v1 resource is resource-mapping.ts. This module holds the calls themselves
 * and the list and lookup logic built on them.
 *
 * createJob is not idempotent (Vertex has no request id), so it is never retried here: a caller
 * that sees a transient error looks the job up by its record label before trying again.
 * get, list and cancel are safe to repeat and retry transient errors a few times with jitter.
 */
import { jobIdLabel } from '../../jobs/model.ts';
import type { Logger } from '../../logging/index.ts';
import {
  type FindJobOptions,
  type JobPage,
  type ListJobsOptions,
  type ListScope,
  ListUnavailableError,
  LookupInconclusiveError,
  ProviderError,
  type ProviderJob,
  type TuningProvider,
} from '../types.ts';
import { allOf, labelEquals } from './filter.ts';
import { type AuthHeaders, createVertexHttp } from './http.ts';
import {
  isListRefusal,
  type ListModeMemory,
  laterOf,
  nextScope,
  processListModeMemory,
  stateScope,
} from './list-modes.ts';
import { toProviderJob, toTuningJobBody, tuningBaseModelLabel } from './resource-mapping.ts';
import { ListTuningJobsResponse, ModelResource, TuningJobResource } from './schema.ts';
import { vertexStatesFor } from './states.ts';

// The managed label now lives with the body it is written into; re-exported because the Yandex
// client and list-managed.ts import it, with the page size, from here.
export { managedLabel } from './resource-mapping.ts';

/**
 * The page size tunedrop asks for when it lists many jobs. The v1 reference documents neither a
 * default nor a maximum for `tuningJobs.list` ("the standard list page size"); AIP-158 lets a
 * server coerce a larger value down, so this is a request: callers always follow nextPageToken.
 * The emulator caps pages at the same size.
 */
export const maxListPageSize = 100;

/** Pages a label lookup without a label filter reads at most before it calls itself inconclusive. */
export const maxLookupPages = 20;

/** Clock skew allowed between tunedrop and Vertex when a lookup decides a page is older than an intent. */
export const lookupSkewMs = 15 * 60_000;

export interface VertexProviderOptions {
  project: string;
  region: string;
  /** Defaults to `https://{region}-aiplatform.googleapis.com`; an `http://` URL is the emulator. */
  endpoint?: string;
  fetch?: typeof globalThis.fetch;
  /** Overrides the credentials; by default GoogleAuth (cloud-platform) for https endpoints. */
  auth?: AuthHeaders;
  logger?: Logger;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Retries of transient errors for get/list/cancel (never for create). */
  retry?: { attempts?: number; baseDelayMs?: number };
  /**
   * Where the list fallback step is remembered (list-modes.ts). By default one memory per
   * endpoint and location for the whole process; tests pass their own.
   */
  listModes?: ListModeMemory;
}

export type VertexProvider = TuningProvider & {
  /** The collection URL parent, `projects/{project}/locations/{region}`. */
  readonly parent: string;
  listScope(): ListScope;
  requestCount(): number;
  /** A v1 Model resource by name (`projects/…/models/…[@version]`), or undefined when it does not exist. */
  getModel(name: string): Promise<ModelResource | undefined>;
};

export function createVertexProvider(options: VertexProviderOptions): VertexProvider {
  const { project, region, logger } = options;
  const endpoint = (options.endpoint ?? `https://${region}-aiplatform.googleapis.com`).replace(/\/+$/, '');
  const parent = `projects/${project}/locations/${region}`;
  const listModes = options.listModes ?? processListModeMemory(`${endpoint}/v1/${parent}`);
  const { call, callWithRetry, requestCount } = createVertexHttp({
    endpoint,
    fetch: options.fetch ?? globalThis.fetch,
    auth: options.auth,
    logger,
    timeoutMs: options.timeoutMs ?? 30_000,
    attempts: Math.max(1, options.retry?.attempts ?? 3),
    baseDelayMs: options.retry?.baseDelayMs ?? 250,
  });

  function parseJob(json: unknown, what: string): ProviderJob {
    const parsed = TuningJobResource.safeParse(json);
    if (!parsed.success) {
      throw new ProviderError(
        `${what}: unexpected TuningJob shape: ${parsed.error.message}`,
        200,
        'INTERNAL',
        false,
      );
    }
    return toProviderJob(parsed.data);
  }

  /** The filter a list request sends at a fallback step; the client re-checks everything it asks. */
  function filterAt(scope: ListScope, list: ListJobsOptions) {
    const labels = Object.entries(list.labels ?? {});
    if (scope === 'labels') {
      // Only label equality goes to Vertex (see filter.ts for why); states and the creation time
      // are checked here, on every page, as are the labels again.
      return { filter: allOf(...labels.map(([key, value]) => labelEquals(key, value))) };
    }
    if (scope === 'state') {
      const { filter, covered } = stateScope(list.states);
      return { filter, covered };
    }
    return { filter: undefined };
  }

  /**
   * One page, at the process's fallback step or a later one. A first page whose filter Vertex
   * refuses (400) is asked again one step down; a refused unfiltered list makes the list unusable
   * (ListUnavailableError). At most three requests: the steps are finite and only move down.
   */
  async function listJobs(list: ListJobsOptions = {}): Promise<JobPage> {
    return (await listPage(list, true)) as JobPage;
  }

  /** listJobs; with `stepDown` false, a refused filter is remembered and answered with undefined. */
  async function listPage(list: ListJobsOptions, stepDown: boolean): Promise<JobPage | undefined> {
    const { states } = list;
    // States such as DRAFT or QUEUED exist only in tunedrop: no Vertex job can be in them.
    if (states && !vertexStatesFor(states).length) return { jobs: [], scope: listModes.current() };
    const labels = Object.entries(list.labels ?? {});
    const createdAfter = list.createdAfter ? Date.parse(list.createdAfter) : undefined;
    const wanted = (job: ProviderJob) =>
      labels.every(([key, value]) => job.labels[key] === value) &&
      (!states || states.includes(job.state)) &&
      // A job without a createTime cannot be proven old, so it is kept.
      (createdAfter === undefined || !job.createTime || Date.parse(job.createTime) >= createdAfter);
    const what = 'tuningJobs.list';
    let scope = laterOf(listModes.current(), list.scope ?? 'labels');
    for (;;) {
      if (scope === 'per-job') {
        throw new ListUnavailableError(
          `${what}: Vertex AI refused every list filter and the unfiltered list in this process; jobs are fetched by name`,
        );
      }
      const { filter, covered } = filterAt(scope, list);
      const query = new URLSearchParams();
      if (filter) query.set('filter', filter);
      if (list.pageSize) query.set('pageSize', String(list.pageSize));
      if (list.pageToken) query.set('pageToken', list.pageToken);
      const qs = query.toString();
      let json: unknown;
      try {
        json = await callWithRetry('GET', `${parent}/tuningJobs${qs ? `?${qs}` : ''}`, what);
      } catch (error) {
        // A page token belongs to its first page's filter: a later page is never re-asked differently.
        if (list.pageToken || !isListRefusal(error)) throw error;
        // Nothing filtered and still refused: the list itself is unusable.
        const to = filter ? nextScope(scope) : 'per-job';
        scope = listModes.fallBack(scope, to, error, logger);
        if (!stepDown) return undefined;
        continue;
      }
      const parsed = ListTuningJobsResponse.safeParse(json);
      if (!parsed.success) {
        throw new ProviderError(
          `${what}: unexpected response shape: ${parsed.error.message}`,
          200,
          'INTERNAL',
          false,
        );
      }
      const page: JobPage = {
        jobs: (parsed.data.tuningJobs ?? []).map(toProviderJob).filter(wanted),
        scope,
      };
      if (covered) page.coveredStates = covered;
      if (parsed.data.nextPageToken) page.nextPageToken = parsed.data.nextPageToken;
      return page;
    }
  }

  /** Every job carrying the record label, read from label-filtered pages (all of them). */
  async function findByLabelFilter(recordId: string): Promise<ProviderJob[] | undefined> {
    let pageToken: string | undefined;
    const found: ProviderJob[] = [];
    do {
      const page = await listPage(
        { labels: { [jobIdLabel]: recordId }, pageSize: maxListPageSize, pageToken, scope: 'labels' },
        false,
      );
      // The label filter is (or was just) refused: the caller scans the unfiltered list instead.
      if (page?.scope !== 'labels') return undefined;
      found.push(...page.jobs);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return found;
  }

  /**
   * The record's jobs from unfiltered pages, labels checked here. A state-only filter cannot
   * answer "does a job with this label exist" (the job may already have finished), so the lookup
   * goes straight to the unfiltered list. It stops at the end of the list, or at a page older
   * than the intent (less lookupSkewMs) as long as every job seen so far came newest first;
   * otherwise, after maxLookupPages, it is inconclusive rather than wrong.
   */
  async function findByScan(recordId: string, options: FindJobOptions): Promise<ProviderJob[]> {
    const cutoff = options.createdAfter ? Date.parse(options.createdAfter) - lookupSkewMs : undefined;
    const found: ProviderJob[] = [];
    let pageToken: string | undefined;
    let previous = Number.POSITIVE_INFINITY;
    let ordered = true;
    for (let pages = 0; pages < maxLookupPages; pages++) {
      // All jobs of the page (the label is matched below) so the creation order can be checked.
      const page = await listJobs({ pageSize: maxListPageSize, pageToken, scope: 'unfiltered' });
      for (const job of page.jobs) {
        const created = job.createTime ? Date.parse(job.createTime) : Number.NaN;
        if (Number.isNaN(created) || created > previous) ordered = false;
        else previous = created;
        if (job.labels[jobIdLabel] === recordId) found.push(job);
      }
      pageToken = page.nextPageToken;
      if (!pageToken) return found;
      if (ordered && cutoff !== undefined && previous < cutoff) return found;
    }
    if (found.length) return found;
    throw new LookupInconclusiveError(
      `tuningJobs.list: no job labelled ${jobIdLabel}=${recordId} in the first ${maxLookupPages} unfiltered pages, ` +
        'and the listing could not prove there is none (the label filter is refused by Vertex AI)',
    );
  }

  return {
    name: 'vertex',
    parent,

    async createJob(spec, recordId) {
      const what = 'tuningJobs.create';
      // Deliberately a single attempt: a retried create can start (and bill) a second job.
      const json = await call('POST', `${parent}/tuningJobs`, what, toTuningJobBody(spec, recordId));
      let job: ProviderJob;
      try {
        job = parseJob(json, what);
      } catch (error) {
        // A 2xx means Vertex AI created (and bills) the job even though we cannot read the answer:
        // transient, so the caller keeps its create intent and adopts the job by its label.
        if (!(error instanceof ProviderError)) throw error;
        throw new ProviderError(error.message, error.httpStatus, error.status, true, error.details);
      }
      logger?.info('vertex tuning job created', {
        recordId,
        jobName: job.name,
        providerState: job.providerState,
      });
      return job;
    },

    async getJob(name) {
      const what = 'tuningJobs.get';
      return parseJob(await callWithRetry('GET', name, what), what);
    },

    listJobs,

    findJobsByRecordId: findAllByRecordId,

    async findJobByRecordId(recordId, options = {}) {
      // A record id maps to at most one job unless something went wrong before; the oldest one
      // is the one to adopt, so every page is read.
      const found = await findAllByRecordId(recordId, options);
      if (found.length > 1) {
        logger?.warn('more than one vertex job carries one record id', {
          recordId,
          jobs: found.map((job) => job.name),
        });
      }
      return found.sort((a, b) => (a.createTime ?? '').localeCompare(b.createTime ?? ''))[0];
    },

    async cancelJob(name) {
      await callWithRetry('POST', `${name}:cancel`, 'tuningJobs.cancel');
    },

    async describeTunedModel(name) {
      const model = await getModel(name);
      if (!model) return undefined;
      const baseModel = model.labels?.[tuningBaseModelLabel];
      return baseModel ? { baseModel } : {};
    },

    listScope: () => listModes.current(),
    requestCount,

    getModel,
  };

  /**
   * Every job labelled with the record id. Without a usable label filter, the unfiltered list is
   * scanned back to `createdAfter` (findByScan); without a usable list, ListUnavailableError: the
   * caller must not conclude that no job exists.
   */
  async function findAllByRecordId(recordId: string, options: FindJobOptions = {}): Promise<ProviderJob[]> {
    return (await findByLabelFilter(recordId)) ?? (await findByScan(recordId, options));
  }

  /** A v1 Model by name; undefined on 404. */
  async function getModel(name: string): Promise<ModelResource | undefined> {
    const what = 'models.get';
    let json: unknown;
    try {
      json = await callWithRetry('GET', name, what);
    } catch (error) {
      if (error instanceof ProviderError && error.httpStatus === 404) return undefined;
      throw error;
    }
    const parsed = ModelResource.safeParse(json);
    if (!parsed.success) {
      throw new ProviderError(
        `${what}: unexpected Model shape: ${parsed.error.message}`,
        200,
        'INTERNAL',
        false,
      );
    }
    return parsed.data;
  }
}
