/**
 * The deployed dependencies of every function, built once per instance from configuration on the
 * first request (never at import): Firestore, Pub/Sub, Vertex AI and blob clients are reused by
 * later requests, as Cloud Run instances serve many.
 */

import type { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { type Config, loadConfig } from '../shared/config/index.ts';
import { createPubSubPublisher, type EventPublisher } from '../shared/events/index.ts';
import {
  createFirestore,
  createFirestoreJobStore,
  createFirestoreRejectionStore,
  type JobStore,
  type RejectionStore,
  rejectionsCollectionFor,
} from '../shared/jobs/index.ts';
import { createLogger, type Logger } from '../shared/logging/index.ts';
import { type Catalog, catalogLoader } from '../shared/models/index.ts';
import {
  createProviderRegistry,
  createVertexProvider,
  createYandexProvider,
  type TuningProvider,
} from '../shared/providers/index.ts';
import { type BlobStore, createGcsBlobStore, createLocalBlobStore } from '../shared/storage/index.ts';

export interface Runtime {
  config: Config;
  firestore: Firestore;
  store: JobStore;
  rejections: RejectionStore;
  publisher: EventPublisher;
  provider: TuningProvider;
  blobs: BlobStore;
  /** The effective model catalog (TUNEDROP_MODEL_CATALOG over the built-in), read once. */
  catalog: () => Promise<Catalog>;
  clock: () => Date;
  logger(component: string): Logger;
}

export function createRuntime(env: Record<string, string | undefined>): Runtime {
  const config = loadConfig(env);
  const logger = (component: string) => createLogger(component, { level: config.logLevel });
  const runtimeLogger = logger('runtime');
  const firestore = createFirestore({ project: config.project, databaseId: config.firestoreDatabase });
  // The local stack's folder stands in for the bucket; deployed, it is Cloud Storage.
  const blobs = config.bucketDir
    ? createLocalBlobStore({ root: config.bucketDir })
    : createGcsBlobStore({ storage: new Storage({ projectId: config.project }) });
  return {
    config,
    firestore,
    store: createFirestoreJobStore({ firestore, collection: config.jobsCollection, logger: runtimeLogger }),
    rejections: createFirestoreRejectionStore({
      firestore,
      collection: rejectionsCollectionFor(config.jobsCollection),
    }),
    publisher: createPubSubPublisher({
      pubsub: new PubSub({ projectId: config.project }),
      topic: config.eventsTopic,
      logger: runtimeLogger,
    }),
    provider: createProviderRegistry([
      createVertexProvider({
        project: config.project,
        region: config.region,
        endpoint: config.vertexEndpoint,
        logger: runtimeLogger,
      }),
      // Yandex AI Studio only where configured (TUNEDROP_YANDEX_FOLDER_ID): it uploads the
      // pinned, validated copy a spec names, read through the same blob store.
      ...(config.yandex
        ? [
            createYandexProvider({
              ...config.yandex,
              deploymentId: config.deploymentId,
              readDataset: (uri) => readBlob(blobs, uri),
              logger: runtimeLogger,
            }),
          ]
        : []),
    ]),
    blobs,
    catalog: catalogLoader({ overrideSource: config.modelCatalog, blobs }),
    clock: () => new Date(),
    logger,
  };
}

/** The bytes of `gs://BUCKET/OBJECT` (`#GENERATION` pins one generation). */
export async function readBlob(blobs: BlobStore, uri: string): Promise<Buffer> {
  const match = /^gs:\/\/([^/]+)\/([^#]+)(?:#(\d+))?$/.exec(uri);
  if (!match) throw new Error(`not a gs:// URI: ${uri}`);
  const [, bucket = '', object = '', generation] = match;
  const chunks: Buffer[] = [];
  for await (const chunk of blobs.read(bucket, object, generation ? { generation } : undefined)) {
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** One runtime per process, built on first use from the process environment. */
let shared: Runtime | undefined;
export function processRuntime(): Runtime {
  shared ??= createRuntime(process.env);
  return shared;
}

/** Builds a handler from the runtime on its first call and reuses it afterwards. */
export function lazyHandler<Args extends unknown[], Result>(
  build: (runtime: Runtime) => (...args: Args) => Result,
): (...args: Args) => Result {
  let handler: ((...args: Args) => Result) | undefined;
  return (...args) => {
    handler ??= build(processRuntime());
    return handler(...args);
  };
}
