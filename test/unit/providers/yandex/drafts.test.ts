import { ClientError, Status } from 'nice-grpc';
import { describe, expect, it } from 'vitest';
import { draftProbe } from '../../../../shared/providers/yandex/drafts.ts';
import type { YandexClients } from '../../../../shared/providers/yandex/grpc.ts';

function clients(answers: (Status | 'ok')[]) {
  const calls: string[] = [];
  const fake = {
    tuning: {
      async tuneDraft(request: { tuningTaskId: string }) {
        calls.push(request.tuningTaskId);
        const answer = answers.shift() ?? 'ok';
        if (answer === 'ok') return {};
        throw new ClientError('/yandex.cloud.ai.tuning.v1.TuningService/TuneDraft', answer, 'x');
      },
    },
  } as unknown as YandexClients;
  return { fake, calls };
}

describe('the draft RPC probe', () => {
  it('asks once per process and remembers UNIMPLEMENTED (upstream today)', async () => {
    const { fake, calls } = clients([Status.UNIMPLEMENTED]);
    const probe = draftProbe(fake);
    expect(await probe()).toBe(false);
    expect(await probe()).toBe(false);
    expect(calls).toEqual(['']);
  });

  it.each(
    [Status.INVALID_ARGUMENT, Status.NOT_FOUND, Status.FAILED_PRECONDITION].map(
      (s) => [Status[s], s] as const,
    ),
  )(
    'counts a server that parsed the empty TuneDraft and refused it (%s) as implemented',
    async (_name, status) => {
      const { fake } = clients([status]);
      expect(await draftProbe(fake)()).toBe(true);
    },
  );

  it.each(
    [
      Status.RESOURCE_EXHAUSTED,
      Status.UNAUTHENTICATED,
      Status.PERMISSION_DENIED,
      Status.CANCELLED,
      Status.UNKNOWN,
      Status.UNAVAILABLE,
    ].map((s) => [Status[s], s] as const),
  )('learns nothing from %s: Tune this time, asked again next time', async (_name, status) => {
    const { fake, calls } = clients([status, Status.UNIMPLEMENTED]);
    const probe = draftProbe(fake);
    expect(await probe()).toBe(false);
    expect(await probe()).toBe(false);
    expect(await probe()).toBe(false);
    expect(calls).toHaveLength(2);
  });

  it('learns nothing from a failure before the call reached the server (an IAM token fetch)', async () => {
    let calls = 0;
    const fake = {
      tuning: {
        async tuneDraft() {
          calls++;
          if (calls === 1) throw new Error('token fetch failed');
          throw new ClientError('/x', Status.INVALID_ARGUMENT, 'empty id');
        },
      },
    } as unknown as YandexClients;
    const probe = draftProbe(fake);
    expect(await probe()).toBe(false);
    expect(await probe()).toBe(true);
  });

  it('is told unavailable for the process when a later CreateDraft answers UNIMPLEMENTED', async () => {
    const { fake, calls } = clients([Status.INVALID_ARGUMENT]);
    const probe = draftProbe(fake);
    expect(await probe()).toBe(true);
    probe.markUnavailable();
    expect(await probe()).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('does not remember a transient failure: Tune this time, asked again next time', async () => {
    const { fake, calls } = clients([Status.UNAVAILABLE, Status.INVALID_ARGUMENT]);
    const probe = draftProbe(fake);
    expect(await probe()).toBe(false);
    expect(await probe()).toBe(true);
    expect(calls).toHaveLength(2);
  });
});
