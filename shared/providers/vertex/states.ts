/**
 * The one table from Vertex AI `JobState` to tunedrop's provider-neutral JobState. Every Vertex
 * state maps to exactly one tunedrop state; the reasons for the non-obvious rows are kept next to
 * them so a change to the table is a conscious one (each row has a test).
 */
import type { JobState } from '../../jobs/model.ts';

export const vertexJobStates = [
  'JOB_STATE_UNSPECIFIED',
  'JOB_STATE_QUEUED',
  'JOB_STATE_PENDING',
  'JOB_STATE_RUNNING',
  'JOB_STATE_SUCCEEDED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLING',
  'JOB_STATE_CANCELLED',
  'JOB_STATE_PAUSED',
  'JOB_STATE_EXPIRED',
  'JOB_STATE_UPDATING',
  'JOB_STATE_PARTIALLY_SUCCEEDED',
] as const;
export type VertexJobState = (typeof vertexJobStates)[number];

export interface StateRow {
  state: JobState;
  /** Why this mapping, for the rows that are not a plain rename. */
  reason?: string;
}

export const vertexStateTable: Readonly<Record<VertexJobState, StateRow>> = {
  JOB_STATE_UNSPECIFIED: {
    state: 'PENDING',
    reason:
      'A job that exists at Vertex but reports no state has been created and not started: PENDING is the ' +
      'earliest state a created job can hold, so the forward-only state machine never moves backwards.',
  },
  JOB_STATE_QUEUED: {
    state: 'PENDING',
    reason:
      "tunedrop's QUEUED means no Vertex job exists yet (waiting for a retry after a 429/5xx); a job Vertex " +
      'has queued already exists and costs money, so it is PENDING.',
  },
  JOB_STATE_PENDING: { state: 'PENDING' },
  JOB_STATE_RUNNING: { state: 'RUNNING' },
  JOB_STATE_SUCCEEDED: { state: 'SUCCEEDED' },
  JOB_STATE_FAILED: { state: 'FAILED' },
  JOB_STATE_CANCELLING: { state: 'CANCELLING' },
  JOB_STATE_CANCELLED: { state: 'CANCELLED' },
  JOB_STATE_PAUSED: {
    state: 'RUNNING',
    reason:
      'A paused job has started and will resume; tunedrop has no paused state and must not move back to ' +
      'PENDING. A long pause surfaces through stall detection (job.stalled), not a new state.',
  },
  JOB_STATE_EXPIRED: { state: 'EXPIRED' },
  JOB_STATE_UPDATING: {
    state: 'RUNNING',
    reason: 'The job is live and being updated in place; it has started and is not finished.',
  },
  JOB_STATE_PARTIALLY_SUCCEEDED: {
    state: 'SUCCEEDED',
    reason:
      'Terminal with usable output (a tuned model exists); the partial failure is kept in the job error, ' +
      'so consumers see both the model and what went wrong.',
  },
};

export function isVertexJobState(value: string): value is VertexJobState {
  return Object.hasOwn(vertexStateTable, value);
}

/** Maps a Vertex state string; an unknown (newer) state is treated like JOB_STATE_UNSPECIFIED. */
export function toJobState(vertexState: string | undefined): JobState {
  const key = vertexState && isVertexJobState(vertexState) ? vertexState : 'JOB_STATE_UNSPECIFIED';
  return vertexStateTable[key].state;
}

/** Every Vertex state that maps to one of these tunedrop states: the inverse, for list filters. */
export function vertexStatesFor(states: readonly JobState[]): VertexJobState[] {
  return vertexJobStates.filter((vertexState) => states.includes(vertexStateTable[vertexState].state));
}
