/**
 * The Yandex AI Studio emulator: DatasetService, TuningService and OperationService over plaintext
 * gRPC on one port (the SDK's generated definitions, so the official clients work unchanged apart
 * from the channel), and on a second port the plain HTTP endpoint that upload URLs point at
 * (gRPC and an S3-style PUT do not share one), plus an admin API under `/emulator/`.
 *
 * Upload rules follow S3 presigned URLs: a PUT must send exactly the Content-Length that
 * `size_bytes` declared (the URL is signed over it); a multipart part answers an ETag to quote in
 * FinishMultipartUploadDraft.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { datasetService } from '@yandex-cloud/nodejs-sdk/ai-dataset-v1';
import { tuningService, tuningTask } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { operationService } from '@yandex-cloud/nodejs-sdk/operation';
import type { Logger } from '../../shared/logging/index.ts';
import { builtinCatalog } from '../../shared/models/index.ts';
import { type YandexFaultSettings, YandexFaults, YandexFaultUpdate } from './faults.ts';
import {
  datasetServiceImpl,
  operationServiceImpl,
  type ServiceContext,
  tuningServiceImpl,
} from './services.ts';
import { taskProgress, World } from './state.ts';

export interface YandexEmulatorOptions {
  /** gRPC port; 0 picks a free one. */
  port?: number;
  /** HTTP port for uploads and the admin API; 0 (default) picks a free one. */
  uploadPort?: number;
  host?: string;
  /** Tune to COMPLETED. Default 10 s. */
  taskSeconds?: number;
  /** Validate to its Operation being done. Default 500 ms. */
  validateMs?: number;
  /** Describe/List answer NOT_FOUND for this long after Tune. Default 1000 ms. */
  describeDelayMs?: number;
  /** Smallest non-final multipart part (S3: 5 MiB). */
  minPartBytes?: number;
  /** Largest single upload this emulator keeps in memory. Default 256 MiB. */
  maxUploadBytes?: number;
  faults?: YandexFaultUpdate;
  /** Datasets one folder may hold; Create answers RESOURCE_EXHAUSTED beyond. Default 10, as at Yandex. */
  datasetQuota?: number;
  /** Implement the draft RPCs (CreateDraft/TuneDraft/DeleteDraft); default false: UNIMPLEMENTED, as upstream. */
  draftRpcs?: boolean;
  logger?: Logger;
  now?: () => number;
  random?: () => number;
}

export interface EmulatedTask {
  id: string;
  status: string;
  labels: Record<string, string>;
  baseModelUri: string;
  currentStep: number;
  totalSteps: number;
  cancelled: boolean;
}

export interface YandexEmulator {
  /** host:port of the gRPC endpoint (what a channel is created on). */
  endpoint: string;
  port: number;
  /** http://host:port of the upload and admin endpoint. */
  uploadUrl: string;
  uploadPort: number;
  faults: { set(update: YandexFaultUpdate): YandexFaultSettings; get(): YandexFaultSettings; reset(): void };
  /** Calls received per RPC ("TuningService/Tune" …), faulted ones included. */
  stats(): Record<string, number>;
  tasks(): EmulatedTask[];
  /** Datasets the emulator holds (every folder): what a test counts to see none is left behind. */
  datasets(): { id: string; folderId: string; labels: Record<string, string> }[];
  reset(): void;
  close(): Promise<void>;
}

const maxJsonBytes = 64 * 1024;

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': typeof body === 'string' ? 'application/xml' : 'application/json',
    ...headers,
  });
  response.end(text);
}

const s3Error = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

