import { dataset as datasetTypes } from '@yandex-cloud/nodejs-sdk/ai-dataset-v1';
import { ClientError, Status } from 'nice-grpc';
import { describe, expect, it } from 'vitest';
import { ensureDataset } from '../../../../shared/providers/yandex/datasets.ts';
import type { YandexClients } from '../../../../shared/providers/yandex/grpc.ts';

const { DatasetInfo_Status: DatasetStatus } = datasetTypes;

/** A folder where a duplicate delivery already created, uploaded and validated this record's draft. */
function racedFolder(failing: 'getUploadDraftUrl' | 'startMultipartUploadDraft') {
  const calls: string[] = [];
  const statuses = [DatasetStatus.VALIDATING, DatasetStatus.READY];
  const refuse = async (name: string) => {
    calls.push(name);
    throw new ClientError(
      `/DatasetService/${name}`,
      Status.FAILED_PRECONDITION,
      'dataset is no longer a draft',
    );
  };
  const fake = {
    datasets: {
      async list() {
        calls.push('list');
        return {
          datasets: [
            datasetTypes.DatasetInfo.fromPartial({
              datasetId: 'fds1',
              status: DatasetStatus.DRAFT,
              labels: {
                'tunedrop-job-id': 'rec1',
                'tunedrop-dataset-role': 'train',
                'tunedrop-deployment': 'unit',
              },
            }),
          ],
          nextPageToken: '',
        };
      },
      getUploadDraftUrl: () =>
        failing === 'getUploadDraftUrl' ? refuse('getUploadDraftUrl') : { uploadUrl: 'http://x' },
      startMultipartUploadDraft: () => refuse('startMultipartUploadDraft'),
      async describe({ datasetId }: { datasetId: string }) {
        calls.push('describe');
        return { dataset: { datasetId, status: statuses.length > 1 ? statuses.shift() : statuses[0] } };
      },
      async validate() {
        calls.push('validate');
        return { id: 'op' };
      },
      async delete() {
        calls.push('delete');
        return {};
      },
    },
  } as unknown as YandexClients;
  return { fake, calls };
}

const options = (clients: YandexClients, chunkBytes: number) => ({
  clients,
  folderId: 'b1gf',
  deploymentId: 'unit',
  recordId: 'rec1',
  role: 'train' as const,
  bytes: async () => Buffer.from('{"request":[],"response":"x"}\n'),
  chunkBytes,
  validationTimeoutMs: 60_000,
  pollIntervalMs: 1,
  fetch: (async () => new Response('', { status: 200 })) as typeof fetch,
  now: Date.now,
  sleep: async () => {},
});

describe('a Yandex dataset raced by a duplicate delivery', () => {
  it.each([
    ['a single upload (GetUploadDraftUrl)', 'getUploadDraftUrl' as const, 1024],
    ['a multipart upload (StartMultipartUploadDraft)', 'startMultipartUploadDraft' as const, 4],
  ])(
    'waits for the other upload and its verdict when %s answers FAILED_PRECONDITION',
    async (_what, failing, chunk) => {
      const { fake, calls } = racedFolder(failing);
      expect(await ensureDataset(options(fake, chunk))).toBe('fds1');
      expect(calls).toContain(failing);
      expect(calls).not.toContain('validate');
      expect(calls).not.toContain('delete');
    },
  );
});
