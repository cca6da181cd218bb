import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertPortFree } from '../../local/emulators/index.ts';
import { repoRoot } from '../../local/function-processes.ts';

interface DevRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** `tunedrop dev --free-ports` in a scratch folder (no .env, logs and bucket kept out of the repo). */
function startDev(): DevRun {
  const cwd = mkdtempSync(join(tmpdir(), 'tunedrop-dev-signals-'));
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin/tunedrop.js'), 'dev', '--free-ports', '--bucket-dir', join(cwd, 'bucket')],
    { cwd, env: { ...process.env, FIRESTORE_EMULATOR_HOST: '', PUBSUB_EMULATOR_HOST: '' } },
  );
  cleanups.push(() => {
    // A test that failed half-way leaves the dev process and its process groups running: kill
    // every descendant too (emulators re-parent to init once their parent is gone).
    if (child.exitCode === null && child.pid !== undefined) {
      for (const pid of [child.pid, ...descendantsOf(child.pid)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    rmSync(cwd, { recursive: true, force: true });
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = output.match(pattern);
        if (match) {
          listeners.delete(check);
          resolve(match);
        }
      };
      listeners.add(check);
      check();
      void exited.then(() => {
        check();
        reject(new Error(`tunedrop dev exited before printing ${pattern}:\n${output}`));
      });
    });
  return { child, output: () => output, exited, waitFor };
}

/** Every port the dev command printed on its `Ports:` line. */
function printedPorts(portsLine: string): number[] {
  return [...portsLine.matchAll(/ (\d{2,5})(?=,|$)/g)].map((match) => Number(match[1]));
}

/** Every process below `pid` right now, from ps (children re-parent to init if their parent dies). */
function descendantsOf(pid: number): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((row) => row.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift();
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/**
 * Whether `pid` still runs. A killed grandchild re-parented to init stays a zombie until init
 * reaps it (some container inits never do): it holds nothing, so it counts as gone.
 */
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).startsWith('Z');
  } catch {
    return false; // Gone between the two looks.
  }
};

/** Processes whose command line names one of `ports` (the emulators are started with --host-port). */
function processesOnPorts(ports: number[]): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => ports.some((port) => new RegExp(`[:=]${port}\\b`).test(line)));
}

describe('tunedrop dev and Ctrl-C', () => {
  it('stops every child process on SIGINT once running, exits 0 and frees every port', async () => {
    const dev = startDev();
    const [portsLine] = await dev.waitFor(/^Ports: .*$/m);
    const ports = printedPorts(portsLine);
    // Four functions, two Google emulators, the Vertex AI emulator and the Yandex one (gRPC and upload).
    expect(ports).toHaveLength(9);
    await dev.waitFor(/tunedrop is running/);
    const children = descendantsOf(dev.child.pid!);
    // Two emulators (gcloud wrapper + Java each) and four function processes at least.
    expect(children.length, dev.output()).toBeGreaterThanOrEqual(8);

    dev.child.kill('SIGINT');
    expect(await dev.exited, dev.output()).toBe(0);
    expect(dev.output()).toContain('Stopped.');
    expect(children.filter(isAlive), dev.output()).toEqual([]);
    for (const port of ports) await assertPortFree(port);
  }, 600_000);

  it('leaves no emulator running when SIGINT arrives while the emulators are starting', async () => {
    const dev = startDev();
    const [portsLine] = await dev.waitFor(/^Ports: .*$/m);
    const ports = printedPorts(portsLine);
    // Interrupt as soon as an emulator has been spawned, long before it answers.
    while (processesOnPorts(ports).length === 0 && dev.child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const children = descendantsOf(dev.child.pid!);
    dev.child.kill('SIGINT');
    const code = await dev.exited;
    expect(code, dev.output()).toBe(130);
    expect(dev.output()).toContain('Stopped before tunedrop finished starting');
    expect(children.filter(isAlive), dev.output()).toEqual([]);
    expect(processesOnPorts(ports)).toEqual([]);
    for (const port of ports) await assertPortFree(port);
  }, 600_000);
});
