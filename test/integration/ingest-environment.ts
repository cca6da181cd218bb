/**
 * What the ingest integration tests share: a folder standing in for the bucket, clients of the
 * Firestore and Pub/Sub emulators started by the global setup, and a Vertex AI emulator reading
 * datasets from that folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Firestore } from '@google-cloud/firestore';
import type { CloudEvent as FrameworkEvent } from '@google-cloud/functions-framework';
import { PubSub } from '@google-cloud/pubsub';
import { startVertexEmulator, type VertexEmulator } from '../../local/vertex-emulator/index.ts';
import { createFirestore } from '../../shared/jobs/index.ts';
import type { TuningProvider } from '../../shared/providers/types.ts';
import { createVertexProvider } from '../../shared/providers/vertex/index.ts';
import { createLocalBlobStore } from '../../shared/storage/index.ts';
import { uniqueName } from '../support/names.ts';

export const project = process.env.GOOGLE_CLOUD_PROJECT ?? 'tunedrop-test';
export const bucket = 'tunedrop-test-bucket';

export interface IngestEnvironment {
  root: string;
  firestore: Firestore;
  pubsub: PubSub;
  emulator: VertexEmulator;
  provider: TuningProvider;
  stop(): Promise<void>;
}

export async function startIngestEnvironment(prefix: string): Promise<IngestEnvironment> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const firestore = createFirestore({ project });
  const pubsub = new PubSub({ projectId: project });
  // Jobs never finish on their own here: each test moves them as it needs.
  const emulator = await startVertexEmulator({ port: 0, jobSeconds: 3600, bucketDir: root });
  const provider = createVertexProvider({ project, region: 'us-central1', endpoint: emulator.url });
  return {
    root,
    firestore,
    pubsub,
    emulator,
    provider,
    async stop() {
      await emulator.close();
      await firestore.terminate();
      await pubsub.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** One valid example: a user question and the model's answer. */
export const example = (question: string, answer: string) =>
  JSON.stringify({
    contents: [
      { role: 'user', parts: [{ text: question }] },
      { role: 'model', parts: [{ text: answer }] },
    ],
  });

/** The finalized CloudEvent Eventarc would deliver for a file of the bucket folder as it is now. */
export async function finalizedEvent(
  root: string,
  name: string,
  overrides: Record<string, unknown> = {},
): Promise<FrameworkEvent<unknown>> {
  const info = await createLocalBlobStore({ root }).stat(bucket, name);
  if (!info) throw new Error(`no ${name}`);
  return {
    specversion: '1.0',
    id: uniqueName('ce'),
    type: 'google.cloud.storage.object.v1.finalized',
    source: `//storage.googleapis.com/projects/_/buckets/${bucket}`,
    subject: `objects/${name}`,
    time: new Date().toISOString(),
    data: {
      bucket,
      name,
      generation: info.generation,
      metageneration: '1',
      size: String(info.size),
      contentType: info.contentType,
      timeCreated: info.updateTime,
      updated: info.updateTime,
      ...overrides,
    },
  };
}
