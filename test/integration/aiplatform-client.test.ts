/**
 * A second client no one here wrote: Google's `@google-cloud/aiplatform` v1
 * `GenAiTuningServiceClient` over its REST fallback, pointed at the emulator through a recording
 * pass-through, so the test also shows what the client puts on the wire (enums as numbers with
 * `$alt=json;enum-encoding=int`, int64 as strings) and that the emulator takes exactly that.
 * If the client and the emulator disagree, the emulator is wrong.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { v1 } from '@google-cloud/aiplatform';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVertexEmulator, type VertexEmulator } from '../../local/vertex-emulator/index.ts';

const parent = 'projects/tunedrop-aip/locations/us-central1';
const hour = 3_600_000;
let bucketDir: string;
let emulator: VertexEmulator;
let proxy: Server;
let client: InstanceType<typeof v1.GenAiTuningServiceClient>;
const clock = { ms: Date.parse('2026-12-03T08:00:00Z') };
/** Every request the client sent: method, path with query, and the JSON body if any. */
const sent: { method: string; url: string; body: unknown }[] = [];

/** An auth client holding a fixed, unexpired token: no metadata server, no token endpoint. */
function offlineAuthClient(): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 'emulator-token', expiry_date: Date.now() + 24 * 3600 * 1000 });
  return auth;
}

/** Forwards to the emulator unchanged, recording each request. */
function recordingProxy(target: number): Promise<Server> {
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      sent.push({
        method: incoming.method ?? '',
        url: incoming.url ?? '',
        body: text ? JSON.parse(text) : undefined,
      });
      const forward = httpRequest(
        {
          host: '127.0.0.1',
          port: target,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forward.end(text);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const lastSent = (method: string) => sent.filter((entry) => entry.method === method).at(-1);

beforeAll(async () => {
  bucketDir = await mkdtemp(path.join(tmpdir(), 'tunedrop-aip-'));
  await mkdir(path.join(bucketDir, 'data'), { recursive: true });
  const lines = Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: `Summarise ticket ${i}.` }] },
        { role: 'model', parts: [{ text: `Ticket ${i}: resolved.` }] },
      ],
    }),
  );
  await writeFile(path.join(bucketDir, 'data/train.jsonl'), `${lines.join('\n')}\n`);
  emulator = await startVertexEmulator({ port: 0, jobSeconds: 60, bucketDir, now: () => clock.ms });
  proxy = await recordingProxy(emulator.port);
  client = new v1.GenAiTuningServiceClient({
    apiEndpoint: '127.0.0.1',
    port: (proxy.address() as AddressInfo).port,
    protocol: 'http',
    fallback: true,
    authClient: offlineAuthClient(),
  } as unknown as ConstructorParameters<typeof v1.GenAiTuningServiceClient>[0]);
});

afterAll(async () => {
  await client?.close();
  await new Promise((resolve) => proxy?.close(resolve));
  await emulator?.close();
  if (bucketDir) await rm(bucketDir, { recursive: true, force: true });
});

