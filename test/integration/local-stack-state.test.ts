/**
 * The local stack's job data survives a restart: the Firestore emulator's data is exported into
 * the bucket folder and imported by the next start on that folder (local/firestore-state.ts).
 * Runs its own Firestore emulator, started and stopped twice as the stack does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RunningEmulator, startEmulator } from '../../local/emulators/index.ts';
import { exportFirestore, savedFirestoreExport } from '../../local/firestore-state.ts';

const project = 'tunedrop-state-test';
let bucketDir: string;
let running: RunningEmulator | undefined;

beforeAll(async () => {
  bucketDir = await mkdtemp(join(tmpdir(), 'tunedrop-state-'));
});
afterAll(async () => {
  await running?.stop();
  await rm(bucketDir, { recursive: true, force: true });
});

async function withFirestore<T>(
  importData: string | undefined,
  use: (db: Firestore, hostPort: string) => Promise<T>,
) {
  running = await startEmulator('firestore', { port: await freePort(), importData });
  // A client of this emulator: the client reads FIRESTORE_EMULATOR_HOST (the test setup's
  // emulator) when it is built, and that setting wins over any host option.
  const shared = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = running.hostPort;
  const db = new Firestore({ projectId: project });
  process.env.FIRESTORE_EMULATOR_HOST = shared;
  try {
    return await use(db, running.hostPort);
  } finally {
    await db.terminate();
    await running.stop();
    running = undefined;
  }
}

describe('local stack state across restarts', () => {
  it('has nothing saved for a new bucket folder', () => {
    expect(savedFirestoreExport(bucketDir)).toBeUndefined();
  });

  it('restores what was saved before the stop, and the latest save wins', async () => {
    await withFirestore(undefined, async (db, hostPort) => {
      await db.collection('tunedrop-jobs').doc('a').set({ state: 'RUNNING' });
      await exportFirestore(hostPort, project, bucketDir);
      await db.collection('tunedrop-jobs').doc('a').set({ state: 'SUCCEEDED' });
      await exportFirestore(hostPort, project, bucketDir);
    });
    const saved = savedFirestoreExport(bucketDir);
    expect(saved).toMatch(/\.overall_export_metadata$/);

    await withFirestore(saved, async (db) => {
      expect((await db.collection('tunedrop-jobs').doc('a').get()).data()).toEqual({ state: 'SUCCEEDED' });
    });
  }, 180_000);

  it('starts empty when nothing is imported (--fresh)', async () => {
    expect(savedFirestoreExport(bucketDir)).toBeDefined();
    await withFirestore(undefined, async (db) => {
      expect((await db.collection('tunedrop-jobs').doc('a').get()).exists).toBe(false);
    });
  }, 120_000);
});

describe('two stacks on one bucket folder', () => {
  it('refuses the second before starting anything, naming the pid that holds the folder', async () => {
    const { acquireStackLock } = await import('../../local/stack-lock.ts');
    const { startLocalStack } = await import('../../local/stack.ts');
    const { createMemoryLogger } = await import('../../shared/logging/index.ts');
    const first = acquireStackLock(bucketDir);
    try {
      await expect(
        startLocalStack({ bucketDir, logger: createMemoryLogger(), ports: { pubsub: 1 } }),
      ).rejects.toThrow(
        new RegExp(`another tunedrop stack \\(pid ${process.pid}, .*is already running on ${bucketDir}`),
      );
    } finally {
      first.release();
    }
  });
});
