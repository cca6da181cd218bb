/**
 * Faults on demand, so tests and the local stack can rehearse what Yandex AI Studio does on a bad
 * day: quota refusals on Tune (few runs per hour and day), random UNAVAILABLE answers, tasks that
 * fail or never progress, and a Tune whose answer is lost after the task was created (what a
 * crash or a dropped connection between Tune and the caller's record update looks like).
 */
import { z } from 'zod';

export const YandexFaultSettings = z.object({
  /** The next N Tune calls answer RESOURCE_EXHAUSTED and create nothing. */
  rateLimitTunes: z.number().int().nonnegative().default(0),
  /** Probability (0..1) that any gRPC call answers UNAVAILABLE (and does nothing). */
  unavailableRate: z.number().min(0).max(1).default(0),
  /** The next N Tune calls create the task, then answer UNAVAILABLE: the caller never learns its id. */
  loseNextTuneResponses: z.number().int().nonnegative().default(0),
  /** The next N tasks created fail while in progress (ListErrors says why). */
  failNextTasks: z.number().int().nonnegative().default(0),
  /** The next N tasks created never progress past `stallIn`. */
  stallNextTasks: z.number().int().nonnegative().default(0),
  stallIn: z.enum(['PENDING', 'IN_PROGRESS']).default('IN_PROGRESS'),
  /**
   * The next N Validate calls refuse a dataset the format check accepts, flagging its first rows
   * as too long for the model by Yandex's own tokenizer (which tunedrop can only estimate).
   */
  refuseNextValidations: z.number().int().nonnegative().default(0),
});
export type YandexFaultSettings = z.infer<typeof YandexFaultSettings>;
export const YandexFaultUpdate = YandexFaultSettings.partial();
export type YandexFaultUpdate = z.infer<typeof YandexFaultUpdate>;

export interface TaskFate {
  fail: boolean;
  stallIn?: 'PENDING' | 'IN_PROGRESS';
}

export class YandexFaults {
  private settings: YandexFaultSettings = YandexFaultSettings.parse({});

  constructor(
    initial: YandexFaultUpdate = {},
    private readonly random: () => number = Math.random,
  ) {
    this.set(initial);
  }

  set(update: YandexFaultUpdate): YandexFaultSettings {
    this.settings = YandexFaultSettings.parse({ ...this.settings, ...YandexFaultUpdate.parse(update) });
    return this.get();
  }

  get(): YandexFaultSettings {
    return { ...this.settings };
  }

  reset(): void {
    this.settings = YandexFaultSettings.parse({});
  }

  takeRateLimit(): boolean {
    if (this.settings.rateLimitTunes <= 0) return false;
    this.settings.rateLimitTunes--;
    return true;
  }

  takeLostResponse(): boolean {
    if (this.settings.loseNextTuneResponses <= 0) return false;
    this.settings.loseNextTuneResponses--;
    return true;
  }

  takeValidationRefusal(): boolean {
    if (this.settings.refuseNextValidations <= 0) return false;
    this.settings.refuseNextValidations--;
    return true;
  }

  rollUnavailable(): boolean {
    return this.settings.unavailableRate > 0 && this.random() < this.settings.unavailableRate;
  }

  takeTaskFate(): TaskFate {
    if (this.settings.failNextTasks > 0) {
      this.settings.failNextTasks--;
      return { fail: true };
    }
    if (this.settings.stallNextTasks > 0) {
      this.settings.stallNextTasks--;
      return { fail: false, stallIn: this.settings.stallIn };
    }
    return { fail: false };
  }
}
