/**
 * The built bin, run as a user runs it (the test setup builds dist/cli first): it loads no
 * TypeScript, and every command reports a usage mistake the same way.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../../bin/tunedrop.js', import.meta.url));

/** A module hook that fails any import of tsx or of a .ts file: the bin must need neither. */
const noTypeScript = `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(
  'data:text/javascript,export async function resolve(s,c,n){const r=await n(s,c);if(s.startsWith("tsx")||r.url.endsWith(".ts"))throw new Error("TypeScript on the path: "+r.url);return r}',
)})`;

function tunedrop(args: string[], nodeArgs: string[] = []) {
  const child = spawnSync(process.execPath, [...nodeArgs, bin, ...args], {
    encoding: 'utf8',
    // Nothing may reach an API or a bucket: every case here fails before that, or prints help.
    env: { ...process.env, TUNEDROP_API_URL: 'http://127.0.0.1:9', NO_COLOR: '1' },
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** Exit 2; stderr is one line saying what is wrong, a blank line, then the usage. */
function expectUsageError(result: ReturnType<typeof tunedrop>, firstLine: string | RegExp, usage: string) {
  expect(result.code).toBe(2);
  const [first, blank, third] = result.stderr.split('\n');
  if (typeof firstLine === 'string') expect(first).toBe(firstLine);
  else expect(first).toMatch(firstLine);
  expect(blank).toBe('');
  expect(third).toBe(usage);
  expect(result.stdout).toBe('');
}

describe('the tunedrop bin', { timeout: 60_000 }, () => {
  it('runs compiled JavaScript: no tsx and no .ts file is loaded, even by validate', () => {
    const help = tunedrop(['--help'], ['--import', noTypeScript]);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    for (const command of ['validate', 'submit', 'jobs', 'dev', 'demo', 'emulator']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\s+\\S`, 'm'));
    }
    const file = fileURLToPath(new URL('../../fixtures/datasets/valid.jsonl', import.meta.url));
    const validate = tunedrop(['validate', file], ['--import', noTypeScript]);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    expect(tunedrop(['jobs', 'report', '--help'], ['--import', noTypeScript]).code).toBe(0);
  });

  it('says a command is missing or unknown, then prints the command list', () => {
    const missing = tunedrop([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.split('\n')[0]).toBe('tunedrop: missing command');
    expect(missing.stderr).toContain('Usage: tunedrop <command> [options]');
    const unknown = tunedrop(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe('tunedrop: unknown command "frobnicate"');
  });

  it.each([
    ['validate', ['validate', 'x.jsonl', '--bogus'], 'Usage: tunedrop validate FILE [options]'],
    ['submit', ['submit', 'x.jsonl', '--bogus'], 'Usage: tunedrop submit FILE|DIR [options]'],
    ['dev', ['dev', '--bogus'], 'Usage: tunedrop dev [options]   (also: npm start -- [options])'],
    ['demo', ['demo', '--bogus'], 'Usage: tunedrop demo [options]   (also: npm run demo -- [options])'],
    ['emulator', ['emulator', 'vertex', '--bogus'], 'Usage: tunedrop emulator vertex [options]'],
    ['jobs list', ['jobs', 'list', '--bogus'], 'Usage: tunedrop jobs list [options]'],
    ['jobs get', ['jobs', 'get', 'abcdef012345', '--bogus'], 'Usage: tunedrop jobs get ID [options]'],
    [
      'jobs report',
      ['jobs', 'report', 'abcdef012345', '--bogus'],
      'Usage: tunedrop jobs report ID [options]',
    ],
    [
      'jobs approve',
      ['jobs', 'approve', 'abcdef012345', '--bogus'],
      'Usage: tunedrop jobs approve ID [options]',
    ],
    [
      'jobs cancel',
      ['jobs', 'cancel', 'abcdef012345', '--bogus'],
      'Usage: tunedrop jobs cancel ID [options]',
    ],
    [
      'jobs replay',
      ['jobs', 'replay', 'abcdef012345', '--bogus'],
      'Usage: tunedrop jobs replay ID [options]',
    ],
  ])('%s: an unknown option is exit 2, one line naming it, then the usage', (name, args, usage) => {
    expectUsageError(tunedrop(args), `tunedrop ${name}: unknown option --bogus`, usage);
  });

  it('names an option given without its value, and a missing or extra argument', () => {
    expectUsageError(
      tunedrop(['validate', '--model']),
      'tunedrop validate: option --model needs a value',
      'Usage: tunedrop validate FILE [options]',
    );
    expectUsageError(
      tunedrop(['validate', 'x.jsonl', '--json=yes']),
      'tunedrop validate: option --json takes no value',
      'Usage: tunedrop validate FILE [options]',
    );
    expectUsageError(
      tunedrop(['demo', '--timeout-seconds', '-1']),
      'tunedrop demo: option --timeout-seconds needs a value (for one starting with "-", write --timeout-seconds=-1)',
      'Usage: tunedrop demo [options]   (also: npm run demo -- [options])',
    );
    expectUsageError(
      tunedrop(['validate']),
      'tunedrop validate: missing FILE',
      'Usage: tunedrop validate FILE [options]',
    );
    expectUsageError(
      tunedrop(['submit']),
      'tunedrop submit: missing FILE or DIR',
      'Usage: tunedrop submit FILE|DIR [options]',
    );
    expectUsageError(
      tunedrop(['jobs', 'get']),
      'tunedrop jobs get: missing job ID',
      'Usage: tunedrop jobs get ID [options]',
    );
    expectUsageError(
      tunedrop(['jobs', 'list', 'abcdef012345']),
      'tunedrop jobs list: unexpected argument "abcdef012345"',
      'Usage: tunedrop jobs list [options]',
    );
    expectUsageError(
      tunedrop(['jobs', 'cancel', 'abcdef012345', 'another']),
      'tunedrop jobs cancel: unexpected argument "another"',
      'Usage: tunedrop jobs cancel ID [options]',
    );
    expectUsageError(
      tunedrop(['jobs']),
      'tunedrop jobs: missing subcommand',
      'Usage: tunedrop jobs <subcommand> [ID] [options]',
    );
    expectUsageError(
      tunedrop(['jobs', 'explode']),
      'tunedrop jobs: unknown subcommand "explode"',
      'Usage: tunedrop jobs <subcommand> [ID] [options]',
    );
    expectUsageError(
      tunedrop(['emulator']),
      'tunedrop emulator: missing emulator name (vertex or yandex)',
      'Usage: tunedrop emulator vertex [options]',
    );
  });

  it("refuses another subcommand's option, with this subcommand's usage", () => {
    expectUsageError(
      tunedrop(['jobs', 'get', 'abcdef012345', '--state', 'RUNNING']),
      'tunedrop jobs get: unknown option --state',
      'Usage: tunedrop jobs get ID [options]',
    );
    expectUsageError(
      tunedrop(['jobs', 'approve', 'abcdef012345', '--reason', 'no']),
      'tunedrop jobs approve: unknown option --reason',
      'Usage: tunedrop jobs approve ID [options]',
    );
    expectUsageError(
      tunedrop(['jobs', 'list', '--page-size', '0']),
      'tunedrop jobs list: --page-size must be a whole number from 1 to 500, got "0"',
      'Usage: tunedrop jobs list [options]',
    );
    expectUsageError(
      tunedrop(['jobs', 'get', 'abcdef012345', '--fields', 'id,colour']),
      /^tunedrop jobs get: unknown field colour; known: id, state/,
      'Usage: tunedrop jobs get ID [options]',
    );
  });

  it.each([
    ['list', ['--state', '--label', '--all', '--fields'], ['--reason', '--by', '--errors']],
    ['get', ['--fields', '--json'], ['--state', '--reason', '--by']],
    ['report', ['--errors', '--json'], ['--fields', '--state']],
    ['approve', ['--by', '--fields'], ['--reason', '--state']],
    ['cancel', ['--reason', '--fields'], ['--by', '--state']],
    ['replay', ['--json', '--api'], ['--fields', '--state', '--reason']],
  ])('jobs %s --help shows that subcommand, with its options only', (sub, has, hasNot) => {
    for (const args of [
      ['jobs', sub, '--help'],
      ['jobs', sub, 'abcdef012345', '-h'],
      ['help', 'jobs', sub],
    ]) {
      const result = tunedrop(args);
      expect(result.code).toBe(0);
      expect(result.stdout.split('\n')[0]).toMatch(new RegExp(`^Usage: tunedrop jobs ${sub} `));
      for (const option of has) expect(result.stdout).toContain(`  ${option} `);
      for (const option of hasNot) expect(result.stdout).not.toContain(`  ${option} `);
    }
  });
});
