/**
 * Runs each function as its own Functions Framework process, the way Cloud Run serves it: the
 * same entry points and signature types as the deployment. Run from the compiled CLI (dist/cli,
 * scripts/build-cli.mjs), a function process loads the compiled functions.js beside this code;
 * run from the TypeScript source (tests that import the stack), it loads functions/index.ts
 * through tsx. Children run in their own registered process groups so a stop takes their
 * descendants too.
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectOutput } from './child-readiness.ts';
import { spawnInProcessGroup, stopProcessGroup } from './process-group.ts';

export interface FunctionSpec {
  /** The entry point registered in functions/index.ts. */
  target: string;
  signatureType: 'http' | 'cloudevent';
  port: number;
  /**
   * Where readiness is checked, and whether it must answer 2xx. By default `/` with any status:
   * a CloudEvent function answers a GET with 404 without running, which proves it listens. An
   * HTTP function whose every request does work (poll-jobs) names a route that does none.
   */
  readiness?: { path: string; ok: boolean };
}

/**
 * How long a function process may take to answer: tsx compiles the sources on first load, which
 * takes a few seconds on a quiet machine and much longer on a busy one. A process that exits
 * fails at once, so a generous bound costs nothing when something is wrong.
 */
export const functionStartTimeoutMs = 180_000;

const here = dirname(fileURLToPath(import.meta.url));
/** Compiled: this code is a chunk in dist/cli, beside functions.js. */
const compiled = !import.meta.url.endsWith('.ts');
export const repoRoot = compiled ? join(here, '..', '..') : join(here, '..');
const functionsSource = compiled
  ? { loader: [], source: join(here, 'functions.js') }
  : { loader: ['--import', 'tsx'], source: 'functions/index.ts' };

const require = createRequire(import.meta.url);
// The package exports only its API entry (build/src/index.js); its CLI sits beside it.
const frameworkMain = join(dirname(require.resolve('@google-cloud/functions-framework')), 'main.js');

export interface FunctionProcess {
  spec: FunctionSpec;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startFunctionProcess(
  spec: FunctionSpec,
  env: Record<string, string>,
  onLine: (target: string, line: string) => void,
): Promise<FunctionProcess> {
  const child = spawnInProcessGroup(
    process.execPath,
    [
      ...functionsSource.loader,
      frameworkMain,
      `--target=${spec.target}`,
      `--signature-type=${spec.signatureType}`,
      `--port=${spec.port}`,
      `--source=${functionsSource.source}`,
    ],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = collectOutput(child, (line) => onLine(spec.target, line));
  const url = `http://127.0.0.1:${spec.port}`;
  const stop = () => stopProcessGroup(child);
  try {
    // Listening is enough. A request would run the function: a bare one makes the framework
    // throw for a CloudEvent function (a TypeError about 'context' in its log at every start),
    // and runs a whole poll for poll-jobs (probes that time out pile up polls on one lease).
    await waitForListening(child, spec.port, `function ${spec.target}`, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { spec, url, child, stop };
}

/** Resolves once something accepts a TCP connection on 127.0.0.1:port; fails if the child exits. */
async function waitForListening(child: ChildProcess, port: number, what: string, output: string[]) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${what} exited with ${child.signalCode ?? `code ${child.exitCode}`}:\n${output.slice(-20).join('\n')}`,
      );
    }
    const listening = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (listening) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${what} did not listen on 127.0.0.1:${port} within 60000 ms:\n${output.slice(-20).join('\n')}`,
  );
}
