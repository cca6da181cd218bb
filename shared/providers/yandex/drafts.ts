/**
 * Yandex's own draft RPCs, used only where the server implements them. Upstream declares
 * CreateDraft/TuneDraft but answers UNIMPLEMENTED (reference, section 1.1), so tunedrop's DRAFT +
 * approve carries the contract on Yandex: nothing is created there until approval. When a server
 * does answer them, a start becomes CreateDraft (which costs nothing and gives the task id) then
 * TuneDraft; a draft left by a crash between the two carries the record id in its labels and is
 * tuned by the next attempt instead of creating another.
 *
 * The probe is asked once per process: UNIMPLEMENTED is remembered; a transient failure of the
 * probe is not (the next start asks again, and this one uses Tune, which is always right).
 */
import { tuningService, tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { Status } from 'nice-grpc';
import type { Logger } from '../../logging/index.ts';
import { isGrpcStatus, providerErrorFrom, type YandexClients } from './grpc.ts';

export type DraftProbe = () => Promise<boolean>;

const transientProbeStatuses = [Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.INTERNAL];

export function draftProbe(clients: YandexClients, logger?: Logger): DraftProbe {
  let answer: Promise<boolean> | undefined;
  return () => {
    // An empty TuneDraft creates nothing: UNIMPLEMENTED (today) or a validation error (some day).
    answer ??= clients.tuning.tuneDraft({ tuningTaskId: '' }, { retry: false }).then(
      () => true,
      (error: unknown) => {
        if (transientProbeStatuses.some((status) => isGrpcStatus(error, status))) {
          answer = undefined;
          logger?.debug('yandex draft RPC probe failed transiently; asked again next time', { error });
          return false;
        }
        const available = !isGrpcStatus(error, Status.UNIMPLEMENTED);
        logger?.info('yandex draft RPCs probed', { available });
        return available;
      },
    );
    return answer;
  };
}

/**
 * Starts a task through CreateDraft + TuneDraft; `leftDraft` is this record's draft from an
 * interrupted earlier attempt, tuned instead of creating another. The Tune request's fields are
 * the draft's (CreateTuningDraftRequest has no validation dataset: callers with one use Tune).
 */
export async function tuneThroughDraft(
  clients: YandexClients,
  request: tuningService.TuningRequest,
  leftDraft: string | undefined,
): Promise<Awaited<ReturnType<YandexClients['tuning']['tuneDraft']>>> {
  let tuningTaskId = leftDraft;
  if (!tuningTaskId) {
    try {
      ({ tuningTaskId } = await clients.tuning.createDraft(
        tuningService.CreateTuningDraftRequest.fromPartial({
          baseModelUri: request.baseModelUri,
          trainDatasets: request.trainDatasets,
          ...(request.textToTextCompletion ? { textToTextCompletion: request.textToTextCompletion } : {}),
          name: request.name,
          description: request.description,
          labels: request.labels,
        }),
        { retry: false },
      ));
    } catch (error) {
      throw providerErrorFrom(error, 'TuningService.CreateDraft');
    }
  }
  try {
    // One attempt, like Tune: a task is tuned once, but a lost answer is resolved by the lookup.
    return await clients.tuning.tuneDraft({ tuningTaskId }, { retry: false });
  } catch (error) {
    throw providerErrorFrom(error, 'TuningService.TuneDraft');
  }
}

export const isDraftTask = (task: tuningTask.TuningTask) =>
  task.status === tuningTask.TuningTask_Status.DRAFT;
