/**
 * Faults on demand, so tests and the local stack can rehearse what Vertex AI does on a bad day:
 * quota errors on create, random 503s, jobs that fail, jobs that never progress.
 */
import { z } from 'zod';

export const FaultSettings = z.object({
  /** The next N create calls answer 429 RESOURCE_EXHAUSTED. */
  rateLimitCreates: z.number().int().nonnegative().default(0),
  /**
   * The next N create calls answer 400 INVALID_ARGUMENT on `base_model`, as Vertex AI does for a
   * model it will not tune (one that retired or was never tunable, whatever tunedrop's catalog says).
   */
  rejectCreates: z.number().int().nonnegative().default(0),
  /** The next N create calls create the job, then answer 503 UNAVAILABLE (a front end timing out). */
  unavailableAfterCreates: z.number().int().nonnegative().default(0),
  /** tuningJobs.list leaves out jobs created less than this many ms ago (a lagging list index). */
  listLagMs: z.number().int().nonnegative().default(0),
  /** Probability (0..1) that any API call answers 503 UNAVAILABLE. */
  unavailableRate: z.number().min(0).max(1).default(0),
  /** The next N jobs created fail while running. */
  failNextJobs: z.number().int().nonnegative().default(0),
  /** The next N jobs created never progress past `stallIn`. */
  stallNextJobs: z.number().int().nonnegative().default(0),
  stallIn: z.enum(['PENDING', 'RUNNING']).default('RUNNING'),
});
export type FaultSettings = z.infer<typeof FaultSettings>;
export const FaultUpdate = FaultSettings.partial();
export type FaultUpdate = z.infer<typeof FaultUpdate>;

export class Faults {
  private settings: FaultSettings = FaultSettings.parse({});

  constructor(
    initial: FaultUpdate = {},
    private readonly random: () => number = Math.random,
  ) {
    this.set(initial);
  }

  /** Merges the given settings over the current ones. */
  set(update: FaultUpdate): FaultSettings {
    this.settings = FaultSettings.parse({ ...this.settings, ...FaultUpdate.parse(update) });
    return this.get();
  }

  get(): FaultSettings {
    return { ...this.settings };
  }

  reset(): void {
    this.settings = FaultSettings.parse({});
  }

  /** Consumes one create from the 429 budget; true when this create must be rejected. */
  takeRateLimit(): boolean {
    if (this.settings.rateLimitCreates <= 0) return false;
    this.settings.rateLimitCreates--;
    return true;
  }

  /** Consumes one 400 from the rejection budget; true when this create must be refused. */
  takeRejectCreate(): boolean {
    if (this.settings.rejectCreates <= 0) return false;
    this.settings.rejectCreates--;
    return true;
  }

  /** Consumes one "created, then 503"; true when this create must answer 503 after creating. */
  takeUnavailableAfterCreate(): boolean {
    if (this.settings.unavailableAfterCreates <= 0) return false;
    this.settings.unavailableAfterCreates--;
    return true;
  }

  rollUnavailable(): boolean {
    return this.settings.unavailableRate > 0 && this.random() < this.settings.unavailableRate;
  }

  /** What happens to a job being created: consumes one fail or stall. */
  takeJobFate(): { fail: boolean; stallIn?: 'PENDING' | 'RUNNING' } {
    if (this.settings.failNextJobs > 0) {
      this.settings.failNextJobs--;
      return { fail: true };
    }
    if (this.settings.stallNextJobs > 0) {
      this.settings.stallNextJobs--;
      return { fail: false, stallIn: this.settings.stallIn };
    }
    return { fail: false };
  }
}
