/**
 * The one source bundle of every deployed function: registers each entry point with the Functions
 * Framework. Each handler is built on its first request from the process environment (nothing is
 * read at import), and reused while the instance lives.
 */
import * as functions from '@google-cloud/functions-framework';
import {
  createFirestoreDeliveryLedger,
  createFirestoreEndpointStateStore,
} from '../shared/webhooks/index.ts';
import { createApiHandler, guardedHttpHandler } from './api/index.ts';
import { createDeliverWebhooksHandler } from './deliver-webhooks/index.ts';
import { createIngestHandler } from './ingest-dataset/index.ts';
import { createPollJobsDeps, createPollJobsHandler } from './poll-jobs/index.ts';
import { lazyHandler, type Runtime } from './runtime.ts';
import { frameworkTarget, installServerHook } from './server-hook.ts';

const common = (runtime: Runtime, component: string) => ({
  config: runtime.config,
  store: runtime.store,
  rejections: runtime.rejections,
  provider: runtime.provider,
  publisher: runtime.publisher,
  blobs: runtime.blobs,
  clock: runtime.clock,
  logger: runtime.logger(component),
});

functions.cloudEvent(
  'ingestDataset',
  lazyHandler((runtime) =>
    createIngestHandler({ ...common(runtime, 'ingest-dataset'), catalog: runtime.catalog }),
  ),
);

functions.http(
  'pollJobs',
  lazyHandler((runtime) =>
    createPollJobsHandler(createPollJobsDeps(runtime.config, runtime.logger('poll-jobs'), runtime)),
  ),
);

functions.cloudEvent(
  'deliverWebhooks',
  lazyHandler((runtime) =>
    createDeliverWebhooksHandler({
      config: runtime.config,
      logger: runtime.logger('deliver-webhooks'),
      endpointState: createFirestoreEndpointStateStore(runtime.firestore),
      deliveries: createFirestoreDeliveryLedger(runtime.firestore, {
        logger: runtime.logger('deliver-webhooks'),
      }),
      clock: runtime.clock,
    }),
  ),
);

const apiHandler = lazyHandler((runtime) => createApiHandler(common(runtime, 'api')));
functions.http('api', apiHandler);

// Must run while this module loads: the framework creates its server right after importing it.
// The api target answers every request itself, in JSON (see server-hook.ts); the local stack binds
// every function to loopback with TUNEDROP_LISTEN_HOST.
installServerHook({
  target: frameworkTarget(process.argv, process.env),
  plainHttp: {
    api: () => guardedHttpHandler(apiHandler),
  },
  listenHost: process.env.TUNEDROP_LISTEN_HOST || undefined,
});
