/**
 * The Yandex AI Studio emulator judged by Yandex's own Node SDK: its generated clients (through the
 * SDK's client factory) over a plaintext channel, exactly as they would talk to llm.api.
 */
import { createHash } from 'node:crypto';
import { ChannelCredentials } from '@grpc/grpc-js';
import { datasetService, dataset as datasetTypes } from '@yandex-cloud/nodejs-sdk/ai-dataset-v1';
import { tuningService, tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { clientFactory } from '@yandex-cloud/nodejs-sdk/dist/utils/client-factory';
import { operationService } from '@yandex-cloud/nodejs-sdk/operation';
import { type Channel, ClientError, createChannel, Metadata, Status } from 'nice-grpc';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startYandexEmulator, typeUrls, type YandexEmulator } from '../../local/yandex-emulator/index.ts';

const folderId = 'b1gfolderemulator';
let emulator: YandexEmulator;
let channel: Channel;

function clients(auth = 'Bearer t1.emulator-token') {
  const defaults = { '*': { metadata: Metadata({ authorization: auth }) } };
  return {
    datasets: clientFactory.create(datasetService.DatasetServiceService, channel, defaults),
    tuning: clientFactory.create(tuningService.TuningServiceService, channel, defaults),
    operations: clientFactory.create(operationService.OperationServiceService, channel, defaults),
  };
}

const row = (index: number) =>
  JSON.stringify({
    request: [
      { role: 'system', text: 'You answer support questions.' },
      { role: 'user', text: `Question ${index}?` },
    ],
    response: `Answer ${index}.`,
  });