async function readAll(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startYandexEmulator(options: YandexEmulatorOptions = {}): Promise<YandexEmulator> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const logger = options.logger;
  const maxUploadBytes = options.maxUploadBytes ?? 256 * 1024 * 1024;
  const world = new World(
    { taskMs: (options.taskSeconds ?? 10) * 1000, validateMs: options.validateMs ?? 500 },
    now,
  );
  const faults = new YandexFaults(options.faults, options.random);
  const stats = new Map<string, number>();
  let uploadBase = '';
  const tunable = builtinCatalog()
    .models.filter((model) => model.provider === 'yandex')
    .flatMap((model) => [model.id, ...model.aliases]);
  const context: ServiceContext = {
    world,
    faults,
    now,
    describeDelayMs: options.describeDelayMs ?? 1000,
    uploadBase: () => uploadBase,
    minPartBytes: options.minPartBytes ?? 5 * 1024 * 1024,
    tunableModels: () => tunable,
    datasetQuota: options.datasetQuota ?? 10,
    draftRpcs: options.draftRpcs ?? false,
    stats,
    ...(logger ? { logger } : {}),
  };

  const http = createServer((request, response) => {
    handleHttp(request, response).catch((error) => {
      logger?.error('yandex emulator http handler crashed', { error });
      if (!response.headersSent) send(response, 500, s3Error('InternalError', 'internal error'));
      else response.destroy();
    });
  });

  async function handleHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://emulator');
    const draft = /^\/drafts\/([a-z0-9]+)$/.exec(url.pathname);
    if (draft && request.method === 'PUT') return handleUpload(draft[1] ?? '', url, request, response);
    if (url.pathname.startsWith('/emulator/')) return handleAdmin(url, request, response);
    send(response, 404, s3Error('NoSuchKey', 'The specified key does not exist.'));
  }

  async function handleUpload(
    datasetId: string,
    url: URL,
    request: IncomingMessage,
    response: ServerResponse,
  ) {
    const dataset = world.datasets.get(datasetId);
    const upload = dataset?.upload;
    if (!dataset || !upload || url.searchParams.get('X-Amz-Signature') !== upload.token) {
      return send(response, 403, s3Error('SignatureDoesNotMatch', 'The request signature does not match.'));
    }
    // The draft is sealed once Validate has run: its URLs no longer accept bytes.
    if (dataset.validation)
      return send(response, 403, s3Error('AccessDenied', 'The dataset is no longer a draft.'));
    const declared = request.headers['content-length'];
    if (declared === undefined) {
      return send(
        response,
        411,
        s3Error('MissingContentLength', 'You must provide the Content-Length header.'),
      );
    }
    const length = Number(declared);
    if (length > maxUploadBytes)
      return send(response, 400, s3Error('EntityTooLarge', 'too large for the emulator'));
    const bytes = await readAll(request, maxUploadBytes);
    if (!bytes || bytes.length !== length) {
      return send(response, 400, s3Error('IncompleteBody', 'The body is shorter than Content-Length.'));
    }
    if (upload.kind === 'single') {
      // The presigned URL is signed over content-length: any other size is a signature mismatch.
      if (length !== upload.sizeBytes) {
        return send(
          response,
          403,
          s3Error('SignatureDoesNotMatch', 'Content-Length differs from size_bytes.'),
        );
      }
      dataset.bytes = bytes;
      return send(response, 200, '', { etag: `"${createHash('md5').update(bytes).digest('hex')}"` });
    }
    const partNumber = Number(url.searchParams.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > upload.parts) {
      return send(response, 400, s3Error('InvalidArgument', 'partNumber is out of range'));
    }
    const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
    upload.received.set(partNumber, { bytes, etag });
    return send(response, 200, '', { etag });
  }

  function taskView(id: string): EmulatedTask | undefined {
    const task = world.tasks.get(id);
    if (!task) return undefined;
    const progress = taskProgress(task, now(), world.timing);
    return {
      id: task.id,
      status: tuningTask.TuningTask_Status[progress.status] ?? String(progress.status),
      labels: task.labels,
      baseModelUri: task.request.baseModelUri,
      currentStep: progress.currentStep,
      totalSteps: task.totalSteps,
      cancelled: task.cancelledAt !== undefined,
    };
  }
  const tasks = () =>
    [...world.tasks.values()]
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((task) => taskView(task.id))
      .filter((task): task is EmulatedTask => task !== undefined);

  async function handleAdmin(url: URL, request: IncomingMessage, response: ServerResponse) {
    const route = `${request.method} ${url.pathname}`;
    if (route === 'GET /emulator/tasks') return send(response, 200, { tasks: tasks() });
    if (route === 'GET /emulator/stats') return send(response, 200, Object.fromEntries(stats));
    if (route === 'GET /emulator/faults') return send(response, 200, faults.get());
    if (route === 'POST /emulator/reset') {
      reset();
      return send(response, 200, {});
    }
    if (route === 'POST /emulator/faults') {
      const body = await readAll(request, maxJsonBytes);
      let parsed: ReturnType<typeof YandexFaultUpdate.safeParse>;
      try {
        parsed = YandexFaultUpdate.safeParse(JSON.parse(body?.toString('utf8') || '{}'));
      } catch {
        return send(response, 400, { error: 'body is not JSON' });
      }
      if (!parsed.success) return send(response, 400, { error: parsed.error.message });
      return send(response, 200, faults.set(parsed.data));
    }
    send(response, 404, { error: `no admin route ${route}` });
  }

  function reset() {
    world.reset();
    faults.reset();
    stats.clear();
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.uploadPort ?? 0, host, () => resolve());
  });
  const uploadPort = (http.address() as AddressInfo).port;
  uploadBase = `http://${host}:${uploadPort}`;

  const grpc = new Server();
  grpc.addService(datasetService.DatasetServiceService, datasetServiceImpl(context));
  grpc.addService(tuningService.TuningServiceService, tuningServiceImpl(context));
  grpc.addService(operationService.OperationServiceService, operationServiceImpl(context));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      grpc.bindAsync(`${host}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
  } catch (error) {
    await new Promise((resolve) => http.close(resolve));
    throw error;
  }

  return {
    endpoint: `${host}:${port}`,
    port,
    uploadUrl: uploadBase,
    uploadPort,
    faults,
    stats: () => Object.fromEntries(stats),
    tasks,
    datasets: () =>
      [...world.datasets.values()].map(({ id, folderId, labels }) => ({
        id,
        folderId,
        labels: { ...labels },
      })),
    reset,
    async close() {
      await new Promise<void>((resolve) => grpc.tryShutdown(() => resolve()));
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
