/** A CLI command: a one-line summary for the usage text, and a runner returning the exit code. */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

import { demo } from './demo.ts';
import { dev } from './dev.ts';
import { emulator } from './emulator.ts';
import { jobs } from './jobs.ts';
import { submit } from './submit.ts';
import { validate } from './validate.ts';

export const commands: Record<string, Command> = { validate, submit, jobs, dev, demo, emulator };
