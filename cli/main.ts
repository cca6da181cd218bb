import { commands } from './commands/index.ts';

const usage = `tunedrop: drop a JSONL dataset into a bucket; get one Vertex AI tuning job and a signed notification.

Usage: tunedrop <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

Run \`tunedrop <command> --help\` for a command's options.`;

/** Runs one CLI invocation and returns its exit code: 0 success, 1 a failed check, 2 usage or I/O error. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') {
    console.log(usage);
    return 0;
  }
  if (name === 'help') {
    // `tunedrop help jobs` is `tunedrop jobs --help`.
    const topic = rest[0] === undefined ? undefined : commands[rest[0]];
    if (topic) return (await topic.load()).run([...rest.slice(1), '--help']);
    if (rest[0] === undefined) {
      console.log(usage);
      return 0;
    }
    console.error(`tunedrop: no help for unknown command "${rest[0]}"\n\n${usage}`);
    return 2;
  }
  if (name === undefined) {
    console.error(`tunedrop: missing command\n\n${usage}`);
    return 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`tunedrop: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  return (await command.load()).run(rest);
}
