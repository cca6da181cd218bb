import { commands } from './commands/index.ts';

async function usage(): Promise<string> {
  const lines = await Promise.all(
    Object.entries(commands).map(async ([name, load]) => `  ${name.padEnd(10)} ${(await load()).summary}`),
  );
  return `tunedrop: drop a JSONL dataset into a bucket; get one Vertex AI tuning job and a signed notification.

Usage: tunedrop <command> [options]

Commands:
${lines.join('\n')}

Run \`tunedrop <command> --help\` for a command's options.`;
}

/** Runs one CLI invocation and returns its exit code: 0 success, 1 a failed check, 2 usage or I/O error. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`tunedrop: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  return (await load()).run(rest);
}