const validFile = Buffer.from(`${Array.from({ length: 12 }, (_, i) => row(i)).join('\n')}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createDataset(bytes: Buffer): Promise<string> {
  const { datasets } = clients();
  const created = await datasets.create(
    datasetService.CreateDatasetRequest.fromPartial({
      folderId,
      name: 'support-train',
      taskType: 'TextToTextGeneration',
      uploadFormat: 'jsonlines',
    }),
  );
  expect(created.dataset?.status).toBe(datasetTypes.DatasetInfo_Status.DRAFT);
  const { uploadUrl } = await datasets.getUploadDraftUrl({
    datasetId: created.datasetId,
    sizeBytes: bytes.length,
  });
  const put = await fetch(uploadUrl, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-length': String(bytes.length) },
  });
  expect(put.status).toBe(200);
  return created.datasetId;
}

async function validate(datasetId: string): Promise<datasetService.ValidateDatasetResponse> {
  const { datasets, operations } = clients();
  let op = await datasets.validate({ datasetId });
  expect(op.metadata?.typeUrl).toBe(typeUrls.validateMetadata);
  while (!op.done) {
    await sleep(50);
    op = await operations.get({ operationId: op.id });
  }
  expect(op.response?.typeUrl).toBe('type.googleapis.com/yandex.cloud.ai.dataset.v1.ValidateDatasetResponse');
  return datasetService.ValidateDatasetResponse.decode(op.response?.value ?? new Uint8Array());
}

beforeAll(async () => {
  emulator = await startYandexEmulator({
    taskSeconds: 2,
    validateMs: 100,
    describeDelayMs: 300,
    minPartBytes: 16,
  });
  channel = createChannel(emulator.endpoint, ChannelCredentials.createInsecure());
});
afterEach(() => emulator.reset());
afterAll(async () => {
  channel?.close();
  await emulator?.close();
});

describe('Yandex AI Studio emulator, driven by @yandex-cloud/nodejs-sdk', () => {
  it('creates, uploads and validates a dataset, tunes, and reports the tuned model on the operation', async () => {
    const datasetId = await createDataset(validFile);
    const validation = await validate(datasetId);
    expect(validation).toMatchObject({ datasetId, isValid: true, errors: [] });
    const { datasets, tuning, operations } = clients();
    const described = await datasets.describe({ datasetId });
    expect(described.dataset).toMatchObject({ status: datasetTypes.DatasetInfo_Status.READY, rows: 12 });

    const tuneOp = await tuning.tune(
      tuningService.TuningRequest.fromPartial({
        baseModelUri: `gpt://${folderId}/yandexgpt-lite/latest`,
        trainDatasets: [{ datasetId, weight: 1 }],
        textToTextCompletion: { lr: 0.0001, lora: { rank: 8, alpha: 16 } },
        name: 'support-job',
        labels: { 'tunedrop-job-id': 'abc123' },
      }),
      { retry: false },
    );
    expect(tuneOp.done).toBe(false);
    expect(tuneOp.metadata?.typeUrl).toBe('type.googleapis.com/yandex.cloud.ai.tuning.v1.TuningMetadata');
    const taskId = tuningService.TuningMetadata.decode(
      tuneOp.metadata?.value ?? new Uint8Array(),
    ).tuningTaskId;
    expect(taskId).toBe(tuneOp.id);

    // Right after Tune the task is not visible yet, as Yandex documents.
    await expect(tuning.describe({ tuningTaskId: taskId })).rejects.toMatchObject({ code: Status.NOT_FOUND });

    const seen = new Set<tuningTask.TuningTask_Status>();
    const steps: number[] = [];
    let op = tuneOp;
    while (!op.done) {
      await sleep(40);
      op = await operations.get({ operationId: tuneOp.id });
      const metadata = tuningService.TuningMetadata.decode(op.metadata?.value ?? new Uint8Array());
      seen.add(metadata.status);
      steps.push(metadata.currentStep);
      expect(metadata.totalSteps).toBeGreaterThan(0);
    }
    expect([...seen]).toEqual(
      expect.arrayContaining([
        tuningTask.TuningTask_Status.PENDING,
        tuningTask.TuningTask_Status.IN_PROGRESS,
        tuningTask.TuningTask_Status.COMPLETED,
      ]),
    );
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(op.response?.typeUrl).toBe('type.googleapis.com/yandex.cloud.ai.tuning.v1.TuningResponse');
    const result = tuningService.TuningResponse.decode(op.response?.value ?? new Uint8Array());
    expect(result.targetModelUri).toMatch(new RegExp(`^gpt://${folderId}/yandexgpt-lite/latest@tamr`));

    const { tuningTask: task } = await tuning.describe({ tuningTaskId: taskId });
    expect(task).toMatchObject({
      taskId,
      status: tuningTask.TuningTask_Status.COMPLETED,
      targetModelUri: result.targetModelUri,
      labels: { 'tunedrop-job-id': 'abc123' },
    });
    const listed = await tuning.list(
      tuningService.ListTuningsRequest.fromPartial({ folderId, pageSize: 10 }),
    );
    expect(listed.tuningTasks.map((t) => t.taskId)).toEqual([taskId]);
    const options = await tuning.getOptions({ taskId });
    expect(options.textToTextCompletion?.lora).toMatchObject({ rank: 8, alpha: 16 });
    expect((await tuning.listErrors({ tuningTaskId: taskId })).tuningError).toEqual([]);
  });

  it('uploads in parts with ETags and assembles them in order', async () => {
    const { datasets } = clients();
    const { datasetId } = await datasets.create(
      datasetService.CreateDatasetRequest.fromPartial({
        folderId,
        name: 'parts',
        taskType: 'TextToTextGeneration',
        uploadFormat: 'jsonlines',
      }),
    );
    const half = Math.ceil(validFile.length / 2);
    const parts = [validFile.subarray(0, half), validFile.subarray(half)];
    const { multipartUploadUrls } = await datasets.startMultipartUploadDraft(
      datasetService.StartMultipartUploadDraftRequest.fromPartial({
        datasetId,
        sizeBytes: validFile.length,
        parts: 2,
      }),
    );
    const uploaded = [];
    for (const [index, url] of multipartUploadUrls.entries()) {
      const body = parts[index] ?? Buffer.alloc(0);
      const response = await fetch(url, { method: 'PUT', body });
      expect(response.headers.get('etag')).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      uploaded.push({ partNum: index + 1, etag: response.headers.get('etag') ?? '' });
    }
    await datasets.finishMultipartUploadDraft({ datasetId, uploadedParts: uploaded });
    expect((await validate(datasetId)).isValid).toBe(true);
  });

  it('refuses a PUT whose length differs from the declared size', async () => {
    const { datasets } = clients();
    const { datasetId } = await datasets.create(
      datasetService.CreateDatasetRequest.fromPartial({
        folderId,
        name: 'size',
        taskType: 'TextToTextGeneration',
        uploadFormat: 'jsonlines',
      }),
    );
    const { uploadUrl } = await datasets.getUploadDraftUrl({ datasetId, sizeBytes: validFile.length + 1 });
    const response = await fetch(uploadUrl, { method: 'PUT', body: validFile });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('SignatureDoesNotMatch');
  });

  it('reports invalid rows with their row numbers', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => row(i));
    lines[2] = JSON.stringify({ request: [{ role: 'user', text: 'q' }] });
    lines[6] = JSON.stringify({ request: [{ role: 'robot', text: 'q' }], response: 'a' });
    lines[8] = '{not json';
    const datasetId = await createDataset(Buffer.from(lines.join('\n')));
    const result = await validate(datasetId);
    expect(result.isValid).toBe(false);
    const byKind = Object.fromEntries(result.errors.map((error) => [error.error, error.rowNumbers]));
    expect(byKind).toMatchObject({
      MISSING_FIELD: [3],
      INVALID_ROLE: [7],
      INVALID_JSON: [9],
      TOO_FEW_ROWS: [],
    });
    const { dataset } = await clients().datasets.describe({ datasetId });
    expect(dataset?.status).toBe(datasetTypes.DatasetInfo_Status.INVALID);
  });

  it('cancels a running task with a plain response, and the operation ends cancelled', async () => {
    const datasetId = await createDataset(validFile);
    await validate(datasetId);
    const { tuning, operations } = clients();
    const op = await tuning.tune(
      tuningService.TuningRequest.fromPartial({
        baseModelUri: `gpt://${folderId}/yandexgpt-lite/latest`,
        trainDatasets: [{ datasetId, weight: 1 }],
        textToTextCompletion: {},
      }),
      { retry: false },
    );
    await sleep(350);
    expect(await tuning.cancel({ tuningTaskId: op.id })).toEqual({ tuningTaskId: op.id });
    const after = await operations.get({ operationId: op.id });
    expect(after.done).toBe(true);
    expect(after.error?.code).toBe(Status.CANCELLED);
    const { tuningTask: task } = await tuning.describe({ tuningTaskId: op.id });
    expect(task?.status).toBe(tuningTask.TuningTask_Status.CANCELED);
  });

  it('answers faults on demand: quota, unavailable, failing and stalled tasks, unimplemented drafts', async () => {
    const datasetId = await createDataset(validFile);
    await validate(datasetId);
    const { tuning, operations } = clients();
    const request = tuningService.TuningRequest.fromPartial({
      baseModelUri: `gpt://${folderId}/yandexgpt-lite/latest`,
      trainDatasets: [{ datasetId, weight: 1 }],
      textToTextCompletion: {},
    });
    emulator.faults.set({ rateLimitTunes: 1 });
    await expect(tuning.tune(request, { retry: false })).rejects.toMatchObject({
      code: Status.RESOURCE_EXHAUSTED,
    });
    emulator.faults.set({ unavailableRate: 1 });
    await expect(
      tuning.list(tuningService.ListTuningsRequest.fromPartial({ folderId })),
    ).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    emulator.faults.set({ unavailableRate: 0, failNextTasks: 1 });
    let failed = await tuning.tune(request, { retry: false });
    while (!failed.done) {
      await sleep(50);
      failed = await operations.get({ operationId: failed.id });
    }
    expect(failed.error?.message).toMatch(/diverged/);
    const errors = await tuning.listErrors({ tuningTaskId: failed.id });
    expect(errors.tuningError[0]?.message).toMatch(/diverged/);
    emulator.faults.set({ stallNextTasks: 1, stallIn: 'PENDING' });
    const stalled = await tuning.tune(request, { retry: false });
    await sleep(2300);
    const still = await operations.get({ operationId: stalled.id });
    expect(still.done).toBe(false);
    expect(tuningService.TuningMetadata.decode(still.metadata?.value ?? new Uint8Array()).status).toBe(
      tuningTask.TuningTask_Status.PENDING,
    );
    await expect(
      tuning.createDraft(
        tuningService.CreateTuningDraftRequest.fromPartial({ baseModelUri: request.baseModelUri }),
      ),
    ).rejects.toMatchObject({
      code: Status.UNIMPLEMENTED,
    });
    await expect(tuning.tuneDraft({ tuningTaskId: stalled.id })).rejects.toMatchObject({
      code: Status.UNIMPLEMENTED,
    });
  });

  it('refuses calls without credentials and bad tuning requests', async () => {
    const anonymous = clientFactory.create(tuningService.TuningServiceService, channel);
    await expect(
      anonymous.list(tuningService.ListTuningsRequest.fromPartial({ folderId })),
    ).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    const { tuning } = clients('Api-Key AQVN-emulator');
    const error = await tuning
      .tune(
        tuningService.TuningRequest.fromPartial({
          baseModelUri: 'yandexgpt-lite',
          trainDatasets: [],
          textToTextCompletion: {},
        }),
        { retry: false },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.INVALID_ARGUMENT);
    expect((error as ClientError).details).toMatch(/gpt:\/\//);
  });
});
