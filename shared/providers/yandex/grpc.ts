/**
 * The gRPC plumbing for Yandex AI Studio: one channel tunedrop controls (TLS to
 * llm.api.cloud.yandex.net:443 by default; plaintext only when the configuration says the endpoint
 * is the local emulator), the SDK's generated clients for DatasetService, TuningService and
 * OperationService built with the SDK's own client factory, the token put in each call's metadata
 * (the SDK's Session always uses TLS and Bearer tokens only, so it is not used), and gRPC errors
 * turned into ProviderErrors (and repeatable calls retried on transient ones). Operations are
 * polled on the same llm host, as Yandex's docs and Python SDK do (the Node SDK's default operation
 * host differs).
 */
import { ChannelCredentials } from '@grpc/grpc-js';
import { datasetService } from '@yandex-cloud/nodejs-sdk/ai-dataset-v1';
import { tuningService } from '@yandex-cloud/nodejs-sdk/ai-tuning-v1';
import { clientFactory } from '@yandex-cloud/nodejs-sdk/dist/utils/client-factory';
import { operationService } from '@yandex-cloud/nodejs-sdk/operation';
import {
  type CallOptions,
  type Channel,
  ClientError,
  type ClientMiddleware,
  createChannel,
  Metadata,
  Status,
} from 'nice-grpc';
import { ProviderError } from '../types.ts';
import { AuthError, type AuthorizationSource } from './auth.ts';

export const defaultYandexEndpoint = 'llm.api.cloud.yandex.net:443';

export interface ChannelOptions {
  endpoint: string;
  /** True only for the local emulator: no TLS. */
  plaintext: boolean;
}

export function createYandexChannel(options: ChannelOptions): Channel {
  return createChannel(
    options.endpoint,
    options.plaintext ? ChannelCredentials.createInsecure() : ChannelCredentials.createSsl(),
    { 'grpc.keepalive_time_ms': 60_000 },
  );
}

/** Adds `authorization` to every call (plaintext channels cannot carry call credentials). */
function authMiddleware(authorization: AuthorizationSource): ClientMiddleware {
  return async function* addAuthorization(call, options: CallOptions) {
    const metadata = Metadata(options.metadata);
    metadata.set('authorization', await authorization());
    return yield* call.next(call.request, { ...options, metadata });
  };
}

export function createYandexClients(channel: Channel, authorization: AuthorizationSource) {
  const factory = clientFactory.use(authMiddleware(authorization));
  return {
    datasets: factory.create(datasetService.DatasetServiceService, channel),
    tuning: factory.create(tuningService.TuningServiceService, channel),
    operations: factory.create(operationService.OperationServiceService, channel),
  };
}
export type YandexClients = ReturnType<typeof createYandexClients>;

const httpByStatus: Partial<Record<Status, number>> = {
  [Status.CANCELLED]: 499,
  [Status.UNKNOWN]: 500,
  [Status.INVALID_ARGUMENT]: 400,
  [Status.DEADLINE_EXCEEDED]: 504,
  [Status.NOT_FOUND]: 404,
  [Status.ALREADY_EXISTS]: 409,
  [Status.PERMISSION_DENIED]: 403,
  [Status.RESOURCE_EXHAUSTED]: 429,
  [Status.FAILED_PRECONDITION]: 400,
  [Status.ABORTED]: 409,
  [Status.OUT_OF_RANGE]: 400,
  [Status.UNIMPLEMENTED]: 501,
  [Status.INTERNAL]: 500,
  [Status.UNAVAILABLE]: 503,
  [Status.DATA_LOSS]: 500,
  [Status.UNAUTHENTICATED]: 401,
};

const transientStatuses = new Set<Status>([
  Status.CANCELLED,
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.RESOURCE_EXHAUSTED,
  Status.ABORTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
]);

/**
 * A failed call as a ProviderError with the gRPC status name and an HTTP-like number, so the
 * pipeline's rules apply unchanged: RESOURCE_EXHAUSTED is 429 (certainly not created, QUEUED with
 * backoff), NOT_FOUND 404, UNAVAILABLE 503 and so on.
 */
export function providerErrorFrom(error: unknown, what: string): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof ClientError) {
    return new ProviderError(
      `${what}: ${error.details || Status[error.code]}`,
      httpByStatus[error.code] ?? 500,
      Status[error.code] ?? 'UNKNOWN',
      transientStatuses.has(error.code),
    );
  }
  if (error instanceof AuthError) {
    return new ProviderError(
      `${what}: ${error.message}`,
      error.transient ? 503 : 401,
      error.transient ? 'UNAVAILABLE' : 'UNAUTHENTICATED',
      error.transient,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError(`${what}: ${message}`, 0, 'UNAVAILABLE', true);
}

export const isGrpcStatus = (error: unknown, status: Status) =>
  error instanceof ClientError && error.code === status;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A call that is safe to repeat (a read, a Cancel), tried a few times with jitter on transient
 * errors. Never for Tune: it has no idempotency key, so a retry can start a second billed task.
 */
export async function retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (raw) {
      const error = providerErrorFrom(raw, what);
      if (!error.transient || attempt >= 3) throw error;
      await sleep(Math.random() * 250 * 2 ** (attempt - 1));
    }
  }
}
