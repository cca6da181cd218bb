/**
 * The whole pipeline on one machine: the Pub/Sub and Firestore emulators, tunedrop's Vertex AI
 * emulator, every function in its own Functions Framework process, a folder watcher standing in
 * for Cloud Storage + Eventarc, a timer standing in for Cloud Scheduler, and a push subscription
 * standing in for the deliver-webhooks trigger (with the same retry and dead-letter policies).
 *
 * This module starts and stops the parts in order; the functions' environment is stack-env.ts,
 * the Pub/Sub wiring stack-pubsub.ts and the scheduler stand-in poll-timer.ts.
 */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import type { Logger } from '../shared/logging/index.ts';
import { loadCatalog } from '../shared/models/index.ts';
import { startBucketWatcher } from './bucket-watcher.ts';
import {
  assertPortFree,
  checkEmulatorPrerequisites,
  type RunningEmulator,
  startEmulator,
} from './emulators/index.ts';
import { exportFirestore, firestoreStateDir, savedFirestoreExport } from './firestore-state.ts';
import { type FunctionProcess, type FunctionSpec, startFunctionProcess } from './function-processes.ts';
import { startPollTimer } from './poll-timer.ts';
import { defaultPorts, portNames, type StackPorts } from './ports.ts';
import { functionEnv, type LocalWebhook } from './stack-env.ts';
import { acquireStackLock } from './stack-lock.ts';
import {
  deadLetterTopic,
  deliverWebhooksSubscription,
  eventsTopic,
  forwardMessages,
} from './stack-pubsub.ts';
import { startVertexEmulator, type VertexEmulatorOptions } from './vertex-emulator/index.ts';
import { startYandexEmulator } from './yandex-emulator/index.ts';

// Importers (the CLI, tests) reach these through the stack's own module.
export { defaultPorts, type StackPorts } from './ports.ts';
export { type LocalWebhook, localYandexFolder, webhookFunctionEnv } from './stack-env.ts';
export { deadLetterTopic, deliverWebhooksSubscription, eventsTopic } from './stack-pubsub.ts';

export interface LocalStackOptions {
  bucketDir: string;
  project?: string;
  region?: string;
  bucket?: string;
  ports?: Partial<StackPorts>;
  pollSeconds?: number;
  jobSeconds?: number;
  /** The Vertex AI emulator's concurrent jobs quota and list-filter mode (`tunedrop emulator vertex`). */
  vertex?: Pick<VertexEmulatorOptions, 'maxRunning' | 'listFilter'>;
  webhooks?: LocalWebhook[];
  /** More configuration for the functions (TUNEDROP_APPROVAL, ...), as the deployment sets it. */
  env?: Record<string, string>;
  logger: Logger;
  /** Every event published on the events topic, as it happens. */
  onEvent?: (event: Record<string, unknown>) => void;
  /** Every event the webhook subscription gave up on (its dead-letter topic), as it arrives. */
  onDeadLetter?: (event: Record<string, unknown>) => void;
  /** The functions' own log lines. */
  onFunctionLine?: (target: string, line: string) => void;
  /** Aborting it (Ctrl-C while starting) stops what has started and rejects with the reason. */
  signal?: AbortSignal;
  /** Start with empty Firestore data instead of what the last run on this bucket folder saved. */
  fresh?: boolean;
  /** How often the Firestore data is saved while running (default 10 s); also saved at stop. */
  saveStateSeconds?: number;
}

/** Where the stack's Firestore data came from: a previous run's snapshot, nothing, or --fresh. */
export interface StackState {
  origin: 'restored' | 'new' | 'fresh';
  /** The folder the data is saved to (and was restored from). */
  dir: string;
}

