/** A CLI command: a runner returning the exit code (0 ok, 1 a failed check, 2 usage or I/O error). */
export interface Command {
  run(args: string[]): Promise<number>;
}

/**
 * Commands load on demand: `tunedrop validate` should not pay for the Google Cloud clients that
 * `dev` and `jobs` need, nor fail because of them; `tunedrop --help` loads none of them: it
 * prints the summaries below.
 */
export const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: {
    summary: 'validate a JSONL tuning dataset locally (errors, limits, tokens, cost)',
    load: async () => (await import('./validate.ts')).validate,
  },
  submit: {
    summary: 'validate a dataset locally, upload it into incoming/ and print its job id',
    load: async () => (await import('./submit.ts')).submit,
  },
  jobs: {
    summary: 'list, show, approve, cancel jobs, read their reports and replay their events',
    load: async () => (await import('./jobs.ts')).jobs,
  },
  dev: {
    summary: 'run tunedrop locally (emulators, functions, bucket folder, scheduler)',
    load: async () => (await import('./dev.ts')).dev,
  },
  demo: {
    summary: 'run the local stack, tune a sample dataset and verify the signed job.succeeded webhook',
    load: async () => (await import('./demo.ts')).demo,
  },
  emulator: {
    summary: 'run a local emulator (vertex: the Vertex AI tuning API; yandex: Yandex AI Studio tuning)',
    load: async () => (await import('./emulator.ts')).emulator,
  },
  models: {
    summary: 'list the model catalog in effect: status, dates, limits, prices (--json)',
    load: async () => (await import('./models.ts')).models,
  },
};
