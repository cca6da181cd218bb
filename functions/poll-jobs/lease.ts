/**
 * A short lease in Firestore so that two overlapping poll runs (a slow run and the next scheduled
 * one, or a Scheduler retry) do not both refresh and publish. The lease is an optimisation, not
 * the correctness guarantee: state changes are compare-and-set writes and event ids deterministic, so even
 * without it an event is committed once and any re-publish carries the same id. What it saves is
 * the second run's Vertex calls and the duplicate publishes of events both runs see pending.
 *
 * It expires on its own, so a run that crashed holding it blocks polling for at most `ttlMs`; the
 * ttl should be the function's timeout (a run cannot outlive it), so a live run never loses it.
 *
 * No transaction touches the lease document: every write is a single-document write with a
 * precondition (create only if absent; take over only if unchanged since read; delete only if
 * still ours). A transaction would hold a lock on the one document every run reads, and Firestore
 * transactions lock pessimistically: with a few overlapping runs (a slow start-up, a scheduler
 * retry) each waited for the others until `ABORTED: Transaction lock timeout`, and a run that died
 * inside one blocked the next for a minute. A precondition failure answers at once instead, so a
 * run that finds the lease taken gives up immediately and never waits on anyone.
 */
import { randomUUID } from 'node:crypto';
import type { Firestore, Timestamp } from '@google-cloud/firestore';
import { z } from 'zod';

export interface Lease {
  /** Takes the lease if it is free or expired; false when another live run holds it. */
  acquire(): Promise<boolean>;
  /** Gives the lease back if this run still holds it (never someone else's). */
  release(): Promise<void>;
}

const LeaseDoc = z.object({ owner: z.string(), expireTime: z.string() });

/** gRPC status codes of a failed precondition. */
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const FAILED_PRECONDITION = 9;
const codeOf = (error: unknown) => (error as { code?: unknown } | undefined)?.code;

export interface FirestoreLeaseOptions {
  firestore: Firestore;
  /** Collection of lock documents; `tunedrop-locks` by default. */
  collection?: string;
  /** Document id: one per lock. */
  name: string;
  ttlMs: number;
  clock: () => Date;
}

/** Create-or-take-over rounds before concluding that others keep changing the lease: it is busy. */
const maxRounds = 3;

export function createFirestoreLease(options: FirestoreLeaseOptions): Lease {
  const doc = options.firestore.collection(options.collection ?? 'tunedrop-locks').doc(options.name);
  const owner = randomUUID();
  /** The update time of this holder's last write: the delete's precondition on release. */
  let heldSince: Timestamp | undefined;
  const leaseDoc = () => ({
    owner,
    expireTime: new Date(options.clock().getTime() + options.ttlMs).toISOString(),
  });

  return {
    async acquire() {
      for (let round = 0; round < maxRounds; round++) {
        try {
          heldSince = (await doc.create(leaseDoc())).writeTime;
          return true;
        } catch (error) {
          if (codeOf(error) !== ALREADY_EXISTS) throw error;
        }
        const snapshot = await doc.get();
        if (!snapshot.exists || !snapshot.updateTime) continue; // released meanwhile: create again
        const held = LeaseDoc.safeParse(snapshot.data());
        const live =
          held.success &&
          held.data.owner !== owner &&
          Date.parse(held.data.expireTime) > options.clock().getTime();
        if (live) return false;
        // Expired, unreadable or already ours: take it over, unless someone wrote it since the read.
        try {
          heldSince = (await doc.update(leaseDoc(), { lastUpdateTime: snapshot.updateTime })).writeTime;
          return true;
        } catch (error) {
          // Another run took it over first: it is that run's now.
          if (codeOf(error) === FAILED_PRECONDITION) return false;
          if (codeOf(error) !== NOT_FOUND) throw error;
        }
      }
      return false;
    },

    async release() {
      const since = heldSince;
      if (!since) return;
      heldSince = undefined;
      try {
        await doc.delete({ lastUpdateTime: since });
      } catch (error) {
        // Changed since our write: it expired and another run holds it now. Gone: nothing to do.
        if (codeOf(error) !== FAILED_PRECONDITION && codeOf(error) !== NOT_FOUND) throw error;
      }
    },
  };
}

/** For a single-process setting (unit tests, a one-off CLI run): always free. */
export const noLease: Lease = { acquire: async () => true, release: async () => {} };
