/**
 * Usage errors, the same way in every command: exit 2, one line saying what is wrong, a blank
 * line, then the usage of the command (or subcommand) that was called, all on stderr.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** How a command was called is wrong. The message is one line; the caller prints the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Prints the error line and the usage; returns the exit code, 2. */
export function printUsageError(command: string, message: string, usage: string): number {
  console.error(`${command}: ${message}\n\n${usage}`);
  return 2;
}

/**
 * node:util's parse errors are long and tell the reader about `--` escaping; these say the same
 * in a line: `unknown option --foo`, `option --model needs a value`.
 */
export function parseErrorMessage(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /option '([^']+)'/i.exec(message)?.[1];
    if (option) return `unknown option ${option}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = /Option '(-\w, )?(--[\w-]+)/.exec(message)?.[2];
    if (option && /argument missing/.test(message)) return `option ${option} needs a value`;
    if (option && /ambiguous/.test(message)) {
      return `option ${option} needs a value (for one starting with "-", write ${option}=-1)`;
    }
    if (option && /does not take an argument/.test(message)) return `option ${option} takes no value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const argument = /argument '([^']*)'/.exec(message)?.[1];
    if (argument !== undefined) return `unexpected argument "${argument}"`;
  }
  return message.split('\n')[0] ?? message;
}

/** parseArgs in strict mode, with its errors turned into one-line UsageErrors. */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(parseErrorMessage(error));
  }
}
