/**
 * Standard Webhooks (https://www.standardwebhooks.com): the signature is
 * `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)), the key being the base64 after
 * `whsec_`. `webhook-id` is the event id, so it is the same on every retry and receivers dedupe on
 * it; `webhook-timestamp` is the time of this attempt, so a captured request cannot be replayed
 * outside the receiver's tolerance. While a secret rotates every secret signs, space-separated.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const secretPrefix = 'whsec_';

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The body every endpoint receives: `{type, timestamp, data}`, timestamp being the event's time. */
export function webhookBody(event: { type: string; time: string; data: unknown; replay?: boolean }): string {
  // A replay keeps the webhook-id (receivers deduplicate on it) and says it is one.
  return JSON.stringify({
    type: event.type,
    timestamp: event.time,
    ...(event.replay ? { replay: true } : {}),
    data: event.data ?? null,
  });
}

function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error('a webhook secret must decode to at least one byte');
  return key;
}

function signatureOf(key: Buffer, id: string, timestamp: number, body: string): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

const unixSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** The three headers for one delivery attempt, signed with every secret given. */
export function signWebhook(input: {
  id: string;
  at: Date;
  body: string;
  secrets: string[];
}): WebhookHeaders {
  if (input.secrets.length === 0) throw new Error('at least one webhook secret is needed to sign');
  const timestamp = unixSeconds(input.at);
  const signatures = input.secrets.map(
    (secret) => `v1,${signatureOf(keyOf(secret), input.id, timestamp, input.body)}`,
  );
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  };
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/**
 * Checks a delivery the way a receiver must: the required headers, the timestamp within
 * `toleranceSeconds` of `now` (default 5 minutes, as the standard), and at least one `v1`
 * signature matching one of `secrets`. For our own tests, CLI and demo receiver.
 */
export function verifyWebhook(input: {
  body: string;
  headers: Record<string, string | string[] | undefined>;
  secrets: string[];
  now: Date;
  toleranceSeconds?: number;
}): VerifyResult {
  const header = (name: string) => {
    const entry = Object.entries(input.headers).find(([key]) => key.toLowerCase() === name);
    const value = entry?.[1];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header('webhook-id');
  const timestampHeader = header('webhook-timestamp');
  const signatureHeader = header('webhook-signature');
  if (!id || !timestampHeader || !signatureHeader) return { ok: false, reason: 'missing webhook headers' };
  if (!/^\d+$/.test(timestampHeader)) return { ok: false, reason: 'invalid webhook-timestamp' };
  const timestamp = Number(timestampHeader);
  const tolerance = input.toleranceSeconds ?? 300;
  if (Math.abs(unixSeconds(input.now) - timestamp) > tolerance) {
    return { ok: false, reason: 'webhook-timestamp outside the tolerance' };
  }
  const offered = signatureHeader
    .split(' ')
    .map((part) => part.split(','))
    .filter(([version, value]) => version === 'v1' && value)
    .map(([, value]) => Buffer.from(value ?? '', 'base64'));
  for (const secret of input.secrets) {
    const expected = Buffer.from(signatureOf(keyOf(secret), id, timestamp, input.body), 'base64');
    if (
      offered.some(
        (candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected),
      )
    ) {
      return { ok: true };
    }
  }
  return { ok: false, reason: 'no matching signature' };
}
