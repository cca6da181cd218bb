/**
 * Runs each function as its own Functions Framework process, the way Cloud Run serves it: the
 * same entry points and signature types as the deployment, loading the TypeScript source through
 * tsx. Children run in their own registered process groups so a stop takes their descendants too.
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
}

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

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
      '--import',
      'tsx',
      frameworkMain,
      `--target=${spec.target}`,
      `--signature-type=${spec.signatureType}`,
      `--port=${spec.port}`,
      '--source=functions/index.ts',
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
