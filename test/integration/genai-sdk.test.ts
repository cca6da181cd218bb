/**
 * A client no one here wrote: Google's `@google/genai` SDK, in Vertex AI mode on API v1, pointed
 * at the emulator. If the SDK and the emulator disagree, the emulator is wrong.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GoogleGenAI, JobState, type TuningJob } from '@google/genai';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVertexEmulator, type VertexEmulator } from '../../local/vertex-emulator/index.ts';

const project = 'tunedrop-sdk';
const location = 'us-central1';
let bucketDir: string;
let emulator: VertexEmulator;
let ai: GoogleGenAI;

/** An auth client holding a fixed, unexpired token: no metadata server, no token endpoint. */
function offlineAuthClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'emulator-token', expiry_date: Date.now() + 24 * 3600 * 1000 });
  return client;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForState(name: string, state: JobState): Promise<TuningJob> {
  for (;;) {
    const job = await ai.tunings.get({ name });
    if (job.state === state) return job;
    await sleep(50);
  }
}

beforeAll(async () => {
  bucketDir = await mkdtemp(path.join(tmpdir(), 'tunedrop-genai-'));
  await mkdir(path.join(bucketDir, 'datasets'), { recursive: true });
  const lines = Array.from({ length: 20 }, (_, i) =>
    JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: `Translate "cat ${i}" to French.` }] },
        { role: 'model', parts: [{ text: `chat ${i}` }] },
      ],
    }),
  );
  await writeFile(path.join(bucketDir, 'datasets/train.jsonl'), `${lines.join('\n')}\n`);
  emulator = await startVertexEmulator({ port: 0, jobSeconds: 1, bucketDir });
  ai = new GoogleGenAI({
    vertexai: true,
    project,
    location,
    apiVersion: 'v1',
    httpOptions: { baseUrl: emulator.url },
    googleAuthOptions: { authClient: offlineAuthClient() },
  });
});

afterAll(async () => {
  await emulator?.close();
  if (bucketDir) await rm(bucketDir, { recursive: true, force: true });
});

describe('Google Gen AI SDK against the Vertex AI emulator', () => {
  it('creates, gets, lists and cancels tuning jobs, and sees one succeed', async () => {
    const job = await ai.tunings.tune({
      baseModel: 'gemini-2.5-flash',
      trainingDataset: { gcsUri: 'gs://sdk-bucket/datasets/train.jsonl' },
      config: { tunedModelDisplayName: 'sdk-model', epochCount: 2, labels: { origin: 'sdk' } },
    });
    expect(job.name).toMatch(new RegExp(`^projects/${project}/locations/${location}/tuningJobs/\\d+$`));
    expect(job.state).toBe(JobState.JOB_STATE_PENDING);
    expect(job.labels).toEqual({ origin: 'sdk' });
    const name = job.name as string;

    const fetched = await ai.tunings.get({ name });
    expect(fetched.name).toBe(name);
    expect(fetched.baseModel).toBe('gemini-2.5-flash');
    expect(fetched.tunedModelDisplayName).toBe('sdk-model');

    const other = await ai.tunings.tune({
      baseModel: 'gemini-2.5-flash',
      trainingDataset: { gcsUri: 'gs://sdk-bucket/datasets/train.jsonl' },
    });
    await ai.tunings.cancel({ name: other.name as string });

    const listed: string[] = [];
    const pager = await ai.tunings.list({ config: { pageSize: 1 } });
    for await (const item of pager) listed.push(item.name as string);
    expect(listed.sort()).toEqual([name, other.name].sort());

    const filtered = await ai.tunings.list({ config: { filter: 'labels.origin="sdk"' } });
    expect(filtered.page.map((item) => item.name)).toEqual([name]);

    const cancelled = await waitForState(other.name as string, JobState.JOB_STATE_CANCELLED);
    expect(cancelled.error?.code).toBe(1);

    const succeeded = await waitForState(name, JobState.JOB_STATE_SUCCEEDED);
    expect(succeeded.tunedModel?.model).toMatch(/\/models\/\d+@1$/);
    expect(succeeded.tunedModel?.endpoint).toMatch(/\/endpoints\/\d+$/);
    expect(succeeded.tuningDataStats?.supervisedTuningDataStats?.tuningDatasetExampleCount).toBe('20');
    expect(succeeded.experiment).toBeDefined();
  });

  it('surfaces the emulator 400 as an SDK error with the status in it', async () => {
    const error = await ai.tunings
      .tune({
        baseModel: 'gemini-1.5-flash-002',
        trainingDataset: { gcsUri: 'gs://sdk-bucket/datasets/train.jsonl' },
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain('INVALID_ARGUMENT');
  });
});
