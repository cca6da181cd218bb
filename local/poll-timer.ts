/**
 * The Cloud Scheduler stand-in of the local stack: a POST to poll-jobs every few seconds, never
 * overlapping. A tick that comes while a poll is still running is dropped rather than queued:
 * queued ticks would pile up behind a slow poll (a busy machine) and then run back to back.
 */
import type { Logger } from '../shared/logging/index.ts';

export interface PollTimer {
  /** Runs one poll now; it starts after the call, even when a poll is already running. */
  pollOnce(): Promise<void>;
  /** Stops the ticks and waits for a poll under way. */
  stop(): Promise<void>;
}

export function startPollTimer(pollUrl: string, pollSeconds: number, logger: Logger): PollTimer {
  let polling: Promise<void> | undefined;
  let pollAgain = false;
  const callPoll = async () => {
    try {
      const response = await fetch(pollUrl, { method: 'POST', signal: AbortSignal.timeout(300_000) });
      await response.body?.cancel();
      if (!response.ok) logger.warn('poll-jobs answered an error', { status: response.status });
    } catch (error) {
      logger.warn('poll-jobs unreachable', { error });
    }
  };
  const schedule = (): Promise<void> => {
    polling ??= (async () => {
      do {
        pollAgain = false;
        await callPoll();
      } while (pollAgain);
    })().finally(() => {
      polling = undefined;
    });
    return polling;
  };
  const tick = () => void schedule();
  // An explicit poll() must see a poll that starts after it was asked for.
  const pollOnce = () => {
    if (polling) pollAgain = true;
    return schedule();
  };
  const timer = setInterval(tick, pollSeconds * 1000);
  return {
    pollOnce,
    async stop() {
      clearInterval(timer);
      pollAgain = false;
      await polling;
    },
  };
}
