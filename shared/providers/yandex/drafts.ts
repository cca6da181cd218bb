/**
 * Yandex's own draft RPCs, used only where the server implements them. Upstream declares
 * CreateDraft/TuneDraft but answers UNIMPLEMENTED (reference, section 1.1), so tunedrop's DRAFT +
 * approve carries the contract on Yandex: nothing is created there until approval. When a server
 * does answer them, a start becomes CreateDraft (which costs nothing and gives the task id) then
 * TuneDraft; a draft left by a crash between the two carries the record id in its labels and is
 * tuned by the next attempt instead of creating another.
 *
 * The probe counts the RPCs as available only when the server parsed the empty request and
 * refused it (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION). Only UNIMPLEMENTED is remembered
 * for the process; any other answer (quota, auth, a token fetch failing, UNKNOWN...) says nothing
 * about the RPCs: this start uses Tune, which is always right, and the next start asks again. If a
 * later CreateDraft still answers UNIMPLEMENTED, the caller marks the probe unavailable and uses
 * Tune (CreateDraft created nothing).
 */
import { tuningService, tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { Status } from 'nice-grpc';
import type { Logger } from '../../logging/index.ts';
import { isGrpcStatus, providerErrorFrom, type YandexClients } from './grpc.ts';

export type DraftProbe = (() => Promise<boolean>) & {
  /** The server answered a draft RPC UNIMPLEMENTED after all: remembered for the process. */
  markUnavailable(): void;
};

/** Answers of a server that parsed the empty TuneDraft and refused it: the RPC exists. */
const implementedStatuses = [Status.INVALID_ARGUMENT, Status.NOT_FOUND, Status.FAILED_PRECONDITION];

export function draftProbe(clients: YandexClients, logger?: Logger): DraftProbe {
  let answer: Promise<boolean> | undefined;
  const probe = () => {
    // An empty TuneDraft creates nothing: UNIMPLEMENTED (today) or a validation error (some day).
    answer ??= clients.tuning.tuneDraft({ tuningTaskId: '' }, { retry: false }).then(
      () => {
        logger?.info('yandex draft RPCs probed', { available: true });
        return true;
      },
      (error: unknown) => {
        if (implementedStatuses.some((status) => isGrpcStatus(error, status))) {
          logger?.info('yandex draft RPCs probed', { available: true });
          return true;
        }
        if (isGrpcStatus(error, Status.UNIMPLEMENTED)) {
          logger?.info('yandex draft RPCs probed', { available: false });
          return false;
        }
        answer = undefined;
        logger?.debug('yandex draft RPC probe inconclusive; Tune this time, asked again next time', {
          error,
        });
        return false;
      },
    );
    return answer;
  };
  return Object.assign(probe, {
    markUnavailable() {
      answer = Promise.resolve(false);
      logger?.info('yandex draft RPCs probed', { available: false });
    },
  });
}

/** CreateDraft answered UNIMPLEMENTED: nothing was created, Tune is the way (drafts.ts header). */
export class DraftRpcsUnimplemented extends Error {
  override readonly name = 'DraftRpcsUnimplemented';
}

/**
 * Starts a task through CreateDraft + TuneDraft; `leftDraft` is this record's draft from an
 * interrupted earlier attempt, tuned instead of creating another. The Tune request's fields are
 * the draft's; its validation dataset goes in CreateTuningDraftRequest.validationDatasets (the
 * draft request's only validation field; deprecated on TuningRequest, yet what Yandex's Python SDK
 * fills for Tune, reference section 1).
 * Throws DraftRpcsUnimplemented when CreateDraft answers UNIMPLEMENTED.
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
          validationDatasets: request.validationDataset
            ? [request.validationDataset, ...request.validationDatasets]
            : request.validationDatasets,
          ...(request.textToTextCompletion ? { textToTextCompletion: request.textToTextCompletion } : {}),
          name: request.name,
          description: request.description,
          labels: request.labels,
        }),
        { retry: false },
      ));
    } catch (error) {
      if (isGrpcStatus(error, Status.UNIMPLEMENTED))
        throw new DraftRpcsUnimplemented('CreateDraft: UNIMPLEMENTED');
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
