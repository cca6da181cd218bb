import { describe, expect, it } from 'vitest';
import { type ApiClient, ApiRequestError, type JobView } from '../../../cli/lib/api-client.ts';
import { FollowTimeoutError, followJob } from '../../../cli/lib/follow.ts';

/** A client whose `get` answers from a script, one answer per call. */
function scripted(answers: (string | undefined)[]): ApiClient {
  let call = 0;
  return {
    baseUrl: 'http://test',
    async get(id) {
      const state = answers[Math.min(call++, answers.length - 1)];
      if (!state) throw new ApiRequestError(404, 'NOT_FOUND', `job ${id} not found`);
      return { id, state } as JobView;
    },
  } as ApiClient;
}

const noSleep = async () => {};

describe('following a job', () => {
  it('waits through 404s until the record appears, reports each state once, and stops at the end', async () => {
    const seen: string[] = [];
    const outcome = await followJob(
      scripted([undefined, undefined, 'PENDING', 'PENDING', 'RUNNING', 'SUCCEEDED']),
      'j',
      {
        sleep: noSleep,
        onState: (job) => seen.push(job.state),
      },
    );
    expect(outcome).toMatchObject({ kind: 'finished', job: { state: 'SUCCEEDED' } });
    expect(seen).toEqual(['PENDING', 'RUNNING', 'SUCCEEDED']);
  });

  it('ends when the upload was rejected and no job will come', async () => {
    const outcome = await followJob(scripted([undefined]), 'j', {
      sleep: noSleep,
      rejection: async () => JSON.stringify({ status: 'rejected', problems: [] }),
    });
    expect(outcome.kind).toBe('rejected');
  });

  it("ignores an earlier upload's rejection report of the same name until its own report appears", async () => {
    const reports = [
      { status: 'rejected', generation: '100' },
      { status: 'rejected', generation: '100' },
      { status: 'rejected', generation: '200' },
    ];
    let reads = 0;
    const outcome = await followJob(scripted([undefined]), 'j', {
      sleep: noSleep,
      generation: '200',
      rejection: async () => JSON.stringify(reports[Math.min(reads++, reports.length - 1)]),
    });
    expect(outcome).toEqual({ kind: 'rejected', report: { status: 'rejected', generation: '200' } });
    expect(reads).toBe(3);
  });

  it('does not end the wait on a rejection report of another upload while its job runs to the end', async () => {
    const outcome = await followJob(scripted([undefined, undefined, 'RUNNING', 'SUCCEEDED']), 'j', {
      sleep: noSleep,
      generation: '200',
      rejection: async () => JSON.stringify({ status: 'rejected', generation: '100' }),
    });
    expect(outcome).toMatchObject({ kind: 'finished', job: { state: 'SUCCEEDED' } });
  });

  it('keeps waiting while the report says waiting or accepted', async () => {
    const reports = ['waiting', 'accepted'];
    const outcome = await followJob(scripted([undefined, undefined, 'FAILED']), 'j', {
      sleep: noSleep,
      rejection: async () => JSON.stringify({ status: reports.shift() ?? 'accepted' }),
    });
    expect(outcome).toMatchObject({ kind: 'finished', job: { state: 'FAILED' } });
  });

  it('gives up after the timeout', async () => {
    let now = 0;
    const promise = followJob(scripted(['RUNNING']), 'j', {
      timeoutMs: 10_000,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    await expect(promise).rejects.toThrow(FollowTimeoutError);
  });

  it('passes other API errors through', async () => {
    const client = {
      async get() {
        throw new ApiRequestError(403, 'PERMISSION_DENIED', 'no');
      },
    } as unknown as ApiClient;
    await expect(followJob(client, 'j', { sleep: noSleep })).rejects.toThrow('no');
  });
});
