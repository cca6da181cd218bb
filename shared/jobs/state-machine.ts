/**
 * The job state machine: forward-only, pure. Every state change of a record goes through
 * `transition`, which appends a history entry with its time, so a record tells its own story.
 *
 * Legal moves (anything else throws IllegalTransitionError):
 *
 * | from       | to                                                                   |
 * | ---------- | -------------------------------------------------------------------- |
 * | DRAFT      | QUEUED, PENDING, FAILED, CANCELLED, EXPIRED                          |
 * | QUEUED     | PENDING, RUNNING, CANCELLING, SUCCEEDED, FAILED, CANCELLED, EXPIRED  |
 * | PENDING    | RUNNING, CANCELLING, SUCCEEDED, FAILED, CANCELLED, EXPIRED           |
 * | RUNNING    | CANCELLING, SUCCEEDED, FAILED, CANCELLED, EXPIRED                    |
 * | CANCELLING | SUCCEEDED, FAILED, CANCELLED, EXPIRED                                |
 * | terminal   | nothing                                                              |
 *
 * Why these skips: a poll may miss short-lived states (PENDING→SUCCEEDED), a job adopted after a
 * crash can be found in any provider state (QUEUED→RUNNING or →SUCCEEDED), a permanent create
 * error fails a job that never started (QUEUED→FAILED, DRAFT→FAILED once approved), and a cancel
 * request can lose the race against completion (CANCELLING→SUCCEEDED: the provider's word wins).
 * A DRAFT has no provider job yet, so it can neither run, succeed nor be "cancelling": cancelling
 * a draft is immediate (DRAFT→CANCELLED).
 *
 * Provider reports that point backwards (RUNNING after CANCELLING was requested, PENDING after
 * RUNNING was seen, anything after a terminal state) are not errors: `advance` ignores them.
 */
import { isTerminal, type JobRecord, type JobState } from './model.ts';

/** Position along the lifecycle; every terminal state shares the last rank. */
const rank: Record<JobState, number> = {
  DRAFT: 0,
  QUEUED: 1,
  PENDING: 2,
  RUNNING: 3,
  CANCELLING: 4,
  SUCCEEDED: 5,
  FAILED: 5,
  CANCELLED: 5,
  EXPIRED: 5,
};

/** States a DRAFT cannot reach directly: they need a provider job, which a draft never has. */
const unreachableFromDraft: readonly JobState[] = ['RUNNING', 'CANCELLING', 'SUCCEEDED'];

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly jobId: string,
    readonly from: JobState,
    readonly to: JobState,
  ) {
    super(`job ${jobId}: illegal state transition ${from} → ${to}`);
  }
}

/** True when a record in `from` may move to `to`. */
export function canTransition(from: JobState, to: JobState): boolean {
  if (isTerminal(from)) return false;
  if (rank[to] <= rank[from]) return false;
  if (from === 'DRAFT' && unreachableFromDraft.includes(to)) return false;
  return true;
}

/**
 * How a reported state relates to the current one: `forward` (apply it), `same` or `backward`
 * (ignore it: stale or out-of-order report, or the job is already terminal), `illegal` (a forward
 * move the lifecycle forbids, which means a bug or a corrupted record).
 */
export type TransitionKind = 'forward' | 'same' | 'backward' | 'illegal';

export function classifyTransition(from: JobState, to: JobState): TransitionKind {
  if (from === to) return 'same';
  if (canTransition(from, to)) return 'forward';
  if (isTerminal(from) || rank[to] <= rank[from]) return 'backward';
  return 'illegal';
}

/** Fields a transition may set along with the state (the result on success, the error on failure...). */
export type TransitionPatch = Partial<
  Omit<JobRecord, 'id' | 'state' | 'stateTime' | 'createTime' | 'history' | 'outbox' | 'outboxLease'>
>;

export interface TransitionOptions {
  now: Date;
  /** Why, in a few words; kept in the history entry. */
  reason?: string;
  patch?: TransitionPatch;
}

/**
 * Returns a new record in state `to`: the patch applied, stateTime and updateTime set to `now`,
 * a history entry appended and the stall notice re-armed (a new state can stall again).
 * Throws IllegalTransitionError when the move is not legal.
 */
export function transition(job: JobRecord, to: JobState, options: TransitionOptions): JobRecord {
  if (!canTransition(job.state, to)) throw new IllegalTransitionError(job.id, job.state, to);
  const time = options.now.toISOString();
  return {
    ...job,
    ...options.patch,
    state: to,
    stateTime: time,
    updateTime: time,
    stalledNotified: false,
    history: [
      ...job.history,
      options.reason === undefined ? { state: to, time } : { state: to, time, reason: options.reason },
    ],
  };
}

/**
 * For reports whose order is not guaranteed (provider polls, duplicate deliveries): applies a
 * forward move, returns undefined for one to ignore (same, backward, terminal), and still throws
 * on an illegal forward move. Undefined is what `JobStore.update` reads as "leave unchanged".
 */
export function advance(job: JobRecord, to: JobState, options: TransitionOptions): JobRecord | undefined {
  const kind = classifyTransition(job.state, to);
  if (kind === 'same' || kind === 'backward') return undefined;
  return transition(job, to, options);
}