describe('@google-cloud/aiplatform GenAiTuningServiceClient (v1, REST fallback) against the Vertex AI emulator', () => {
  it('creates with an adapter size as the client encodes it, gets, lists, and sees the job succeed with checkpoints', async () => {
    const [created] = await client.createTuningJob({
      parent,
      tuningJob: {
        baseModel: 'gemini-3.5-flash',
        tunedModelDisplayName: 'aip-model',
        supervisedTuningSpec: {
          trainingDatasetUri: 'gs://aip-bucket/data/train.jsonl',
          hyperParameters: { adapterSize: 'ADAPTER_SIZE_FOUR', epochCount: 4 },
        },
        labels: { origin: 'aiplatform' },
      },
    });
    // On the wire: the enum as its number, int64 as a string, and the numeric-enum query.
    const wire = lastSent('POST');
    expect(wire?.url).toContain('$alt=json%3Benum-encoding=int');
    expect(wire?.body).toMatchObject({
      baseModel: 'gemini-3.5-flash',
      supervisedTuningSpec: { hyperParameters: { adapterSize: 2, epochCount: '4' } },
    });
    expect(created.name).toMatch(new RegExp(`^${parent}/tuningJobs/\\d+$`));
    expect(created.state).toBe('JOB_STATE_PENDING');
    expect(created.supervisedTuningSpec?.hyperParameters?.adapterSize).toBe('ADAPTER_SIZE_FOUR');
    expect(String(created.supervisedTuningSpec?.hyperParameters?.epochCount)).toBe('4');
    const name = created.name as string;

    const [fetched] = await client.getTuningJob({ name });
    expect(fetched.baseModel).toBe('gemini-3.5-flash');
    expect(fetched.labels).toEqual({ origin: 'aiplatform' });

    const [listed] = await client.listTuningJobs(
      { parent, filter: 'labels.origin="aiplatform"', pageSize: 10 },
      { autoPaginate: false },
    );
    expect(listed.map((job) => job.name)).toContain(name);
    expect(lastSent('GET')?.url).toContain('filter=labels.origin');

    clock.ms += hour;
    const [done] = await client.getTuningJob({ name });
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    expect(done.tunedModel?.model).toMatch(new RegExp(`^${parent.replace('/', '\\/')}/models/\\d+@1$`));
    const checkpoints = done.tunedModel?.checkpoints ?? [];
    expect(checkpoints.map((checkpoint) => String(checkpoint.epoch))).toEqual(['1', '2', '3', '4']);
    expect(checkpoints.every((checkpoint) => checkpoint.endpoint?.startsWith(`${parent}/endpoints/`))).toBe(
      true,
    );
    expect(done.tunedModel?.endpoint).toBe(checkpoints.at(-1)?.endpoint);
    expect(String(done.tuningDataStats?.supervisedTuningDataStats?.tuningDatasetExampleCount)).toBe('40');
  });

  it('continues from the tuned model with preTunedModel and gets its base model filled in', async () => {
    const [base] = await client.createTuningJob({
      parent,
      tuningJob: {
        baseModel: 'gemini-3.1-flash-lite',
        supervisedTuningSpec: {
          trainingDatasetUri: 'gs://aip-bucket/data/train.jsonl',
          exportLastCheckpointOnly: true,
        },
      },
    });
    clock.ms += hour;
    const [succeeded] = await client.getTuningJob({ name: base.name as string });
    expect(succeeded.tunedModel?.checkpoints).toHaveLength(1);
    const model = succeeded.tunedModel?.model as string;

    const [continued] = await client.createTuningJob({
      parent,
      tuningJob: {
        preTunedModel: { tunedModelName: model, checkpointId: '1' },
        supervisedTuningSpec: { trainingDatasetUri: 'gs://aip-bucket/data/train.jsonl' },
      },
    });
    expect(lastSent('POST')?.body).toMatchObject({
      preTunedModel: { tunedModelName: model, checkpointId: '1' },
    });
    expect(continued.preTunedModel?.baseModel).toBe('gemini-3.1-flash-lite');
    expect(continued.baseModel).toBeFalsy();
    clock.ms += hour;
    const [next] = await client.getTuningJob({ name: continued.name as string });
    expect(next.tunedModel?.model).toBe(model.replace(/@1$/, '@2'));
  });

  it('cancels a job: CANCELLING, then CANCELLED with error code 1', async () => {
    const [created] = await client.createTuningJob({
      parent,
      tuningJob: {
        baseModel: 'gemini-3.5-flash-lite',
        supervisedTuningSpec: { trainingDatasetUri: 'gs://aip-bucket/data/train.jsonl' },
      },
    });
    const name = created.name as string;
    await client.cancelTuningJob({ name });
    const [cancelling] = await client.getTuningJob({ name });
    expect(cancelling.state).toBe('JOB_STATE_CANCELLING');
    clock.ms += 2_000;
    const [cancelled] = await client.getTuningJob({ name });
    expect(cancelled.state).toBe('JOB_STATE_CANCELLED');
    expect(cancelled.error?.code).toBe(1);
  });

  it("surfaces the emulator's 400 for a retired model and an adapter size the model lacks as INVALID_ARGUMENT", async () => {
    const retired = await client
      .createTuningJob({
        parent,
        tuningJob: {
          baseModel: 'gemini-2.0-flash-001',
          supervisedTuningSpec: { trainingDatasetUri: 'gs://aip-bucket/data/train.jsonl' },
        },
      })
      .then(
        () => ({ code: 0, message: 'created' }),
        (caught: unknown) => caught as { code?: number; message?: string },
      );
    expect(retired).toMatchObject({ code: 3 });
    expect(retired.message).toContain('retired on 2026-06-01');

    const tooLarge = await client
      .createTuningJob({
        parent,
        tuningJob: {
          baseModel: 'gemini-2.5-pro',
          supervisedTuningSpec: {
            trainingDatasetUri: 'gs://aip-bucket/data/train.jsonl',
            hyperParameters: { adapterSize: 'ADAPTER_SIZE_SIXTEEN' },
          },
        },
      })
      .then(
        () => ({ code: 0, message: 'created' }),
        (caught: unknown) => caught as { code?: number; message?: string },
      );
    expect(tooLarge).toMatchObject({ code: 3 });
    expect(tooLarge.message).toContain('1, 2, 4, 8');
  });
});
