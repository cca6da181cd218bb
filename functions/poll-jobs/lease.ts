/**
 * A short lease in Firestore so that two overlapping poll runs (a slow run and the next scheduled
 * one, or a Scheduler retry) do not both refresh and publish. The lease is an optimisation, not
 * the correctness guarantee: state changes are transactional and event ids deterministic, so even
 * without it an event is committed once and any re-publish carries the same id. What it saves is
 * the second run's Vertex calls and the duplicate publishes of events both runs see pending.
 *
 * It expires on its own, so a run that crashed holding it blocks polling for at most `ttlMs`; the
 * ttl should be the function's timeout (a run cannot outlive it), so a live run never loses it.
 */
import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';

export interface Lease {
  /** Takes the lease if it is free or expired; false when another live run holds it. */
  acquire(): Promise<boolean>;
  /** Gives the lease back if this run still holds it (never someone else's). */
  release(): Promise<void>;
}

const LeaseDoc = z.object({ owner: z.string(), expireTime: z.string() });

export interface FirestoreLeaseOptions {
  firestore: Firestore;
  /** Collection of lock documents; `tunedrop-locks` by default. */
  collection?: string;
  /** Document id: one per lock. */
  name: string;
  ttlMs: number;
  clock: () => Date;
}

export function createFirestoreLease(options: FirestoreLeaseOptions): Lease {
  const doc = options.firestore.collection(options.collection ?? 'tunedrop-locks').doc(options.name);
  const owner = randomUUID();
  return {
    acquire: () =>
      options.firestore.runTransaction(async (tx) => {
        const snapshot = await tx.get(doc);
        const now = options.clock();
        const held = snapshot.exists ? LeaseDoc.safeParse(snapshot.data()) : undefined;
        if (held?.success && held.data.owner !== owner && Date.parse(held.data.expireTime) > now.getTime()) {
          return false;
        }
        tx.set(doc, { owner, expireTime: new Date(now.getTime() + options.ttlMs).toISOString() });
        return true;
      }),
    release: () =>
      options.firestore.runTransaction(async (tx) => {
        const snapshot = await tx.get(doc);
        const held = snapshot.exists ? LeaseDoc.safeParse(snapshot.data()) : undefined;
        if (held?.success && held.data.owner === owner) tx.delete(doc);
      }),
  };
}

/** For a single-process setting (unit tests, a one-off CLI run): always free. */
export const noLease: Lease = { acquire: async () => true, release: async () => {} };
