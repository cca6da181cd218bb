/**
 * Builders for the `filter` of Vertex AI `tuningJobs.list`, and what tunedrop may rely on.
 *
 * What the v1 contract documents (checked 2026, sources below):
 * - `ListTuningJobsRequest` has `filter`, `page_size`, `page_token`, each only "Optional. The
 *   standard list filter / page size / page token." No field is listed as filterable, no default
 *   page size and no maximum are given. The response is `tuningJobs[]` and `nextPageToken`
 *   (proto `tuning_jobs`, `next_page_token`).
 *   - googleapis/googleapis google/cloud/aiplatform/v1/genai_tuning_service.proto
 *   - https://docs.cloud.google.com/gemini-enterprise-agent-platform/reference/rest/v1/projects.locations.tuningJobs/list
 *   - https://docs.cloud.google.com/python/docs/reference/aiplatform/latest/google.cloud.aiplatform_v1.types.ListTuningJobsRequest
 *   - googleapis/python-aiplatform vertexai/tuning/_tuning.py: `TuningJob.list(filter)` passes
 *     the string through ("The standard list filter"), no examples.
 * - Sibling Vertex job lists do enumerate their filter: customJobs.list and
 *   hyperparameterTuningJobs.list support `display_name` (=, !=, :), `state` (=, !=),
 *   `create_time` (=, !=, <, <=, >, >=, RFC 3339) and `labels.key=value` / `labels.key:*`
 *   (https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.customJobs/list,
 *   Ruby/.NET ListHyperparameterTuningJobsRequest). Those lists grew the fields over time (the
 *   2.0.0 .NET ListCustomJobsRequest documents only display_name and state), so the sibling
 *   lists are no proof of what tuningJobs accepts today.
 *
 * So tunedrop sends one kind of restriction only: label equality, `labels.k="v"`, the
 * convention of every Vertex list that documents labels and the one restriction tunedrop cannot
 * do without (the record-id lookup that makes create exactly-once). State and creation-time
 * restrictions are applied by the client to each returned page instead of being sent; the
 * client also re-checks the labels, so a server that ignored part of the filter still yields
 * correct results. `pageSize` is a request, not a promise: callers follow `nextPageToken` and
 * accept short (even empty) pages. Values are always quoted and escaped, so a label value can
 * never change the meaning of the filter.
 *
 * Because none of this is documented, a 400 INVALID_ARGUMENT to the label filter is not fatal:
 * the client falls back to a state-only filter, then to no filter, then to fetching jobs by name
 * (list-modes.ts), and remembers the step for the rest of the process.
 */

const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export const labelEquals = (key: string, value: string) => `labels.${key}=${quote(value)}`;

/** `state="JOB_STATE_RUNNING"`: the state-only fallback (list-modes.ts), used only after a label filter was refused. */
export const stateEquals = (state: string) => `state=${quote(state)}`;

/** Joins the non-empty terms with OR, parenthesised when there are several. */
export function anyOf(...terms: (string | undefined)[]): string | undefined {
  const present = terms.filter((term): term is string => !!term);
  if (present.length <= 1) return present[0];
  return `(${present.join(' OR ')})`;
}

/** Joins the non-empty terms with AND; undefined when there is nothing to filter on. */
export function allOf(...terms: (string | undefined)[]): string | undefined {
  const present = terms.filter((term): term is string => !!term);
  return present.length ? present.join(' AND ') : undefined;
}
