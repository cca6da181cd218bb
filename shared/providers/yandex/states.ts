/**
 * The one table from Yandex Cloud Foundation Models (AI Studio) `TuningTask.Status` to tunedrop's
 * provider-neutral JobState, in the same shape as the Vertex table; the Yandex client (job-mapping.ts)
 * maps every task status it reads through it.
 *
 * Sources: yandex-cloud/cloudapi yandex/cloud/ai/tuning/v1/tuning_task.proto (STATUS_UNSPECIFIED,
 * CREATED, PENDING, IN_PROGRESS, COMPLETED, FAILED, CANCELED; the enum carries no comments) and
 * the AI Studio Tuning API reference (https://yandex.cloud/en/docs/ai-studio/tuning/api-ref/grpc/Tuning),
 * whose methods CreateDraft/TuneDraft, Archive and EnableBilling are where DRAFT, ARCHIVED and
 * PAID come from. Neither source defines the states in prose, so the non-obvious rows say which
 * reading they take and why it is the safe one.
 */
import type { JobState } from '../../jobs/model.ts';
import type { StateRow } from '../vertex/states.ts';

export const yandexTuningStates = [
  'STATUS_UNSPECIFIED',
  'CREATED',
  'PENDING',
  'IN_PROGRESS',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'DRAFT',
  'ARCHIVED',
  'PAID',
] as const;
export type YandexTuningState = (typeof yandexTuningStates)[number];

export const yandexStateTable: Readonly<Record<YandexTuningState, StateRow>> = {
  STATUS_UNSPECIFIED: {
    state: 'PENDING',
    reason:
      'A task that exists but reports no status has been created and not started: PENDING is the earliest ' +
      'state a created task can hold, so the forward-only state machine never moves backwards.',
  },
  CREATED: {
    state: 'PENDING',
    reason:
      "The task exists at Yandex (Tune was accepted) but is not yet queued. tunedrop's QUEUED means no " +
      'provider job exists yet, so a created task is PENDING, like Vertex JOB_STATE_QUEUED.',
  },
  PENDING: { state: 'PENDING' },
  IN_PROGRESS: { state: 'RUNNING' },
  COMPLETED: { state: 'SUCCEEDED' },
  FAILED: { state: 'FAILED' },
  CANCELED: { state: 'CANCELLED', reason: 'Yandex spells it with one L; same meaning.' },
  DRAFT: {
    state: 'DRAFT',
    reason:
      'A draft (CreateDraft) is saved settings that cost nothing until TuneDraft starts it: the same meaning ' +
      "as tunedrop's DRAFT awaiting approval, where approving maps to TuneDraft.",
  },
  ARCHIVED: {
    state: 'EXPIRED',
    reason:
      'Archive takes a task out of use and the status no longer says how it ended. A record that already ' +
      'reached SUCCEEDED, FAILED or CANCELLED stays there (terminal states do not move); a record first seen ' +
      'archived is terminal with an unknown outcome, which is what EXPIRED means, and never a false success.',
  },
  PAID: {
    state: 'PENDING',
    reason:
      'EnableBilling marks a task as paid; neither source says whether that happens before the run or after ' +
      'it. PENDING is the reading that can never announce a success or failure that did not happen: after ' +
      'COMPLETED the forward-only machine keeps SUCCEEDED, and a task stuck in PAID surfaces as job.stalled.',
  },
};

export function isYandexTuningState(value: string): value is YandexTuningState {
  return Object.hasOwn(yandexStateTable, value);
}

/** Maps a Yandex status string; an unknown (newer) status is treated like STATUS_UNSPECIFIED. */
export function yandexToJobState(yandexState: string | undefined): JobState {
  const key = yandexState && isYandexTuningState(yandexState) ? yandexState : 'STATUS_UNSPECIFIED';
  return yandexStateTable[key].state;
}

/** Every Yandex status that maps to one of these tunedrop states: the inverse, for list filters. */
export function yandexStatesFor(states: readonly JobState[]): YandexTuningState[] {
  return yandexTuningStates.filter((yandexState) => states.includes(yandexStateTable[yandexState].state));
}
