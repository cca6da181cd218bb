/**
 * What webhook delivery remembers between invocations, behind two small interfaces (Firestore when
 * deployed, memory in unit tests and the CLI):
 *
 * - An endpoint that answered 410 Gone is recorded as gone, with a fingerprint of its configuration
 *   (URL, types, secrets, hashed). It is skipped for as long as its configuration is unchanged;
 *   editing the endpoint (say, rotating its secret) or deleting the record resumes delivery.
 * - Every attempt at (event id, endpoint) is counted, and a success recorded, so a redelivered
 *   Pub/Sub message (which retries all endpoints at once) only re-sends to endpoints still missing
 *   it. Two concurrent deliveries of one message can still both send: receivers dedupe on
 *   `webhook-id`. Records carry an `expireAt` for a Firestore TTL policy.
 */
import { createHash } from 'node:crypto';
import type { WebhookEndpoint } from '../config/index.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Stable id of an endpoint: the hash of its URL (Firestore document ids cannot hold URLs). */
export const endpointIdOf = (url: string): string => sha256(url);

/** Changes whenever the endpoint's configuration does; never reveals a secret. */
export const endpointFingerprintOf = (endpoint: WebhookEndpoint): string =>
  sha256(
    JSON.stringify({
      url: endpoint.url,
      types: [...endpoint.types].sort(),
      secrets: [...endpoint.secrets].sort(),
    }),
  );

export const deliveryIdOf = (eventId: string, endpointId: string): string =>
  sha256(`${eventId}\n${endpointId}`);

export interface GoneEndpoint {
  endpointId: string;
  fingerprint: string;
  /** Host and path only (no query string: it may carry a token). */
  host: string;
  path: string;
  /** The event whose delivery got the 410. */
  eventId: string;
  goneAt: string;
}

export interface EndpointStateStore {
  getGone(endpointId: string): Promise<GoneEndpoint | undefined>;
  markGone(record: GoneEndpoint): Promise<void>;
}

export interface DeliveryKey {
  eventId: string;
  endpointId: string;
}

export interface AttemptStart {
  /** An earlier attempt already got a 2xx: do not send again. */
  delivered: boolean;
  /** 1 for the first attempt at this (event, endpoint). */
  attempt: number;
}

export interface DeliveryLedger {
  /** Counts an attempt about to be made, unless the event was already delivered to the endpoint. */
  beginAttempt(key: DeliveryKey, at: Date): Promise<AttemptStart>;
  markDelivered(key: DeliveryKey, at: Date, status: number): Promise<void>;
}

export function createMemoryEndpointStateStore(): EndpointStateStore & { gone: Map<string, GoneEndpoint> } {
  const gone = new Map<string, GoneEndpoint>();
  return {
    gone,
    getGone: async (endpointId) => gone.get(endpointId),
    markGone: async (record) => {
      gone.set(record.endpointId, record);
    },
  };
}

export function createMemoryDeliveryLedger(): DeliveryLedger {
  const records = new Map<string, { attempts: number; delivered: boolean }>();
  return {
    beginAttempt: async (key) => {
      const id = deliveryIdOf(key.eventId, key.endpointId);
      const record = records.get(id) ?? { attempts: 0, delivered: false };
      if (record.delivered) return { delivered: true, attempt: record.attempts };
      record.attempts += 1;
      records.set(id, record);
      return { delivered: false, attempt: record.attempts };
    },
    markDelivered: async (key) => {
      const id = deliveryIdOf(key.eventId, key.endpointId);
      const record = records.get(id) ?? { attempts: 1, delivered: false };
      records.set(id, { ...record, delivered: true });
    },
  };
}
