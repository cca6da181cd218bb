/**
 * Builders for AIP-160 list filters as Vertex AI's `tuningJobs.list` accepts them, e.g.
 * `labels.tunedrop-job-id="abc" AND state="JOB_STATE_RUNNING"`. Values are always quoted and
 * escaped, so a label value can never change the meaning of the filter.
 */
import type { VertexJobState } from './states.ts';

const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export const labelEquals = (key: string, value: string) => `labels.${key}=${quote(value)}`;
export const labelPresent = (key: string) => `labels.${key}:*`;
export const createdAtOrAfter = (time: string | Date) =>
  `create_time>=${quote(typeof time === 'string' ? time : time.toISOString())}`;

export function stateIn(states: readonly VertexJobState[]): string {
  const terms = states.map((state) => `state=${quote(state)}`);
  return terms.length === 1 ? (terms[0] as string) : `(${terms.join(' OR ')})`;
}

/** Joins the non-empty terms with AND; undefined when there is nothing to filter on. */
export function allOf(...terms: (string | undefined)[]): string | undefined {
  const present = terms.filter((term): term is string => !!term);
  return present.length ? present.join(' AND ') : undefined;
}
