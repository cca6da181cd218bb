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

  it('counts any other answer to an empty TuneDraft as implemented', async () => {
    const { fake } = clients([Status.INVALID_ARGUMENT]);
    expect(await draftProbe(fake)()).toBe(true);
  });

  it('does not remember a transient failure: Tune this time, asked again next time', async () => {
    const { fake, calls } = clients([Status.UNAVAILABLE, Status.INVALID_ARGUMENT]);
    const probe = draftProbe(fake);
    expect(await probe()).toBe(false);
    expect(await probe()).toBe(true);
    expect(calls).toHaveLength(2);
  });
});