export interface LocalStack {
  bucketDir: string;
  bucket: string;
  project: string;
  ports: StackPorts;
  urls: {
    api: string;
    vertex: string;
    /** host:port of the Yandex AI Studio emulator's gRPC endpoint. */
    yandex: string;
    ingest: string;
    poll: string;
    webhooks: string;
  };
  state: StackState;
  /** Runs one poll now, as Cloud Scheduler would. */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Waits for every start, registering each success for the stop, before failing with the first
 * error: a stop after one part failed must still take the parts that started beside it.
 */
async function allStarted<T>(starts: Promise<T>[], onStarted: (started: T) => void): Promise<T[]> {
  const results = await Promise.allSettled(starts);
  for (const result of results) if (result.status === 'fulfilled') onStarted(result.value);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const project = options.project ?? 'tunedrop-local';
  const region = options.region ?? 'us-central1';
  const bucket = options.bucket ?? 'tunedrop-local';
  const ports: StackPorts = { ...defaultPorts, ...options.ports };
  const bucketDir = resolve(options.bucketDir);
  const { logger } = options;

  // Fail fast, before starting anything, on what would make a later step fail.
  options.signal?.throwIfAborted();
  checkEmulatorPrerequisites();
  mkdirSync(resolve(bucketDir, 'incoming'), { recursive: true });
  // One stack per bucket folder: a second one stops here, saying which process holds it.
  const lock = acquireStackLock(bucketDir);
  if (lock.tookOverFrom) {
    logger.info('took over the lock of a stack that is no longer running', { pid: lock.tookOverFrom.pid });
  }

  const stoppers: (() => Promise<void> | void)[] = [() => lock.release()];
  const stop = async () => {
    // Reverse order: stop the sources of work before what they call.
    for (const stopOne of stoppers.reverse()) {
      try {
        await stopOne();
      } catch (error) {
        logger.warn('while stopping the local stack', { error });
      }
    }
    stoppers.length = 0;
  };

  try {
    const seen = new Map<number, string>();
    for (const [key, port] of Object.entries(ports) as [keyof StackPorts, number][]) {
      const clash = seen.get(port);
      if (clash) throw new Error(`port ${port} is given to both ${clash} and ${portNames[key]}`);
      seen.set(port, portNames[key]);
      await assertPortFree(port, '127.0.0.1', portNames[key]);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const saved = options.fresh ? undefined : savedFirestoreExport(bucketDir);
  const state: StackState = {
    origin: options.fresh ? 'fresh' : saved ? 'restored' : 'new',
    dir: firestoreStateDir(bucketDir),
  };

  // Between steps: a Ctrl-C while starting stops here, and the catch below stops what started.
  const checkpoint = () => options.signal?.throwIfAborted();
  try {
    checkpoint();
    const emulators = await allStarted(
      [
        startEmulator('pubsub', { port: ports.pubsub }),
        startEmulator('firestore', { port: ports.firestore, importData: saved }),
      ],
      (emulator: RunningEmulator) => stoppers.push(() => emulator.stop()),
    );
    checkpoint();
    const [pubsubHost, firestoreHost] = emulators.map((emulator) => emulator.hostPort) as [string, string];
    process.env.PUBSUB_EMULATOR_HOST = pubsubHost;
    // Nothing local may wait on (or warn about) a metadata server that is not there.
    process.env.METADATA_SERVER_DETECTION = 'none';
    process.env.FIRESTORE_EMULATOR_HOST = firestoreHost;

    // Saved every few seconds and once more at stop (this stopper runs after the functions have
    // stopped, before the emulator does), so the next start on this folder picks up from here.
    let saving: Promise<void> = Promise.resolve();
    const save = () => {
      saving = saving.then(() =>
        exportFirestore(firestoreHost, project, bucketDir).catch((error: unknown) =>
          logger.warn('could not save the Firestore data', { error: (error as Error).message }),
        ),
      );
      return saving;
    };
    const saveTimer = setInterval(save, (options.saveStateSeconds ?? 10) * 1000);
    stoppers.push(async () => {
      clearInterval(saveTimer);
      await save();
    });

    const pubsub = new PubSub({ projectId: project, apiEndpoint: pubsubHost });
    stoppers.push(() => pubsub.close());
    const [topic] = await pubsub.createTopic(eventsTopic);
    const [deadLetter] = await pubsub.createTopic(deadLetterTopic);
    await deadLetter.createSubscription(`${deadLetterTopic}-inspect`);
    checkpoint();

    const vertex = await startVertexEmulator({
      port: ports.vertex,
      host: '127.0.0.1',
      jobSeconds: options.jobSeconds ?? 10,
      bucketDir,
      ...options.vertex,
      // The same catalog as the functions: the built-in one with the operator's override merged.
      catalog: await loadCatalog({
        overrideSource: options.env?.TUNEDROP_MODEL_CATALOG,
        readText: (source) => readFile(source, 'utf8'),
      }),
    });
    stoppers.push(() => vertex.close());
    checkpoint();

    const yandex = await startYandexEmulator({
      port: ports.yandex,
      uploadPort: ports.yandexUpload,
      host: '127.0.0.1',
      taskSeconds: options.jobSeconds ?? 10,
    });
    stoppers.push(() => yandex.close());
    checkpoint();

    const env = functionEnv({
      project,
      region,
      bucket,
      bucketDir,
      vertexUrl: vertex.url,
      yandexEndpoint: yandex.endpoint,
      firestoreHost,
      pubsubHost,
      webhooks: options.webhooks ?? [],
      extra: options.env ?? {},
      inherited: process.env,
    });

    const specs: FunctionSpec[] = [
      { target: 'ingestDataset', signatureType: 'cloudevent', port: ports.ingest },
      // Every request to `/` runs a poll: readiness asks the route that does not
      // (functions/poll-jobs healthPath; the local stack runs the functions, it imports none).
      {
        target: 'pollJobs',
        signatureType: 'http',
        port: ports.poll,
        readiness: { path: '/health', ok: true },
      },
      { target: 'deliverWebhooks', signatureType: 'cloudevent', port: ports.webhooks },
      { target: 'api', signatureType: 'http', port: ports.api },
    ];
    const functions = await allStarted(
      specs.map((spec) =>
        startFunctionProcess(spec, env, (target, line) => options.onFunctionLine?.(target, line)),
      ),
      (started: FunctionProcess) => stoppers.push(() => started.stop()),
    );
    checkpoint();
    const [ingest, poll, deliver, api] = functions as [
      FunctionProcess,
      FunctionProcess,
      FunctionProcess,
      FunctionProcess,
    ];

    // The Functions Framework turns a raw Pub/Sub push into the messagePublished CloudEvent when
    // the push path names the topic, so deliver-webhooks sees what Eventarc would send it.
    await topic.createSubscription(
      'deliver-webhooks',
      deliverWebhooksSubscription({
        pushEndpoint: `${deliver.url}/projects/${project}/topics/${eventsTopic}`,
        deadLetterTopic: deadLetter.name,
      }),
    );

    const [eventLog] = await topic.createSubscription('local-event-log');
    forwardMessages(eventLog, options.onEvent, logger, 'unreadable event on the topic');
    stoppers.push(() => eventLog.close());

    const [deadLetters] = await deadLetter.createSubscription('local-dead-letter-log');
    forwardMessages(deadLetters, options.onDeadLetter, logger, 'unreadable event on the dead-letter topic');
    stoppers.push(() => deadLetters.close());

    const watcher = startBucketWatcher({
      root: bucketDir,
      bucket,
      target: ingest.url,
      logger: logger.child({ part: 'bucket-watcher' }),
    });
    stoppers.push(() => watcher.close());
    checkpoint();

    // Cloud Scheduler stand-in: a poll every pollSeconds, never overlapping.
    const pollTimer = startPollTimer(poll.url, options.pollSeconds ?? 5, logger);
    stoppers.push(() => pollTimer.stop());

    lock.update({ apiUrl: api.url });
    return {
      bucketDir,
      bucket,
      project,
      ports,
      state,
      urls: {
        api: api.url,
        vertex: vertex.url,
        yandex: yandex.endpoint,
        ingest: ingest.url,
        poll: poll.url,
        webhooks: deliver.url,
      },
      poll: pollTimer.pollOnce,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
