/**
 * Delivers one event to every configured endpoint that wants its type, and says what happened to
 * each, without logging or throwing: the caller (functions/deliver-webhooks) logs the outcomes and
 * throws when one is retryable, so Pub/Sub redelivers the message. Endpoints are independent and
 * served concurrently; one slow or failing receiver never stops another from getting the event.
 *
 * Outcomes: `delivered` (2xx); `gone` (410: the receiver asked us to stop; recorded, never
 * retried); `refused` by the endpoint policy (permanent: retrying cannot help); `failed` (any other
 * status, a redirect, a timeout, a network or DNS error, the state store unreachable: retryable);
 * and the two skips, `already-delivered` (an earlier attempt at this event succeeded) and
 * `skipped-gone` (the endpoint answered 410 earlier and its configuration has not changed).
 */
import type { WebhookEndpoint } from '../config/index.ts';
import { checkEndpoint, type EndpointPolicy, type ResolveHost } from './endpoint-policy.ts';
import { signWebhook, webhookBody } from './signing.ts';
import {
  type DeliveryLedger,
  type EndpointStateStore,
  endpointFingerprintOf,
  endpointIdOf,
} from './state-store.ts';
import { httpTransport, type Transport } from './transport.ts';

export interface WebhookEvent {
  id: string;
  type: string;
  /** The event's time (RFC 3339): the body's `timestamp`. */
  time: string;
  data: unknown;
  /** Re-published by `tunedrop jobs replay`: the body says so. */
  replay?: boolean;
}

export interface DeliverOptions {
  endpoints: WebhookEndpoint[];
  policy: EndpointPolicy;
  timeoutMs: number;
  now: () => Date;
  endpointState: EndpointStateStore;
  deliveries: DeliveryLedger;
  /** How the POST is made; node:http(s) pinned to the checked address unless a test passes its own. */
  transport?: Transport;
  /** How host names resolve; dns.lookup unless a test passes its own. */
  resolve?: ResolveHost;
}

/** Where an outcome went, as it may be logged: never the query string, never a secret. */
export interface EndpointRef {
  endpointId: string;
  host: string;
  path: string;
}

export type FailureReason = 'status' | 'redirect' | 'timeout' | 'network' | 'unresolved' | 'state-store';

export type DeliveryOutcome = EndpointRef &
  (
    | { result: 'delivered'; status: number; attempt: number; latencyMs: number; recorded: boolean }
    | { result: 'gone'; status: 410; attempt: number; latencyMs: number; recorded: boolean }
    | { result: 'refused'; reason: string }
    | {
        result: 'failed';
        reason: FailureReason;
        detail: string;
        status?: number;
        attempt?: number;
        latencyMs?: number;
      }
    | { result: 'already-delivered' }
    | { result: 'skipped-gone'; goneAt: string }
  );

/** An outcome that a later attempt could change: the message must be redelivered. */
export const isRetryable = (outcome: DeliveryOutcome): boolean => outcome.result === 'failed';

export const wantsEvent = (endpoint: WebhookEndpoint, type: string): boolean =>
  endpoint.types.length === 0 || endpoint.types.includes(type);

/**
 * A path as it may be logged. Some receivers put their credential in the path itself (Slack's
 * /services/T…/B…/<token>, Discord's /api/webhooks/<id>/<token>), so a segment that looks like a
 * key (long, with digits or mixed case, or very long) is masked; readable names are kept.
 */
export function loggablePath(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => {
      const mixedCase = /[a-z]/.test(segment) && /[A-Z]/.test(segment);
      const looksRandom = segment.length > 16 && (/\d/.test(segment) || mixedCase);
      return looksRandom || segment.length > 32 ? '…' : segment;
    })
    .join('/');
}

