import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFirestore,
  createFirestoreJobStore,
  InvalidJobDocumentError,
  InvalidPageTokenError,
  type JobRecord,
  type JobState,
  type JobStore,
} from '../../shared/jobs/index.ts';
import { uniqueName } from '../support/names.ts';
import { jobFixture } from '../unit/jobs/job-fixture.ts';

let firestore: Firestore;

beforeAll(() => {
  firestore = createFirestore({ project: process.env.GOOGLE_CLOUD_PROJECT ?? 'tunedrop-test' });
});
afterAll(async () => {
  await firestore.terminate();
});

function newStore(): { store: JobStore; collection: string } {
  const collection = uniqueName('jobs');
  return { store: createFirestoreJobStore({ firestore, collection }), collection };
}

/** A job with its own id, created `minute` minutes into the day, so list order is known. */
function job(name: string, state: JobState, minute: number, labels: Record<string, string> = {}): JobRecord {
  const base = jobFixture(state, { id: name });
  const time = new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();
  return { ...base, id: name, createTime: time, spec: { ...base.spec, labels } };
}

describe('the Firestore job store', () => {
  it('creates exactly one record when 50 deliveries of one event race', async () => {
    const { store } = newStore();
    const record = jobFixture('QUEUED');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, attempt) => store.create({ ...record, attempts: attempt })),
    );
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const winner = results.find((result) => result.created)?.job;
    for (const result of results) expect(result.job).toEqual(winner);
    expect(await store.get(record.id)).toEqual(winner);
  });

  it('reads back exactly what it stored, and nothing for an unknown id', async () => {
    const { store } = newStore();
    const record = jobFixture('DRAFT', { progress: undefined, nextAttemptTime: undefined });
    await store.create(record);
    expect(await store.get(record.id)).toEqual(record);
    expect(await store.get('no-such-job')).toBeUndefined();
    expect(await store.update('no-such-job', (current) => current)).toBeUndefined();
  });

  it('loses no update when 20 increments run concurrently', async () => {
    const { store } = newStore();
    const record = jobFixture('QUEUED');
    await store.create(record);
    await Promise.all(
      Array.from({ length: 20 }, () =>
        store.update(record.id, (current) => ({ ...current, attempts: current.attempts + 1 })),
      ),
    );
    expect((await store.get(record.id))?.attempts).toBe(20);
  });

  it('does not write when the mutation changes nothing', async () => {
    const { store, collection } = newStore();
    const record = jobFixture('QUEUED');
    await store.create(record);
    const doc = firestore.collection(collection).doc(record.id);
    const before = (await doc.get()).updateTime;
    expect(await store.update(record.id, () => undefined)).toEqual(record);
    expect(await store.update(record.id, (current) => ({ ...current }))).toEqual(record);
    expect((await doc.get()).updateTime?.isEqual(before!)).toBe(true);
  });

  it('refuses an update that changes the id or breaks the schema, leaving the record intact', async () => {
    const { store } = newStore();
    const record = jobFixture('QUEUED');
    await store.create(record);
    await expect(store.update(record.id, (current) => ({ ...current, id: 'other' }))).rejects.toThrow(/id/);
    await expect(store.update(record.id, (current) => ({ ...current, attempts: -1 }))).rejects.toThrow();
    expect(await store.get(record.id)).toEqual(record);
  });

  it('fails loudly on a document that is not a job record', async () => {
    const { store, collection } = newStore();
    await firestore.collection(collection).doc('broken').set({ id: 'broken', state: 'LOST' });
    await expect(store.get('broken')).rejects.toThrow(InvalidJobDocumentError);
  });

  describe('listing', () => {
    let store: JobStore;
    const records = [
      job('a', 'RUNNING', 1, { team: 'x', env: 'prod' }),
      job('b', 'RUNNING', 2, { team: 'x', env: 'dev' }),
      job('c', 'SUCCEEDED', 3, { team: 'x', env: 'prod' }),
      job('d', 'RUNNING', 4, { team: 'y' }),
      job('e', 'DRAFT', 5, { team: 'x', env: 'prod' }),
      job('f', 'RUNNING', 6, { team: 'x', env: 'prod' }),
      job('g', 'FAILED', 7),
      job('h', 'CANCELLING', 8, { team: 'x' }),
    ];
    beforeAll(async () => {
      store = newStore().store;
      for (const record of records) await store.create(record);
    });

    async function allPages(query: Parameters<JobStore['list']>[0]): Promise<string[][]> {
      const pages: string[][] = [];
      let pageToken: string | undefined;
      do {
        const page = await store.list({ ...query, ...(pageToken ? { pageToken } : {}) });
        pages.push(page.jobs.map((record) => record.id));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return pages;
    }

    it('lists every job newest first, a page at a time', async () => {
      expect(await allPages({ limit: 3 })).toEqual([
        ['h', 'g', 'f'],
        ['e', 'd', 'c'],
        ['b', 'a'],
      ]);
    });

    it('gives no next page token on a last page that is exactly full', async () => {
      expect(await allPages({ limit: 4 })).toEqual([
        ['h', 'g', 'f', 'e'],
        ['d', 'c', 'b', 'a'],
      ]);
    });

    it('filters by state', async () => {
      expect(await allPages({ states: ['RUNNING'], limit: 2 })).toEqual([
        ['f', 'd'],
        ['b', 'a'],
      ]);
      expect(await allPages({ states: ['DRAFT', 'FAILED'] })).toEqual([['g', 'e']]);
    });

    it('filters by one or several labels, alone or with states', async () => {
      expect(await allPages({ labels: { team: 'x' }, limit: 10 })).toEqual([['h', 'f', 'e', 'c', 'b', 'a']]);
      expect(await allPages({ labels: { team: 'x', env: 'prod' }, limit: 2 })).toEqual([
        ['f', 'e'],
        ['c', 'a'],
      ]);
      expect(await allPages({ labels: { env: 'prod', team: 'x' }, states: ['RUNNING'], limit: 1 })).toEqual([
        ['f'],
        ['a'],
      ]);
      expect(await allPages({ labels: { team: 'nobody' } })).toEqual([[]]);
    });

    it('rejects a page token it did not issue', async () => {
      await expect(store.list({ pageToken: 'not-a-token' })).rejects.toThrow(InvalidPageTokenError);
    });

    it('lists the jobs that are not terminal', async () => {
      const active = (await store.listActive()).map((record) => record.id).sort();
      expect(active).toEqual(['a', 'b', 'd', 'e', 'f', 'h']);
    });
  });

  it('lists the records with unpublished events, and stops once they are published', async () => {
    const { store } = newStore();
    const entry = { event: { id: 'e1' }, createTime: '2025-01-01T00:00:00.000Z' };
    await store.create(job('quiet', 'RUNNING', 1));
    await store.create(job('done', 'RUNNING', 2, {}));
    await store.update('done', (current) => ({
      ...current,
      outbox: [{ ...entry, publishTime: '2025-01-01T00:01:00.000Z' }],
    }));
    await store.create({ ...job('loud', 'RUNNING', 3), outbox: [entry] });
    expect((await store.listWithPendingEvents()).map((record) => record.id)).toEqual(['loud']);
    await store.update('loud', (current) => ({
      ...current,
      outbox: current.outbox.map((item) => ({ ...item, publishTime: '2025-01-01T00:02:00.000Z' })),
    }));
    expect(await store.listWithPendingEvents()).toEqual([]);
  });

  it('counts the records in some states, and optionally those with a create call in flight', async () => {
    const { store } = newStore();
    const intent = '2025-01-01T00:00:00.000Z';
    await store.create(job('pending', 'PENDING', 1));
    await store.create(job('running', 'RUNNING', 2));
    await store.create(job('done', 'SUCCEEDED', 3));
    await store.create(job('waiting', 'QUEUED', 4));
    const creating = job('creating', 'QUEUED', 5);
    await store.create({ ...creating, provider: { name: 'vertex', createIntentTime: intent } });
    const retrying = job('retrying', 'QUEUED', 6);
    await store.create({
      ...retrying,
      provider: { name: 'vertex', createIntentTime: intent },
      nextAttemptTime: '2025-01-01T00:30:00.000Z',
    });
    const busy = ['PENDING', 'RUNNING', 'CANCELLING'] as const;
    expect(await store.countByStates(busy)).toBe(2);
    expect(await store.countByStates(busy, { orCreateInFlight: true })).toBe(3);
    expect(await store.countByStates(['QUEUED'], { orCreateInFlight: true })).toBe(3);
    expect(await store.countByStates([])).toBe(0);
    // Once the create is recorded, the record counts by its state only.
    await store.update('creating', (current) => ({
      ...current,
      state: 'PENDING',
      provider: { ...current.provider, jobName: 'projects/p/locations/l/tuningJobs/1' },
    }));
    expect(await store.countByStates(busy, { orCreateInFlight: true })).toBe(3);
  });
});
