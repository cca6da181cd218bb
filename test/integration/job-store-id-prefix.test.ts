import type { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFirestore, createFirestoreJobStore } from '../../shared/jobs/index.ts';
import { uniqueName } from '../support/names.ts';
import { jobFixture } from '../unit/jobs/job-fixture.ts';

let firestore: Firestore;

beforeAll(() => {
  firestore = createFirestore({ project: process.env.GOOGLE_CLOUD_PROJECT ?? 'tunedrop-test' });
});
afterAll(async () => {
  await firestore.terminate();
});

describe('finding jobs by an id prefix on Firestore', () => {
  it('returns exactly the ids that start with the prefix, in id order, at most the limit', async () => {
    const store = createFirestoreJobStore({ firestore, collection: uniqueName('jobs') });
    const ids = [
      'aea9839eef25000000000000000000a1',
      'aea9839eef25000000000000000000a2',
      'aea9839eef26000000000000000000a3',
      // Neighbours that sort right before and after the prefix range.
      'aea9839eef24ffffffffffffffffffff',
      'aea9839eef2a000000000000000000a4',
      'aea9839eef2',
    ];
    for (const id of ids) await store.create({ ...jobFixture('RUNNING', { id }), id });

    const byId = async (prefix: string, limit = 10) =>
      (await store.findByIdPrefix(prefix, limit)).map((job) => job.id);
    expect(await byId('aea9839eef25')).toEqual([ids[0], ids[1]]);
    expect(await byId('aea9839eef2')).toEqual([ids[5], ids[3], ids[0], ids[1], ids[2], ids[4]]);
    expect(await byId('aea9839eef2', 2)).toEqual([ids[5], ids[3]]);
    expect(await byId(ids[2]!)).toEqual([ids[2]]);
    expect(await byId('aea9839eef27')).toEqual([]);
    expect(await byId('')).toEqual([]);
  });
});
