/**
 * Runs each function as its own Functions Framework process, the way Cloud Run serves it: the
 * same entry points and signature types as the deployment, loading the TypeScript source through
 * tsx. Children run in their own registered process groups so a stop takes their descendants too.
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

async function waitForPort(url: string, child: ChildProcess, timeoutMs: number, output: string[]) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `function exited with ${child.signalCode ?? `code ${child.exitCode}`}:\n${output.slice(-20).join('\n')}`,
      );
    }
    try {
      // Any HTTP answer means the server listens; the function itself may reject a bare GET.
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(
    `function did not listen at ${url} within ${timeoutMs} ms:\n${output.slice(-20).join('\n')}`,
  );
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
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 200) output.shift();
      onLine(spec.target, line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const url = `http://127.0.0.1:${spec.port}`;
  const stop = () => stopProcessGroup(child);
  try {
    await waitForPort(url, child, 60_000, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { spec, url, child, stop };
}
