/**
 * poll-jobs: the HTTP adapter Cloud Scheduler calls (with an OIDC token) over the platform-neutral
 * run in poll.ts. Deployed, Cloud Run IAM (roles/run.invoker for the scheduler's service account)
 * verifies the token before a request reaches this code, so it is not verified again here.
 *
 * Answers 200 with the run's summary, 200 `{skipped: "poll in progress..."}` at once when another
 * run holds the lease (or this instance is already polling), and 500 when a step failed (provider
 * list, a record write, a publish): Cloud Scheduler then retries per its retry config, and every
 * step is safe to repeat.
 *
 * `GET /health` answers 200 without polling or touching Firestore: it is what a readiness check
 * (the local stack's start-up) calls. A check that ran a full poll instead piled runs onto the
 * lease whenever a poll outlasted the check's own timeout.
 */

import type { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { type Config, datasetOrphanGraceMs } from '../../shared/config/index.ts';
import { createPubSubPublisher } from '../../shared/events/index.ts';
import { createFirestore, createFirestoreJobStore } from '../../shared/jobs/index.ts';
import { createLogger, type Logger } from '../../shared/logging/index.ts';
import { createVertexProvider } from '../../shared/providers/index.ts';
import { createFirestoreLease } from './lease.ts';
import { logs } from './logs.ts';
import { defaultPollSettings, type PollDeps, pollInProgress, pollJobs } from './poll.ts';

export { createFirestoreLease, type Lease, noLease } from './lease.ts';
export {
  countingProvider,
  defaultPollSettings,
  type PollConfig,
  type PollDeps,
  type PollResult,
  type PollSummary,
  pollInProgress,
  pollJobs,
} from './poll.ts';
export { reconcile } from './reconcile.ts';

/** The slice of the Functions Framework's (Express) request and response the handler uses. */
export interface HttpRequest {
  method?: string;
  path?: string;
}

/** The readiness route: answers without polling. (Cloud Run reserves paths ending in `z`.) */
export const healthPath = '/health';
export interface HttpResponse {
  status(code: number): HttpResponse;
  json(body: unknown): unknown;
}

export function createPollJobsHandler(deps: PollDeps) {
  /** This instance's run in progress: an overlapping request is answered without a Firestore call. */
  let running = false;
  return async function pollJobsHandler(request: HttpRequest, response: HttpResponse): Promise<void> {
    if (request.path === healthPath) {
      if (request.method !== undefined && request.method !== 'GET' && request.method !== 'HEAD') {
        response.status(405).json({ error: 'use GET' });
        return;
      }
      response.status(200).json({ status: 'ok' });
      return;
    }
    if (request.method !== undefined && request.method !== 'POST' && request.method !== 'GET') {
      response.status(405).json({ error: 'use POST' });
      return;
    }
    if (running) {
      logs.runSkipped(deps.logger);
      response.status(200).json({ skipped: pollInProgress });
      return;
    }
    running = true;
    try {
      const result = await pollJobs(deps);
      // Events left unpublished (Pub/Sub unreachable) are a transient failure too; events another
      // flusher holds the lease of (`leased`) are not: that flusher is publishing them.
      const failed = 'errors' in result && (result.errors > 0 || result.pending > 0);
      response.status(failed ? 500 : 200).json(result);
    } catch (error) {
      // Firestore unreachable, lease not taken...: transient, the next run (or a retry) repeats it.
      logs.runFailed(deps.logger, error);
      response.status(500).json({ error: 'poll run failed; see the logs' });
    } finally {
      running = false;
    }
  };
}

/** Clients the caller already has (functions/runtime.ts), reused instead of built again. */
export interface PollJobsClients {
  firestore?: Firestore;
  store?: PollDeps['store'];
  provider?: PollDeps['provider'];
  publisher?: PollDeps['publisher'];
  clock?: PollDeps['clock'];
}

/** The deployed dependencies, from configuration: Firestore, Pub/Sub, Vertex AI, the run lease. */
export function createPollJobsDeps(
  config: Config,
  logger: Logger = createLogger('poll-jobs', { level: config.logLevel }),
  clients: PollJobsClients = {},
): PollDeps {
  const firestore =
    clients.firestore ?? createFirestore({ project: config.project, databaseId: config.firestoreDatabase });
  const clock = clients.clock ?? (() => new Date());
  return {
    config: {
      project: config.project,
      deploymentId: config.deploymentId,
      maxConcurrentJobs: config.maxConcurrentJobs,
      stallTimeoutMs: config.stallTimeoutMs,
      draftTtlMs: config.draftTtlMs,
      intentGraceMs: defaultPollSettings.intentGraceMs,
      createTimeMarginMs: defaultPollSettings.createTimeMarginMs,
      concurrency: defaultPollSettings.concurrency,
      datasetOrphanGraceMs: datasetOrphanGraceMs(config.eventMaxAgeMs),
    },
    store: clients.store ?? createFirestoreJobStore({ firestore, collection: config.jobsCollection, logger }),
    provider:
      clients.provider ??
      createVertexProvider({
        project: config.project,
        region: config.region,
        endpoint: config.vertexEndpoint,
        logger,
      }),
    publisher:
      clients.publisher ??
      createPubSubPublisher({
        pubsub: new PubSub({ projectId: config.project }),
        topic: config.eventsTopic,
        logger,
      }),
    logger,
    clock,
    // The ttl is the deployed function's timeout (terraform: poll_timeout_seconds), see lease.ts.
    lease: createFirestoreLease({ firestore, name: 'poll-jobs', ttlMs: defaultPollSettings.leaseMs, clock }),
    datasetFailuresLogged: new Set(),
  };
}
