import { describe, expect, it } from 'vitest';
import { type ApiClient, ApiRequestError, type JobView } from '../../../cli/lib/api-client.ts';
import { JobIdError, resolveJobId } from '../../../cli/lib/job-ids.ts';
import { UsageError } from '../../../cli/lib/usage.ts';

const job = (id: string) =>
  ({
    id,
    state: 'RUNNING',
    createTime: '2026-12-03T08:00:00.000Z',
    source: { object: 'incoming/a.jsonl' },
  }) as JobView;

/** A client whose lookup answers from a list of ids, as the API would (or fails as told). */
function client(ids: string[], lookupError?: Error): ApiClient {
  return {
    lookup: async (prefix: string) => {
      if (lookupError) throw lookupError;
      const matches = ids.filter((id) => id.startsWith(prefix)).sort();
      return { jobs: matches.slice(0, 10).map(job), complete: matches.length <= 10 };
    },
  } as unknown as ApiClient;
}

describe('job ids typed by a person', () => {
  const a = 'aea9839eef25aea9839eef25aea9839e';
  const b = 'aea9839eef25ffff9839eef25aea9839';

  it('resolves a unique prefix, a full id, and an id that is a prefix of a longer one', async () => {
    expect(await resolveJobId(client([a, b]), 'aea9839eef25a')).toBe(a);
    expect(await resolveJobId(client([a, b]), a)).toBe(a);
    expect(await resolveJobId(client(['job-0001', 'job-00012']), 'job-0001')).toBe('job-0001');
  });

  it('refuses fewer than 8 characters, and names every candidate of an ambiguous prefix', async () => {
    await expect(resolveJobId(client([a]), 'aea983')).rejects.toThrow(UsageError);
    const ambiguous = resolveJobId(client([a, b]), 'aea9839eef25');
    await expect(ambiguous).rejects.toThrow(JobIdError);
    await expect(ambiguous).rejects.toThrow(new RegExp(`matches 2 jobs[\\s\\S]*${a}[\\s\\S]*${b}`));
    const many = Array.from({ length: 12 }, (_, i) => `aea9839eef25${String(i).padStart(20, '0')}`);
    await expect(resolveJobId(client(many), 'aea9839eef25')).rejects.toThrow(
      /matches 10 or more jobs[\s\S]*\.\.\. and more/,
    );
    await expect(resolveJobId(client([a]), 'bbbbbbbbbb')).rejects.toThrow('no job id starts with bbbbbbbbbb');
  });

  it('takes the id as typed from an API that has no lookup route yet', async () => {
    const old = client([], new ApiRequestError(404, 'NOT_FOUND', 'no route for GET /jobs:lookup'));
    expect(await resolveJobId(old, 'aea9839eef25')).toBe('aea9839eef25');
    const down = client([], new ApiRequestError(503, 'UNAVAILABLE', 'try later'));
    await expect(resolveJobId(down, 'aea9839eef25')).rejects.toThrow('try later');
  });
});
