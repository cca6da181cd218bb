/**
 * Listing a folder's tuning tasks as this deployment's jobs, and the lookups built on it: the
 * tasks carrying a record id (findJobByRecordId, which startJob runs before any re-tune after a
 * crash, since Tune has no idempotency key) and a record's task left in DRAFT (ownDraft).
 * Every one keeps to this deployment's tasks (deployment-scope.ts).
 */
import { tuningService } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { jobIdLabel } from '../../jobs/model.ts';
import type { JobPage, ListJobsOptions, ProviderJob } from '../types.ts';
import { maxListPageSize } from '../vertex/client.ts';
import type { DeploymentScope } from './deployment-scope.ts';
import { isDraftTask } from './drafts.ts';
import { retrying } from './grpc.ts';
import { statusName, type TaskReadContext, toProviderJob } from './job-mapping.ts';
import { yandexToJobState } from './states.ts';

export interface TaskListingContext extends TaskReadContext {
  folderId: string;
  scope: DeploymentScope;
  now: () => number;
}

/** How long after a task finished a list still fetches its steps and errors. */
const detailWindowMs = 24 * 60 * 60_000;

/** This record's task still in DRAFT (an interrupted CreateDraft + TuneDraft), if any. */
export async function ownDraft(context: TaskListingContext, recordId: string): Promise<string | undefined> {
  const { clients, folderId, scope } = context;
  let pageToken = '';
  do {
    const page = await retrying('TuningService.List', () =>
      clients.tuning.list(
        tuningService.ListTuningsRequest.fromPartial({ folderId, pageSize: maxListPageSize, pageToken }),
      ),
    );
    // Only this deployment's: another's draft of the same record id (same bucket object) is its
    // own to tune.
    const draft = page.tuningTasks.find(
      (task) => isDraftTask(task) && scope.ours(task.labels) && task.labels[jobIdLabel] === recordId,
    );
    if (draft) return draft.taskId;
    pageToken = page.nextPageToken;
  } while (pageToken);
  return undefined;
}

/** One page of this deployment's started tasks (drafts left out) matching `list`, as jobs. */
export async function listJobs(context: TaskListingContext, list: ListJobsOptions = {}): Promise<JobPage> {
  const { clients, folderId, scope, now } = context;
  const labels = Object.entries(list.labels ?? {});
  const createdAfter = list.createdAfter ? Date.parse(list.createdAfter) : undefined;
  const page = await retrying('TuningService.List', () =>
    clients.tuning.list(
      tuningService.ListTuningsRequest.fromPartial({
        folderId,
        pageSize: list.pageSize ?? maxListPageSize,
        pageToken: list.pageToken ?? '',
      }),
    ),
  );
  // List filters only by status; labels, states and the creation time are checked here. A DRAFT
  // (left by an interrupted CreateDraft + TuneDraft) was never started and is createJob's to
  // tune: a poller adopting it as a record's job would never start it, or would track it
  // instead of the billed task. Another deployment's task is never listed: the poller would not
  // track it, but startJob would adopt it, or cancel it as a duplicate, if a record id matched
  // (two deployments on one bucket). A task an older tunedrop made (no deployment label) is listed
  // only to a lookup by record id: it may be this deployment's own start from before the upgrade,
  // and missing it would tune again (a second billed task) or record a cancel while it runs.
  scope.noteUnlabelled(page.tuningTasks);
  const byRecordId = list.labels?.[jobIdLabel] !== undefined;
  const wanted = page.tuningTasks.filter(
    (task) =>
      !isDraftTask(task) &&
      (scope.ours(task.labels) || (byRecordId && scope.unlabelled(task.labels))) &&
      labels.every(([key, value]) => task.labels[key] === value) &&
      (!list.states || list.states.includes(yandexToJobState(statusName(task.status)))) &&
      (createdAfter === undefined || !task.createdAt || task.createdAt.getTime() >= createdAfter),
  );
  const jobs: ProviderJob[] = [];
  // The poller lists every managed task on each run: only tasks still running, or finished in
  // the last day (whose record may not know it yet), cost the Operation and ListErrors calls.
  const recent = now() - detailWindowMs;
  for (const task of wanted) {
    const finished = task.finishedAt?.getTime();
    jobs.push(await toProviderJob(context, task, finished === undefined || finished >= recent));
  }
  return page.nextPageToken ? { jobs, nextPageToken: page.nextPageToken } : { jobs };
}

/** The oldest of this deployment's started tasks labelled with the record id (all pages read). */
export async function findJobByRecordId(
  context: TaskListingContext,
  recordId: string,
): Promise<ProviderJob | undefined> {
  let pageToken: string | undefined;
  const found: ProviderJob[] = [];
  do {
    const page = await listJobs(context, {
      labels: { [jobIdLabel]: recordId },
      pageSize: maxListPageSize,
      ...(pageToken ? { pageToken } : {}),
    });
    // listJobs leaves out drafts (never started: createJob tunes them).
    found.push(...page.jobs);
    pageToken = page.nextPageToken;
  } while (pageToken);
  if (found.length > 1)
    context.logger?.warn('more than one yandex task carries one record id', {
      recordId,
      jobs: found.map((job) => job.name),
    });
  return found.sort((a, b) => (a.createTime ?? '').localeCompare(b.createTime ?? ''))[0];
}
