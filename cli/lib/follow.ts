/**
 * Following a job through the API until it ends, for `submit --wait`. Until ingest has created
 * the record the API answers 404; meanwhile a rejection report for the upload means there will be
 * no job at all, so that ends the wait too.
 */
import { isTerminal, type JobState } from '../../shared/jobs/index.ts';
import { type ApiClient, ApiRequestError, type JobView } from './api-client.ts';

export type FollowOutcome = { kind: 'finished'; job: JobView } | { kind: 'rejected'; report: unknown };

export interface FollowOptions {
  /** A rejection report for the upload, if ingest has written one (the text of the report). */
  rejection?: () => Promise<string | undefined>;
  /**
   * The generation that was uploaded. Reports are named after the object, so the report found may
   * be an earlier upload's of the same name (or a later one's): one whose `generation` is not this
   * is treated as not written yet.
   */
  generation?: string;
  onState?: (job: JobView) => void;
  intervalMs?: number;
  /** Give up after this long (0: never). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export class FollowTimeoutError extends Error {
  override readonly name = 'FollowTimeoutError';
}

export async function followJob(
  client: ApiClient,
  jobId: string,
  options: FollowOptions = {},
): Promise<FollowOutcome> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const deadline = options.timeoutMs ? now() + options.timeoutMs : Number.POSITIVE_INFINITY;
  let lastState: JobState | undefined;
  for (;;) {
    let job: JobView | undefined;
    try {
      job = await client.get(jobId);
    } catch (error) {
      if (!(error instanceof ApiRequestError && error.httpStatus === 404)) throw error;
    }
    if (job) {
      if (job.state !== lastState) {
        lastState = job.state;
        options.onState?.(job);
      }
      if (isTerminal(job.state)) return { kind: 'finished', job };
    } else if (options.rejection) {
      const text = await options.rejection();
      if (text !== undefined) {
        // ingest-dataset's report: `status` is rejected (bad dataset or manifest), waiting or accepted.
        const report = JSON.parse(text) as { status?: unknown; generation?: unknown };
        const ours = options.generation === undefined || report.generation === options.generation;
        if (ours && report.status === 'rejected') return { kind: 'rejected', report };
      }
    }
    if (now() >= deadline) {
      throw new FollowTimeoutError(
        `job ${jobId} ${lastState ? `is still ${lastState}` : 'has not appeared'} after ${Math.round((options.timeoutMs ?? 0) / 1000)} s`,
      );
    }
    await sleep(options.intervalMs ?? 2000);
  }
}
