/**
 * The environment the local stack gives every function process: what the deployment sets
 * (project, bucket, topic, provider endpoints) pointed at the local emulators, the webhook
 * receivers, and the operator's extra settings (options.env, e.g. from `.env`).
 */
import { resolve } from 'node:path';
import { eventsTopic } from './stack-pubsub.ts';

export interface LocalWebhook {
  url: string;
  secret: string;
  types?: string[];
}

/** The folder id the local stack gives Yandex jobs (the emulator accepts any). */
export const localYandexFolder = 'b1glocalstack';

/**
 * The webhook part of the functions' environment, with `extra` (options.env, e.g. from `.env`)
 * merged in. The receiver list and the loopback allow-list are the stack's own, built from the
 * receivers it was given (their secrets under WEBHOOK_SECRET_<n>): `extra` may not replace them.
 */
export function webhookFunctionEnv(
  webhooks: LocalWebhook[],
  extra: Record<string, string>,
): Record<string, string> {
  const secrets = Object.fromEntries(webhooks.map((hook, index) => [`WEBHOOK_SECRET_${index}`, hook.secret]));
  const list = webhooks.map((hook, index) => ({
    url: hook.url,
    secretEnv: `WEBHOOK_SECRET_${index}`,
    types: hook.types ?? [],
  }));
  const allowHosts = [...new Set(webhooks.map((hook) => new URL(hook.url).hostname))];
  return {
    TUNEDROP_WEBHOOK_REQUIRE_HTTPS: 'false',
    ...secrets,
    ...extra,
    TUNEDROP_WEBHOOKS: JSON.stringify(list),
    // Only the receivers the user named on the command line may be on loopback.
    TUNEDROP_WEBHOOK_ALLOW_HOSTS: allowHosts.join(','),
  };
}

export interface FunctionEnvInput {
  project: string;
  region: string;
  bucket: string;
  bucketDir: string;
  vertexUrl: string;
  /** host:port of the Yandex AI Studio emulator's gRPC endpoint. */
  yandexEndpoint: string;
  firestoreHost: string;
  pubsubHost: string;
  webhooks: LocalWebhook[];
  /** options.env: more configuration, as the deployment sets it. */
  extra: Record<string, string>;
  /** The environment the stack was started from: its TUNEDROP_MODEL_CATALOG reaches the functions. */
  inherited: NodeJS.ProcessEnv;
}

export function functionEnv(input: FunctionEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    GOOGLE_CLOUD_PROJECT: input.project,
    TUNEDROP_REGION: input.region,
    TUNEDROP_BUCKET: input.bucket,
    TUNEDROP_BUCKET_DIR: input.bucketDir,
    TUNEDROP_EVENTS_TOPIC: eventsTopic,
    TUNEDROP_VERTEX_ENDPOINT: input.vertexUrl,
    // Yandex AI Studio on its emulator: plaintext gRPC, any API key (options.env may override).
    TUNEDROP_YANDEX_FOLDER_ID: localYandexFolder,
    TUNEDROP_YANDEX_ENDPOINT: input.yandexEndpoint,
    TUNEDROP_YANDEX_PLAINTEXT: 'true',
    TUNEDROP_YANDEX_API_KEY: 'local-emulator',
    FIRESTORE_EMULATOR_HOST: input.firestoreHost,
    PUBSUB_EMULATOR_HOST: input.pubsubHost,
    METADATA_SERVER_DETECTION: 'none',
    // Every function listens on loopback only (functions/server-hook.ts).
    TUNEDROP_LISTEN_HOST: '127.0.0.1',
    ...webhookFunctionEnv(input.webhooks, input.extra),
  };
  // The operator's model catalog (from .env, or the shell the stack was started from) reaches
  // the functions, a relative path made absolute: they run from the repository's folder.
  const modelCatalog = env.TUNEDROP_MODEL_CATALOG ?? input.inherited.TUNEDROP_MODEL_CATALOG;
  if (modelCatalog) {
    env.TUNEDROP_MODEL_CATALOG = modelCatalog.startsWith('gs://') ? modelCatalog : resolve(modelCatalog);
  }
  return env;
}
