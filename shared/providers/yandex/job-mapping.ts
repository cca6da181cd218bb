/**
 * A Yandex tuning task as the ProviderJob tunedrop tracks. A job's name is
 * `folders/<folder>/tuningTasks/<task id>`. Status comes from Describe or List (the task: status,
 * labels, target model); steps from the task's Operation (TuningMetadata current/total steps); a
 * failure's reason from ListErrors. Right after Tune, the job is read from Tune's Operation alone.
 */
import { tuningService, tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import type { Logger } from '../../logging/index.ts';
import { ProviderError, type ProviderJob } from '../types.ts';
import type { YandexClients } from './grpc.ts';
import { yandexToJobState } from './states.ts';

/** What Tune (or TuneDraft) answers: the Operation of the new task. */
export type TuneOperation = Awaited<ReturnType<YandexClients['tuning']['tune']>>;

export interface TaskReadContext {
  clients: YandexClients;
  /** The job name of a task id in this provider's folder. */
  nameOf: (taskId: string) => string;
  logger?: Logger | undefined;
}

const namePattern = /^folders\/([^/]+)\/tuningTasks\/([^/]+)$/;

export const taskJobName = (folderId: string, taskId: string) => `folders/${folderId}/tuningTasks/${taskId}`;

/** The task id in a job name; a name of any other shape is a permanent error. */
export function taskIdOf(name: string): string {
  const match = namePattern.exec(name);
  if (!match?.[2])
    throw new ProviderError(`not a Yandex tuning task name: ${name}`, 400, 'INVALID_ARGUMENT', false);
  return match[2];
}

export const statusName = (status: tuningTask.TuningTask_Status): string =>
  tuningTask.TuningTask_Status[status] ?? 'STATUS_UNSPECIFIED';

/**
 * A task as tunedrop sees it: steps from its Operation, a failure's reason from ListErrors.
 * `detailed` false skips those two calls (a list of long-finished tasks needs neither).
 */
export async function toProviderJob(
  context: TaskReadContext,
  task: tuningTask.TuningTask,
  detailed = true,
): Promise<ProviderJob> {
  const { clients, nameOf, logger } = context;
  const providerState = statusName(task.status);
  const job: ProviderJob = {
    name: nameOf(task.taskId),
    providerState,
    state: yandexToJobState(providerState),
    labels: task.labels,
  };
  if (task.createdAt) job.createTime = task.createdAt.toISOString();
  const updated = task.finishedAt ?? task.startedAt;
  if (updated) job.updateTime = updated.toISOString();
  if (task.targetModelUri) job.result = { tunedModel: task.targetModelUri };
  if (!detailed) return job;
  const operationId = task.operationId || task.taskId;
  try {
    const operation = await clients.operations.get({ operationId });
    if (operation.metadata?.value?.length) {
      const metadata = tuningService.TuningMetadata.decode(operation.metadata.value);
      if (metadata.totalSteps > 0) {
        job.progress = { totalSteps: metadata.totalSteps, currentStep: metadata.currentStep };
      }
    }
    if (operation.error && job.state === 'FAILED')
      job.error = { code: operation.error.code, message: operation.error.message };
  } catch (error) {
    logger?.debug('yandex operation not readable; no progress this time', { operationId, error });
  }
  if (job.state === 'FAILED') {
    try {
      const { tuningError } = await clients.tuning.listErrors({ tuningTaskId: task.taskId });
      const messages = tuningError.map((error) => error.message).filter(Boolean);
      if (messages.length) job.error = { code: job.error?.code ?? 'FAILED', message: messages.join('; ') };
    } catch (error) {
      logger?.warn('yandex ListErrors failed', { taskId: task.taskId, error });
    }
    job.error ??= { code: 'FAILED', message: 'the tuning task failed (Yandex gave no reason)' };
  }
  return job;
}

/** The job a Tune just started, from its Operation (Describe does not list it for a few seconds). */
export function jobFromTuneOperation(
  operation: TuneOperation,
  labels: Record<string, string>,
  nameOf: (taskId: string) => string,
  now: () => number,
): ProviderJob {
  const metadata = operation.metadata?.value?.length
    ? tuningService.TuningMetadata.decode(operation.metadata.value)
    : undefined;
  const taskId = metadata?.tuningTaskId || operation.id;
  const providerState = statusName(metadata?.status ?? tuningTask.TuningTask_Status.CREATED);
  const job: ProviderJob = {
    name: nameOf(taskId),
    providerState,
    state: yandexToJobState(providerState),
    labels,
    createTime: (operation.createdAt ?? new Date(now())).toISOString(),
  };
  if (metadata && metadata.totalSteps > 0)
    job.progress = { totalSteps: metadata.totalSteps, currentStep: metadata.currentStep };
  return job;
}
