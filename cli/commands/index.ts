/** A CLI command: a one-line summary for the usage text, and a runner returning the exit code. */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

/**
 * Commands load on demand: `tunedrop validate` should not pay for the Google Cloud clients that
 * `dev` and `jobs` need, nor fail because of them.
 */
export const commands: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./validate.ts')).validate,
  models: async () => (await import('./models.ts')).models,
  submit: async () => (await import('./submit.ts')).submit,
  jobs: async () => (await import('./jobs.ts')).jobs,
  dev: async () => (await import('./dev.ts')).dev,
  demo: async () => (await import('./demo.ts')).demo,
  emulator: async () => (await import('./emulator.ts')).emulator,
};
