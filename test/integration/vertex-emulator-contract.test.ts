/**
 * The Vertex AI emulator's v1 contract over real HTTP, as raw REST bodies: the concurrent jobs
 * quota, the list-filter modes, the model catalog, enums as names or numbers, v1-only fields,
 * continuous tuning (preTunedModel), dropped examples and checkpoints.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startVertexEmulator,
  type VertexEmulator,
  type VertexEmulatorOptions,
} from '../../local/vertex-emulator/index.ts';

const parent = 'projects/tunedrop-test/locations/us-central1';
let bucketDir: string;
const running: VertexEmulator[] = [];

interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: raw REST bodies, read field by field in each test
  body: any;
}

async function call(emulator: VertexEmulator, method: string, pathAndQuery: string, body?: unknown) {
  const response = await fetch(`${emulator.url}/v1/${pathAndQuery}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() } as ApiAnswer;
}

const create = (emulator: VertexEmulator, body: unknown) =>
  call(emulator, 'POST', `${parent}/tuningJobs`, body);
const list = (emulator: VertexEmulator, filter: string) =>
  call(emulator, 'GET', `${parent}/tuningJobs?filter=${encodeURIComponent(filter)}`);

const job = (overrides: Record<string, unknown> = {}) => ({
  baseModel: 'gemini-3.5-flash',
  supervisedTuningSpec: { trainingDatasetUri: 'gs://bucket/data/train.jsonl' },
  labels: { team: 'ml' },
  ...overrides,
});

async function emulatorWith(options: VertexEmulatorOptions = {}): Promise<VertexEmulator> {
  const emulator = await startVertexEmulator({ port: 0, jobSeconds: 60, bucketDir, ...options });
  running.push(emulator);
  return emulator;
}

beforeAll(async () => {
  bucketDir = await mkdtemp(path.join(tmpdir(), 'tunedrop-contract-'));
  await mkdir(path.join(bucketDir, 'data'), { recursive: true });
  const lines = Array.from({ length: 20 }, (_, i) =>
    JSON.stringify({
      contents: [
        { role: 'user', parts: [{ text: `Question ${i}?` }] },
        { role: 'model', parts: [{ text: `Answer ${i}.` }] },
      ],
    }),
  );
  await writeFile(path.join(bucketDir, 'data/train.jsonl'), `${lines.join('\n')}\n`);
});

afterAll(async () => {
  await Promise.all(running.map((emulator) => emulator.close()));
  if (bucketDir) await rm(bucketDir, { recursive: true, force: true });
});

describe('Vertex AI emulator: concurrent tuning jobs quota (--max-running)', () => {
  it('answers a create beyond the quota with 429 RESOURCE_EXHAUSTED and creates nothing, until a job ends', async () => {
    let now = Date.parse('2026-12-03T08:00:00Z');
    const emulator = await emulatorWith({ maxRunning: 2, now: () => now });
    expect((await create(emulator, job())).status).toBe(200);
    expect((await create(emulator, job())).status).toBe(200);
    const refused = await create(emulator, job());
    expect(refused.status).toBe(429);
    expect(refused.body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(refused.body.error.message).toContain('aiplatform.googleapis.com/global_concurrent_tuning_jobs');
    expect(await emulator.jobs()).toHaveLength(2);
    // The quota is per project, shared by every region.
    const otherRegion = await call(
      emulator,
      'POST',
      'projects/tunedrop-test/locations/europe-west4/tuningJobs',
      job(),
    );
    expect(otherRegion.status).toBe(429);
    expect(
      (await call(emulator, 'POST', 'projects/other/locations/us-central1/tuningJobs', job())).status,
    ).toBe(200);

    now += 61_000; // both jobs of the project have SUCCEEDED
    expect((await create(emulator, job())).status).toBe(200);
  });

  it('counts concurrent creates exactly: of ten at once, as many succeed as the quota allows', async () => {
    const emulator = await emulatorWith({ maxRunning: 3 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => create(emulator, job())));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(3);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(7);
  });
});

describe('Vertex AI emulator: how much of the list filter it honours (--list-filter)', () => {
  it('full: labels, state and create_time', async () => {
    const emulator = await emulatorWith();
    await create(emulator, job());
    expect((await list(emulator, 'labels.team="ml"')).body.tuningJobs).toHaveLength(1);
    expect((await list(emulator, 'labels.team="ops"')).body.tuningJobs).toBeUndefined();
    expect((await list(emulator, 'state=JOB_STATE_PENDING')).body.tuningJobs).toHaveLength(1);
  });

  it('state-only: a state filter works, a label filter answers 400 INVALID_ARGUMENT', async () => {
    const emulator = await emulatorWith({ listFilter: 'state-only' });
    await create(emulator, job());
    expect((await list(emulator, 'state=JOB_STATE_PENDING')).body.tuningJobs).toHaveLength(1);
    expect((await list(emulator, 'state!=JOB_STATE_PENDING')).body.tuningJobs).toBeUndefined();
    const refused = await list(emulator, 'labels.team="ml"');
    expect(refused.status).toBe(400);
    expect(refused.body.error.status).toBe('INVALID_ARGUMENT');
  });

  it('none: any filter answers 400 INVALID_ARGUMENT; no filter lists every job', async () => {
    const emulator = await emulatorWith({ listFilter: 'none' });
    await create(emulator, job());
    await create(emulator, job());
    const refused = await list(emulator, 'state=JOB_STATE_PENDING');
    expect(refused.status).toBe(400);
    expect(refused.body.error.status).toBe('INVALID_ARGUMENT');
    const all = await call(emulator, 'GET', `${parent}/tuningJobs`);
    expect(all.body.tuningJobs).toHaveLength(2);
  });
});

describe('Vertex AI emulator: models from the catalog', () => {
  it('refuses a base model whose retirement is confirmed and past, naming the date and the replacements', async () => {
    const emulator = await emulatorWith({ now: () => Date.parse('2026-12-03T08:00:00Z') });
    const refused = await create(emulator, job({ baseModel: 'gemini-2.0-flash-001' }));
    expect(refused.status).toBe(400);
    expect(refused.body.error.status).toBe('INVALID_ARGUMENT');
    expect(refused.body.error.message).toContain('retired on 2026-06-01');
    expect(refused.body.error.message).toContain('gemini-3.5-flash');
    expect(refused.body.error.details[0].fieldViolations[0].field).toBe('base_model');
    expect(await emulator.jobs()).toEqual([]);
  });

  it('accepts the same model before its retirement date, a model listed for an unconfirmed retirement, and one it does not know', async () => {
    const before = await emulatorWith({ now: () => Date.parse('2026-05-01T08:00:00Z') });
    expect((await create(before, job({ baseModel: 'gemini-2.0-flash-001' }))).status).toBe(200);
    const today = await emulatorWith();
    expect((await create(today, job({ baseModel: 'gemini-2.5-flash' }))).status).toBe(200);
    expect((await create(today, job({ baseModel: 'gemini-9.9-flash' }))).status).toBe(200);
    expect(
      (await create(today, job({ baseModel: 'publishers/google/models/gemini-3.5-flash-lite' }))).status,
    ).toBe(200);
  });

  it('refuses an adapter size the model does not offer, naming the sizes it does', async () => {
    const emulator = await emulatorWith();
    const hyper = (adapterSize: unknown) =>
      job({
        baseModel: 'gemini-2.5-pro',
        supervisedTuningSpec: {
          trainingDatasetUri: 'gs://bucket/data/train.jsonl',
          hyperParameters: { adapterSize },
        },
      });
    const refused = await create(emulator, hyper('ADAPTER_SIZE_SIXTEEN'));
    expect(refused.status).toBe(400);
    expect(refused.body.error.details[0].fieldViolations[0].field).toBe(
      'supervised_tuning_spec.hyper_parameters.adapter_size',
    );
    expect(refused.body.error.message).toContain('1, 2, 4, 8');
    expect(refused.body.error.message).toContain('ADAPTER_SIZE_EIGHT');
    // 4 is the wire value of ADAPTER_SIZE_SIXTEEN.
    expect((await create(emulator, hyper(4))).status).toBe(400);
    expect((await create(emulator, hyper('ADAPTER_SIZE_EIGHT'))).status).toBe(200);
  });
});

describe('Vertex AI emulator: proto3 JSON as v1 defines it', () => {
  it('takes enums by name or number and int64 as strings or numbers, and echoes names and strings', async () => {
    const emulator = await emulatorWith();
    const wire = {
      1: 'ADAPTER_SIZE_ONE',
      6: 'ADAPTER_SIZE_TWO',
      2: 'ADAPTER_SIZE_FOUR',
      3: 'ADAPTER_SIZE_EIGHT',
      4: 'ADAPTER_SIZE_SIXTEEN',
    };
    for (const [number, name] of Object.entries(wire)) {
      const created = await create(
        emulator,
        job({
          supervisedTuningSpec: {
            trainingDatasetUri: 'gs://bucket/data/train.jsonl',
            hyperParameters: { adapterSize: Number(number), epochCount: 4 },
          },
        }),
      );
      expect(created.status).toBe(200);
      expect(created.body.supervisedTuningSpec.hyperParameters).toEqual({
        adapterSize: name,
        epochCount: '4',
      });
    }
    // What Google's client libraries ask for over REST: enums back as numbers.
    const numeric = await call(
      emulator,
      'POST',
      `${parent}/tuningJobs?$alt=json%3Benum-encoding=int`,
      job({
        supervisedTuningSpec: {
          trainingDatasetUri: 'gs://bucket/data/train.jsonl',
          hyperParameters: { adapterSize: 'ADAPTER_SIZE_FOUR' },
        },
      }),
    );
    expect(numeric.body.state).toBe(2);
    expect(numeric.body.supervisedTuningSpec.hyperParameters.adapterSize).toBe(2);
  });

  it('accepts snake_case field names as proto3 JSON parsers must', async () => {
    const emulator = await emulatorWith();
    const created = await create(emulator, {
      base_model: 'gemini-3.5-flash',
      supervised_tuning_spec: {
        training_dataset_uri: 'gs://bucket/data/train.jsonl',
        export_last_checkpoint_only: true,
      },
      tuned_model_display_name: 'snake',
    });
    expect(created.status).toBe(200);
    expect(created.body.baseModel).toBe('gemini-3.5-flash');
    expect(created.body.supervisedTuningSpec.exportLastCheckpointOnly).toBe(true);
    expect(created.body.tunedModelDisplayName).toBe('snake');
  });

  it('refuses fields v1 does not have with Google\'s "Unknown name" wording, at their location', async () => {
    const emulator = await emulatorWith();
    const top = await create(emulator, job({ tuningMode: 'TUNING_MODE_FULL' }));
    expect(top.status).toBe(400);
    expect(top.body.error.status).toBe('INVALID_ARGUMENT');
    expect(top.body.error.message).toBe(
      'Invalid JSON payload received. Unknown name "tuningMode" at \'tuning_job\': Cannot find field.',
    );
    const nested = await create(
      emulator,
      job({
        supervisedTuningSpec: {
          trainingDatasetUri: 'gs://bucket/data/train.jsonl',
          tuningMode: 'TUNING_MODE_FULL',
        },
      }),
    );
    expect(nested.body.error.message).toBe(
      'Invalid JSON payload received. Unknown name "tuningMode" at \'tuning_job.supervised_tuning_spec\': Cannot find field.',
    );
    const outputUri = await create(emulator, job({ outputUri: 'gs://bucket/out' }));
    expect(outputUri.body.error.message).toContain('Unknown name "outputUri"');
    const badEnum = await create(
      emulator,
      job({
        supervisedTuningSpec: {
          trainingDatasetUri: 'gs://bucket/data/train.jsonl',
          hyperParameters: { adapterSize: 'HUGE' },
        },
      }),
    );
    expect(badEnum.status).toBe(400);
    expect(badEnum.body.error.message).toContain(
      "Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters.adapter_size'",
    );
    expect(await emulator.jobs()).toEqual([]);
  });
});

describe('Vertex AI emulator: continuous tuning, checkpoints and dropped examples', () => {
  const hour = 3_600_000;

  async function succeeded(emulator: VertexEmulator, clock: { ms: number }, body: unknown) {
    const created = await create(emulator, body);
    expect(created.status).toBe(200);
    clock.ms += hour;
    const done = await call(emulator, 'GET', created.body.name);
    expect(done.body.state).toBe('JOB_STATE_SUCCEEDED');
    return done.body;
  }

  it('takes checkpoints per epoch, about ten plus the final one over ten epochs, or only the last', async () => {
    const clock = { ms: Date.parse('2026-12-03T08:00:00Z') };
    const emulator = await emulatorWith({ jobSeconds: 60, now: () => clock.ms });
    const spec = (hyperParameters: unknown, exportLastCheckpointOnly?: boolean) =>
      job({
        supervisedTuningSpec: {
          trainingDatasetUri: 'gs://bucket/data/train.jsonl',
          hyperParameters,
          exportLastCheckpointOnly,
        },
      });

    const three = await succeeded(emulator, clock, spec({ epochCount: '3' }));
    expect(three.tunedModel.checkpoints.map((c: { epoch: string }) => c.epoch)).toEqual(['1', '2', '3']);
    for (const checkpoint of three.tunedModel.checkpoints) {
      expect(checkpoint).toEqual({
        checkpointId: expect.any(String),
        epoch: expect.stringMatching(/^\d+$/),
        step: expect.stringMatching(/^\d+$/),
        endpoint: expect.stringMatching(/^projects\/tunedrop-test\/locations\/us-central1\/endpoints\/\d+$/),
      });
    }
    expect(three.tunedModel.endpoint).toBe(three.tunedModel.checkpoints.at(-1).endpoint);

    const forty = await succeeded(emulator, clock, spec({ epochCount: 40 }));
    expect(forty.tunedModel.checkpoints).toHaveLength(11);
    expect(forty.tunedModel.checkpoints.at(-1).epoch).toBe('40');

    const last = await succeeded(emulator, clock, spec({ epochCount: 5 }, true));
    expect(last.tunedModel.checkpoints.map((c: { epoch: string }) => c.epoch)).toEqual(['5']);
  });

  it('continues from a tuned model: fills its output-only baseModel, versions the model, refuses unknown models and checkpoints', async () => {
    const clock = { ms: Date.parse('2026-12-03T08:00:00Z') };
    const emulator = await emulatorWith({ jobSeconds: 60, now: () => clock.ms });
    const first = await succeeded(
      emulator,
      clock,
      job({ baseModel: 'gemini-3.1-flash-lite', tunedModelDisplayName: 'bot' }),
    );
    const model: string = first.tunedModel.model;
    expect(model).toMatch(/^projects\/tunedrop-test\/locations\/us-central1\/models\/\d+@1$/);

    const continued = await create(emulator, {
      preTunedModel: { tunedModelName: model, checkpointId: '2', baseModel: 'ignored' },
      supervisedTuningSpec: { trainingDatasetUri: 'gs://bucket/data/train.jsonl' },
    });
    expect(continued.status).toBe(200);
    expect(continued.body.preTunedModel).toEqual({
      tunedModelName: model,
      checkpointId: '2',
      baseModel: 'gemini-3.1-flash-lite',
    });
    expect(continued.body.baseModel).toBeUndefined();
    clock.ms += hour;
    const second = (await call(emulator, 'GET', continued.body.name)).body;
    expect(second.tunedModel.model).toBe(model.replace(/@1$/, '@2'));

    // Without a version: the latest; a chain keeps its first base model.
    const third = await create(emulator, {
      preTunedModel: { tunedModelName: model.replace(/@1$/, '') },
      supervisedTuningSpec: { trainingDatasetUri: 'gs://bucket/data/train.jsonl' },
    });
    expect(third.body.preTunedModel.baseModel).toBe('gemini-3.1-flash-lite');

    const both = await create(emulator, job({ preTunedModel: { tunedModelName: model } }));
    expect(both.status).toBe(400);
    expect(both.body.error.message).toContain("Oneof field 'source_model' is already set");
    const unknown = await create(emulator, {
      preTunedModel: { tunedModelName: 'projects/tunedrop-test/locations/us-central1/models/42@1' },
      supervisedTuningSpec: { trainingDatasetUri: 'gs://bucket/data/train.jsonl' },
    });
    expect(unknown.status).toBe(404);
    const badCheckpoint = await create(emulator, {
      preTunedModel: { tunedModelName: model, checkpointId: '99' },
      supervisedTuningSpec: { trainingDatasetUri: 'gs://bucket/data/train.jsonl' },
    });
    expect(badCheckpoint.status).toBe(400);
    expect(badCheckpoint.body.error.details[0].fieldViolations[0].field).toBe(
      'pre_tuned_model.checkpoint_id',
    );
  });

  it('drops over-limit examples into tuningDataStats, and fails the job before training above 10%', async () => {
    const clock = { ms: Date.parse('2026-12-03T08:00:00Z') };
    const emulator = await emulatorWith({ jobSeconds: 60, now: () => clock.ms });
    // 131,072 tokens per example for gemini-3.5-flash; the emulator counts 4 characters a token.
    const huge = 'x'.repeat(4 * 140_000);
    const line = (text: string) =>
      JSON.stringify({
        contents: [
          { role: 'user', parts: [{ text }] },
          { role: 'model', parts: [{ text: 'ok' }] },
        ],
      });
    const write = (name: string, bigAt: number[], count: number) =>
      writeFile(
        path.join(bucketDir, 'data', name),
        `${Array.from({ length: count }, (_, i) => line(bigAt.includes(i + 1) ? huge : `short ${i}`)).join('\n')}\n`,
      );
    await write('few-big.jsonl', [7], 20); // 5% dropped: trains
    await write('many-big.jsonl', [2, 3, 5], 20); // 15% dropped: fails

    const few = await succeeded(
      emulator,
      clock,
      job({ supervisedTuningSpec: { trainingDatasetUri: 'gs://bucket/data/few-big.jsonl' } }),
    );
    const stats = few.tuningDataStats.supervisedTuningDataStats;
    expect(stats.totalTruncatedExampleCount).toBe('1');
    expect(stats.truncatedExampleIndices).toEqual(['7']);
    expect(stats.droppedExampleReasons).toHaveLength(1);
    expect(stats.droppedExampleReasons[0]).toContain('131072');
    expect(stats.tuningDatasetExampleCount).toBe('20');

    const many = await create(
      emulator,
      job({ supervisedTuningSpec: { trainingDatasetUri: 'gs://bucket/data/many-big.jsonl' } }),
    );
    clock.ms += hour;
    const failed = (await call(emulator, 'GET', many.body.name)).body;
    expect(failed.state).toBe('JOB_STATE_FAILED');
    expect(failed.startTime).toBeUndefined();
    expect(failed.error.code).toBe(3);
    expect(failed.error.message).toContain('3 of 20');
    expect(failed.tuningDataStats.supervisedTuningDataStats.truncatedExampleIndices).toEqual(['2', '3', '5']);
  });
});
