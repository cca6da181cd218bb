/**
 * The fallback ladder for `tuningJobs.list`, whose filter semantics Vertex does not document
 * (filter.ts). tunedrop lists by label; if Vertex answers a filter with 400 INVALID_ARGUMENT, the
 * client steps down (labels → state → unfiltered → per-job) and stays there for the rest of the
 * process, logging each step once. Each step is still correct, only more expensive:
 *
 * - `state`: `state="JOB_STATE_…" OR …`; the client re-checks the labels on every page. A listing
 *   asked for no particular states covers the non-terminal ones only, so callers fetch by name the
 *   jobs they know that were not listed (they have most likely just finished).
 * - `unfiltered`: every job of the location; labels checked by the client. Paging stops as soon
 *   as a page is older than anything the caller tracks (jobs come newest first in practice; the
 *   stop is only taken while the pages seen really are in that order).
 * - `per-job`: even an unfiltered list is refused. Callers GET the jobs they know by name; a
 *   lookup by label cannot be answered (ListUnavailableError), so it never concludes "absent".
 *
 * The memory is per process (one Cloud Functions instance, one local function process): a new
 * instance probes the label filter again, so a Vertex that starts accepting it is used again.
 */
import type { JobState } from '../../jobs/model.ts';
import type { Logger } from '../../logging/index.ts';
import { type ListScope, listScopes, ProviderError } from '../types.ts';
import { anyOf, stateEquals } from './filter.ts';
import { type VertexJobState, vertexStatesFor } from './states.ts';

/** tunedrop states a job can be in while it still occupies Vertex (what a poll watches). */
export const activeJobStates: readonly JobState[] = ['PENDING', 'RUNNING', 'CANCELLING'];

export interface ListModeMemory {
  /** The step this process uses now. */
  current(): ListScope;
  /** Moves to `to` if that is a later step than the current one; logs the first move to each step. */
  fallBack(from: ListScope, to: ListScope, reason: ProviderError, logger?: Logger): ListScope;
}

export function createListModeMemory(initial: ListScope = 'labels'): ListModeMemory {
  let scope: ListScope = initial;
  const logged = new Set<ListScope>();
  return {
    current: () => scope,
    fallBack(from, to, reason, logger) {
      if (laterOf(scope, to) !== scope) scope = to;
      if (!logged.has(to)) {
        logged.add(to);
        logger?.warn('vertex tuningJobs.list refused a filter; falling back for the rest of this process', {
          from,
          to: scope,
          httpStatus: reason.httpStatus,
          status: reason.status,
          reason: reason.message,
        });
      }
      return scope;
    },
  };
}

/** One memory per Vertex location and endpoint in this process, shared by every client built for it. */
const processMemories = new Map<string, ListModeMemory>();

export function processListModeMemory(key: string): ListModeMemory {
  let memory = processMemories.get(key);
  if (!memory) {
    memory = createListModeMemory();
    processMemories.set(key, memory);
  }
  return memory;
}

export const laterOf = (a: ListScope, b: ListScope): ListScope =>
  listScopes.indexOf(a) >= listScopes.indexOf(b) ? a : b;

export const nextScope = (scope: ListScope): ListScope =>
  listScopes[Math.min(listScopes.length - 1, listScopes.indexOf(scope) + 1)] as ListScope;

/**
 * A 400 INVALID_ARGUMENT to a first-page list request: Vertex refused what was asked of the list
 * (its filter, or the list itself when nothing was filtered). A page-token error or any other
 * status is not a reason to fall back.
 */
export function isListRefusal(error: unknown): error is ProviderError {
  return (
    error instanceof ProviderError &&
    error.httpStatus === 400 &&
    (error.status === 'INVALID_ARGUMENT' || error.status === 'FAILED_PRECONDITION')
  );
}

/** The Vertex states a state-only listing asks for, and the tunedrop states it thereby covers. */
export function stateScope(states: readonly JobState[] | undefined): {
  filter: string | undefined;
  covered: JobState[];
  vertexStates: VertexJobState[];
} {
  const covered = [...(states ?? activeJobStates)];
  const vertexStates = vertexStatesFor(covered);
  return { filter: anyOf(...vertexStates.map(stateEquals)), covered, vertexStates };
}
