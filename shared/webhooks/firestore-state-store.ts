/**
 * The Firestore implementations of the delivery state (see state-store.ts). Collections:
 * `tunedrop-webhook-endpoints/{sha256(url)}` for endpoints that answered 410, and
 * `tunedrop-webhook-deliveries/{sha256(eventId, endpointId)}` for attempts and successes, whose
 * `expireAt` field is meant for a Firestore TTL policy (terraform) so the ledger does not grow.
 */
import { type Firestore, Timestamp } from '@google-cloud/firestore';
import { z } from 'zod';
import { readModifyWrite } from '../firestore/index.ts';
import type { Logger } from '../logging/index.ts';
import {
  type AttemptStart,
  type DeliveryLedger,
  deliveryIdOf,
  type EndpointStateStore,
  type GoneEndpoint,
} from './state-store.ts';

export const webhookEndpointsCollection = 'tunedrop-webhook-endpoints';
export const webhookDeliveriesCollection = 'tunedrop-webhook-deliveries';
/** Longer than Pub/Sub keeps a message (7 days at most), so no redelivery outlives its record. */
export const defaultDeliveryRecordTtlMs = 8 * 24 * 60 * 60 * 1000;

const GoneDoc = z.object({
  endpointId: z.string(),
  fingerprint: z.string(),
  host: z.string(),
  path: z.string(),
  eventId: z.string(),
  goneAt: z.string(),
});

const DeliveryDoc = z.object({
  attempts: z.number().int().nonnegative().default(0),
  delivered: z.boolean().default(false),
});

export function createFirestoreEndpointStateStore(
  firestore: Firestore,
  collection = webhookEndpointsCollection,
): EndpointStateStore {
  const ref = (endpointId: string) => firestore.collection(collection).doc(endpointId);
  return {
    async getGone(endpointId) {
      const snapshot = await ref(endpointId).get();
      if (!snapshot.exists) return undefined;
      const parsed = GoneDoc.safeParse(snapshot.data());
      // An unreadable record must not silence an endpoint: treat it as absent.
      return parsed.success ? parsed.data : undefined;
    },
    async markGone(record: GoneEndpoint) {
      await ref(record.endpointId).set({ ...record, status: 'gone' });
    },
  };
}

export function createFirestoreDeliveryLedger(
  firestore: Firestore,
  options: { collection?: string; ttlMs?: number; logger?: Logger } = {},
): DeliveryLedger {
  const collectionName = options.collection ?? webhookDeliveriesCollection;
  const collection = firestore.collection(collectionName);
  const ttlMs = options.ttlMs ?? defaultDeliveryRecordTtlMs;
  const expireAt = (at: Date) => Timestamp.fromMillis(at.getTime() + ttlMs);
  return {
    beginAttempt: (key, at) => {
      const id = deliveryIdOf(key.eventId, key.endpointId);
      const doc = collection.doc(id);
      return readModifyWrite<AttemptStart>(
        doc,
        (snapshot) => {
          const parsed = DeliveryDoc.safeParse(snapshot.data());
          const current = parsed.success ? parsed.data : { attempts: 0, delivered: false };
          if (current.delivered) return { result: { delivered: true, attempt: current.attempts } };
          const attempt = current.attempts + 1;
          return {
            write: {
              eventId: key.eventId,
              endpointId: key.endpointId,
              attempts: attempt,
              delivered: false,
              lastAttemptAt: Timestamp.fromDate(at),
              expireAt: expireAt(at),
            },
            result: { delivered: false, attempt },
          };
        },
        { label: `${collectionName}/${id}`, logger: options.logger },
      );
    },
    async markDelivered(key, at, status) {
      await collection.doc(deliveryIdOf(key.eventId, key.endpointId)).set(
        {
          eventId: key.eventId,
          endpointId: key.endpointId,
          delivered: true,
          deliveredAt: Timestamp.fromDate(at),
          status,
          expireAt: expireAt(at),
        },
        { merge: true },
      );
    },
  };
}