function refOf(endpoint: WebhookEndpoint): EndpointRef {
  const endpointId = endpointIdOf(endpoint.url);
  try {
    const url = new URL(endpoint.url);
    // url.host never includes user:password; the query string is left out entirely.
    return { endpointId, host: url.host, path: loggablePath(url.pathname) };
  } catch {
    return { endpointId, host: '(invalid url)', path: '' };
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function deliverToEndpoint(
  event: WebhookEvent,
  endpoint: WebhookEndpoint,
  options: DeliverOptions,
): Promise<DeliveryOutcome> {
  const ref = refOf(endpoint);
  const fingerprint = endpointFingerprintOf(endpoint);
  const key = { eventId: event.id, endpointId: ref.endpointId };

  let attempt: number;
  try {
    const gone = await options.endpointState.getGone(ref.endpointId);
    if (gone && gone.fingerprint === fingerprint)
      return { ...ref, result: 'skipped-gone', goneAt: gone.goneAt };
    const start = await options.deliveries.beginAttempt(key, options.now());
    // A replay is an operator asking for the event again (a receiver lost it): it goes out even
    // to endpoints that had it, with the same webhook-id, and says it is a replay.
    if (start.delivered && !event.replay) return { ...ref, result: 'already-delivered' };
    attempt = start.delivered ? start.attempt + 1 : start.attempt;
  } catch (error) {
    return { ...ref, result: 'failed', reason: 'state-store', detail: describe(error) };
  }

  // A name that does not resolve (or not in time) is `unresolved`: retried, never delivered.
  const check = await checkEndpoint(endpoint.url, options.policy, options.resolve, {
    resolveTimeoutMs: options.timeoutMs,
  });
  if (check.verdict === 'refused') return { ...ref, result: 'refused', reason: check.reason };
  if (check.verdict === 'unresolved') {
    return { ...ref, result: 'failed', reason: 'unresolved', detail: check.reason, attempt };
  }

  const body = webhookBody(event);
  const headers = signWebhook({ id: event.id, at: options.now(), body, secrets: endpoint.secrets });
  const started = performance.now();
  const result = await (options.transport ?? httpTransport)({
    url: check.url,
    address: check.address,
    family: check.family,
    headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'tunedrop-webhooks/1' },
    body,
    timeoutMs: options.timeoutMs,
  });
  const latencyMs = Math.round(performance.now() - started);

  if (result.kind === 'timeout') {
    const detail = `no response within ${options.timeoutMs} ms`;
    return { ...ref, result: 'failed', reason: 'timeout', detail, attempt, latencyMs };
  }
  if (result.kind === 'network') {
    const detail = `${result.code}: ${result.message}`;
    return { ...ref, result: 'failed', reason: 'network', detail, attempt, latencyMs };
  }
  const status = result.status;
  if (status >= 200 && status < 300) {
    const recorded = await options.deliveries.markDelivered(key, options.now(), status).then(
      () => true,
      () => false,
    );
    return { ...ref, result: 'delivered', status, attempt, latencyMs, recorded };
  }
  if (status === 410) {
    const recorded = await options.endpointState
      .markGone({ ...ref, fingerprint, eventId: event.id, goneAt: options.now().toISOString() })
      .then(
        () => true,
        () => false,
      );
    return { ...ref, result: 'gone', status: 410, attempt, latencyMs, recorded };
  }
  if (status >= 300 && status < 400) {
    const detail = `redirect (${status}) not followed`;
    return { ...ref, result: 'failed', reason: 'redirect', detail, status, attempt, latencyMs };
  }
  return { ...ref, result: 'failed', reason: 'status', detail: `HTTP ${status}`, status, attempt, latencyMs };
}

/** One outcome per endpoint that wants this event type, in configuration order. */
export function deliverEvent(event: WebhookEvent, options: DeliverOptions): Promise<DeliveryOutcome[]> {
  const wanted = options.endpoints.filter((endpoint) => wantsEvent(endpoint, event.type));
  return Promise.all(wanted.map((endpoint) => deliverToEndpoint(event, endpoint, options)));
}
