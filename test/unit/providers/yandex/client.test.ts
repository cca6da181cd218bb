import { tuningService, tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { ClientError, Status } from 'nice-grpc';
import { describe, expect, it } from 'vitest';
import type { TuningSpec } from '../../../../shared/jobs/model.ts';
import { createMemoryLogger, type Logger } from '../../../../shared/logging/index.ts';
import { createYandexProvider } from '../../../../shared/providers/yandex/client.ts';
import type { YandexClients } from '../../../../shared/providers/yandex/grpc.ts';

const { TuningTask_Status: TaskStatus } = tuningTask;

function task(taskId: string, status: tuningTask.TuningTask_Status, recordId: string, createdAt: string) {
  return tuningTask.TuningTask.fromPartial({
    taskId,
    status,
    labels: { 'tunedrop-job-id': recordId, 'tunedrop-managed': 'true', 'tunedrop-deployment': 'unit' },
    createdAt: new Date(createdAt),
  });
}

interface FakeOptions {
  tasks?: tuningTask.TuningTask[];
  probe?: Status;
  createDraft?: Status | 'ok';
}

function fakeClients(options: FakeOptions = {}) {
  const calls = {
    tune: 0,
    createDraft: [] as tuningService.CreateTuningDraftRequest[],
    tuneDraft: [] as string[],
  };
  const operation = (taskId: string) => ({
    id: `op-${taskId}`,
    metadata: {
      typeUrl: '',
      value: tuningService.TuningMetadata.encode(
        tuningService.TuningMetadata.fromPartial({ tuningTaskId: taskId, status: TaskStatus.CREATED }),
      ).finish(),
    },
  });
  const fake = {
    tuning: {
      async list() {
        return { tuningTasks: options.tasks ?? [], nextPageToken: '' };
      },
      async tuneDraft(request: { tuningTaskId: string }) {
        calls.tuneDraft.push(request.tuningTaskId);
        if (request.tuningTaskId === '')
          throw new ClientError('/TuneDraft', options.probe ?? Status.UNIMPLEMENTED, 'probe');
        return operation(request.tuningTaskId);
      },
      async createDraft(request: tuningService.CreateTuningDraftRequest) {
        calls.createDraft.push(request);
        const answer = options.createDraft ?? 'ok';
        if (answer !== 'ok') throw new ClientError('/CreateDraft', answer, 'x');
        return { tuningTaskId: 'draft1' };
      },
      async tune() {
        calls.tune++;
        return operation(`tuned${calls.tune}`);
      },
    },
    datasets: {
      async describe({ datasetId }: { datasetId: string }) {
        return { dataset: { datasetId, status: 3 /* READY */ } };
      },
    },
    operations: {
      async get() {
        return {};
      },
    },
  } as unknown as YandexClients;
  return { fake, calls };
}

function provider(clients: YandexClients, logger?: Logger) {
  return createYandexProvider({
    folderId: 'b1gf',
    deploymentId: 'unit',
    auth: { kind: 'iam-token', iamToken: 'unused' },
    readDataset: async () => Buffer.from(''),
    clients,
    ...(logger ? { logger } : {}),
  });
}

const spec = (validation: boolean): TuningSpec => ({
  provider: 'yandex',
  baseModel: 'yandexgpt-lite',
  trainingDatasetUri: 'gs://b/validated/r/train.jsonl',
  ...(validation ? { validationDatasetUri: 'gs://b/validated/r/validation.jsonl' } : {}),
  labels: {},
});

describe('the Yandex client', () => {
  it('never lists a DRAFT task: the poller cannot adopt a draft that was never started', async () => {
    const { fake } = fakeClients({
      tasks: [
        task('draft0', TaskStatus.DRAFT, 'rec1', '2026-12-01T00:00:00Z'),
        task('real1', TaskStatus.IN_PROGRESS, 'rec1', '2026-12-01T00:05:00Z'),
      ],
    });
    const client = provider(fake);
    const page = await client.listJobs({ labels: { 'tunedrop-job-id': 'rec1' } });
    expect(page.jobs.map((job) => job.name)).toEqual(['folders/b1gf/tuningTasks/real1']);
    expect((await client.findJobByRecordId('rec1'))?.name).toBe('folders/b1gf/tuningTasks/real1');
  });

  it("lists only this deployment's tasks; a lookup by record id also sees an older tunedrop's, never another deployment's", async () => {
    const labelled = (taskId: string, deployment: string | undefined, createdAt: string) =>
      tuningTask.TuningTask.fromPartial({
        taskId,
        status: TaskStatus.IN_PROGRESS,
        labels: {
          'tunedrop-job-id': 'rec1',
          'tunedrop-managed': 'true',
          ...(deployment ? { 'tunedrop-deployment': deployment } : {}),
        },
        createdAt: new Date(createdAt),
      });
    const { fake } = fakeClients({
      tasks: [
        labelled('theirs', 'staging', '2026-12-01T00:00:00Z'),
        labelled('legacy', undefined, '2026-12-01T00:01:00Z'),
        labelled('mine', 'unit', '2026-12-01T00:05:00Z'),
      ],
    });
    const logger = createMemoryLogger();
    const client = provider(fake, logger);
    const page = await client.listJobs({ labels: { 'tunedrop-managed': 'true' } });
    expect(page.jobs.map((job) => job.name)).toEqual(['folders/b1gf/tuningTasks/mine']);
    // The oldest task of the record id is another deployment's: never seen. The older tunedrop's
    // may be this deployment's own start from before the upgrade: a lookup adopts it rather than
    // tuning again (or recording a cancel while it runs).
    const byRecord = await client.listJobs({ labels: { 'tunedrop-job-id': 'rec1' } });
    expect(byRecord.jobs.map((job) => job.name)).toEqual([
      'folders/b1gf/tuningTasks/legacy',
      'folders/b1gf/tuningTasks/mine',
    ]);
    expect((await client.findJobByRecordId('rec1'))?.name).toBe('folders/b1gf/tuningTasks/legacy');
    // The older tunedrop's task is named once per process, with what to do.
    const warnings = logger.entries.filter((entry) => String(entry.message).includes('without the'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.tasks).toEqual(['folders/b1gf/tuningTasks/legacy']);
    expect(warnings[0]?.message).toContain('tunedrop-deployment=unit');
  });

  it("never tunes another deployment's draft of the same record id; creates its own, labelled with its deployment", async () => {
    const theirs = tuningTask.TuningTask.fromPartial({
      taskId: 'their-draft',
      status: TaskStatus.DRAFT,
      labels: { 'tunedrop-job-id': 'rec1', 'tunedrop-managed': 'true', 'tunedrop-deployment': 'staging' },
      createdAt: new Date('2026-12-01T00:00:00Z'),
    });
    const { fake, calls } = fakeClients({ tasks: [theirs], probe: Status.INVALID_ARGUMENT });
    const client = provider(fake);
    await client.createJob(spec(false), 'rec1', { datasets: { train: 'fdsA' } });
    expect(calls.tuneDraft).toEqual(['', 'draft1']);
    expect(calls.createDraft[0]?.labels).toMatchObject({
      'tunedrop-job-id': 'rec1',
      'tunedrop-deployment': 'unit',
    });
  });

  it("refuses to delete a dataset that is not this deployment's", async () => {
    const deleted: string[] = [];
    const fake = {
      datasets: {
        async delete({ datasetId }: { datasetId: string }) {
          deleted.push(datasetId);
          return {};
        },
      },
    } as unknown as YandexClients;
    const client = provider(fake);
    for (const deployment of ['staging', undefined])
      await expect(
        client.deleteDataset?.({
          provider: 'yandex',
          id: 'fdsX',
          recordId: 'rec1',
          ...(deployment ? { deployment } : {}),
        }),
      ).rejects.toThrow(/not this deployment's/);
    // Proof that one of this deployment's records names it frees an unlabelled dataset, never
    // another deployment's.
    await expect(
      client.deleteDataset?.(
        { provider: 'yandex', id: 'fdsX', recordId: 'rec1', deployment: 'staging' },
        { namedByOwnRecord: true },
      ),
    ).rejects.toThrow(/not this deployment's/);
    await client.deleteDataset?.({ provider: 'yandex', id: 'fdsY', recordId: 'rec1', deployment: 'unit' });
    await client.deleteDataset?.(
      { provider: 'yandex', id: 'fdsZ', recordId: 'rec1' },
      { namedByOwnRecord: true },
    );
    expect(deleted).toEqual(['fdsY', 'fdsZ']);
  });

  it('uses Tune, and stops trying drafts, when CreateDraft answers UNIMPLEMENTED after a positive probe', async () => {
    const { fake, calls } = fakeClients({
      probe: Status.INVALID_ARGUMENT,
      createDraft: Status.UNIMPLEMENTED,
    });
    const client = provider(fake);
    const first = await client.createJob(spec(false), 'rec1', { datasets: { train: 'fdsA' } });
    expect(first.name).toBe('folders/b1gf/tuningTasks/tuned1');
    expect(calls.createDraft).toHaveLength(1);
    const second = await client.createJob(spec(false), 'rec2', { datasets: { train: 'fdsB' } });
    expect(second.name).toBe('folders/b1gf/tuningTasks/tuned2');
    expect(calls.createDraft).toHaveLength(1);
    expect(await client.draftRpcsAvailable()).toBe(false);
  });

  it('passes the validation dataset to CreateDraft where drafts are implemented', async () => {
    const { fake, calls } = fakeClients({ probe: Status.INVALID_ARGUMENT });
    const client = provider(fake);
    const job = await client.createJob(spec(true), 'rec1', {
      datasets: { train: 'fdsA', validation: 'fdsV' },
    });
    expect(job.name).toBe('folders/b1gf/tuningTasks/draft1');
    expect(calls.tune).toBe(0);
    expect(calls.createDraft[0]?.validationDatasets).toEqual([{ datasetId: 'fdsV', weight: 1 }]);
    expect(calls.tuneDraft).toEqual(['', 'draft1']);
  });
});

describe('the Yandex client preparing datasets at ingest', () => {
  /** `validation`: the validation dataset's status (2 VALIDATING, 4 INVALID); Describe of it fails with `failure`. */
  function folder(validation: number, failure: Status) {
    const deleted: string[] = [];
    const fake = {
      datasets: {
        async list() {
          // Both datasets were uploaded and validated before (an earlier attempt).
          return {
            datasets: [
              {
                datasetId: 'fdsT',
                status: 3,
                labels: {
                  'tunedrop-job-id': 'rec1',
                  'tunedrop-dataset-role': 'train',
                  'tunedrop-deployment': 'unit',
                },
              },
              {
                datasetId: 'fdsV',
                status: validation,
                validationError: [{ error: 'bad', errorDescription: 'bad row', rowNumbers: [3] }],
                labels: {
                  'tunedrop-job-id': 'rec1',
                  'tunedrop-dataset-role': 'validation',
                  'tunedrop-deployment': 'unit',
                },
              },
            ],
            nextPageToken: '',
          };
        },
        async describe({ datasetId }: { datasetId: string }) {
          if (datasetId === 'fdsV') throw new ClientError('/Describe', failure, 'x');
          return { dataset: { datasetId, status: 3 } };
        },
        async delete({ datasetId }: { datasetId: string }) {
          deleted.push(datasetId);
          return {};
        },
      },
    } as unknown as YandexClients;
    return { fake, deleted };
  }

  it('keeps the training dataset when the validation dataset fails for a reason other than its rows', async () => {
    const { fake, deleted } = folder(2, Status.PERMISSION_DENIED);
    await expect(provider(fake).prepareDatasets?.(spec(true), 'rec1')).rejects.toMatchObject({
      httpStatus: 403,
    });
    expect(deleted).toEqual([]);
  });

  it("deletes the training dataset when Validate refused the validation dataset's rows", async () => {
    const { fake, deleted } = folder(4, Status.PERMISSION_DENIED);
    await expect(provider(fake).prepareDatasets?.(spec(true), 'rec1')).rejects.toMatchObject({
      httpStatus: 400,
    });
    expect(deleted).toContain('fdsT');
  });
});
