import { describe, expect, it } from 'vitest';
import { routeObject } from '../../../functions/ingest-dataset/routing.ts';

describe('which uploads start jobs', () => {
  it('treats a .jsonl directly under incoming/ as a single-file drop', () => {
    expect(routeObject('incoming/support.jsonl')).toEqual({ kind: 'dataset' });
  });

  it('treats a .jsonl in a folder as a drop unless that folder has a manifest', () => {
    expect(routeObject('incoming/team/data/train.jsonl')).toEqual({
      kind: 'dataset',
      manifestCandidate: 'incoming/team/tuning.json',
    });
  });

  it('treats incoming/<name>/tuning.json as a manifest', () => {
    expect(routeObject('incoming/team/tuning.json')).toEqual({ kind: 'manifest' });
  });

  it.each([
    ['reports/incoming/a.jsonl.report.json', "tunedrop's own output (reports/)"],
    ['validated/0123abcd/training/a.jsonl', "tunedrop's pinned copy of a validated dataset (validated/)"],
    ['validated/0123abcd/incoming/tuning.json', "tunedrop's pinned copy of a validated dataset (validated/)"],
    ['datasets/a.jsonl', 'outside incoming/'],
    ['a.jsonl', 'outside incoming/'],
    ['incoming/tuning.json', 'a manifest must be at incoming/<name>/tuning.json'],
    ['incoming/a/b/tuning.json', 'a manifest must be at incoming/<name>/tuning.json'],
    ['incoming/notes.txt', 'not a .jsonl dataset or a tuning.json manifest'],
    ['incoming/data.json', 'not a .jsonl dataset or a tuning.json manifest'],
    ['incoming/team/', 'a folder placeholder, not a file'],
    ['incoming/a.jsonl.metadata.json', 'a local metadata sidecar, not an upload'],
  ])('ignores %s (%s)', (name, reason) => {
    expect(routeObject(name)).toEqual({ kind: 'ignored', reason });
  });
});
