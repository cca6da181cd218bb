/**
 * Starts and stops the Google Cloud CLI's Pub/Sub and Firestore emulators, for the local stack and
 * for the integration tests. Each emulator runs in its own registered process group (see
 * process-group.ts): the gcloud wrapper starts a Java child, and killing only the wrapper would
 * leave the Java process holding the port.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectOutput, waitForHttp } from '../child-readiness.ts';
import { spawnInProcessGroup, stopProcessGroup } from '../process-group.ts';

export type EmulatorKind = 'pubsub' | 'firestore';

export interface RunningEmulator {
  kind: EmulatorKind;
  /** host:port, the value for PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST. */
  hostPort: string;
  pid: number;
  stop(): Promise<void>;
}

export interface StartEmulatorOptions {
  host?: string;
  port: number;
  /** How long to wait for the emulator to answer: Java start-up takes seconds on a quiet machine, minutes on a busy one. */
  timeoutMs?: number;
  /** Lines of the emulator's own output, for diagnosis. */
  onOutput?: (line: string) => void;
  /** Firestore only: an export's `.overall_export_metadata` to load at start (firestore-state.ts). */
  importData?: string;
}

export class EmulatorStartError extends Error {
  override readonly name = 'EmulatorStartError';
}

/**
 * The JVM keeps a perf-data file in the temp folder (hsperfdata_<user>/<pid>) that a killed process
 * group never removes: every Java this module starts runs without it, so nothing is left there.
 */
function withoutJvmPerfData(): { JAVA_TOOL_OPTIONS: string } {
  return {
    JAVA_TOOL_OPTIONS: [process.env.JAVA_TOOL_OPTIONS, '-XX:-UsePerfData'].filter(Boolean).join(' '),
  };
}

/** Fails fast, with what to install, when gcloud, an emulator component or Java is missing. */
export function checkEmulatorPrerequisites(): void {
  const probe = (command: string, args: string[]) =>
    spawnSync(command, args, { stdio: 'ignore', env: { ...process.env, ...withoutJvmPerfData() } }).status ===
    0;
  if (!probe('gcloud', ['--version'])) {
    throw new EmulatorStartError(
      'the Google Cloud CLI (gcloud) is not on PATH: install it with its Pub/Sub and Firestore emulator components (https://cloud.google.com/sdk/docs/install)',
    );
  }
  if (!probe('java', ['-version'])) {
    throw new EmulatorStartError(
      'Java is not on PATH: the Pub/Sub and Firestore emulators need Java 11 or newer',
    );
  }
}

/** Resolves when nothing listens on host:port; rejects with a clear message when something does. */
export async function assertPortFree(port: number, host = '127.0.0.1', what = 'this service'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new EmulatorStartError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use (needed for ${what}); stop what holds it or choose another port`
            : `cannot listen on ${host}:${port} for ${what}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** A port that is free right now, for tests that start their own emulators. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

export async function startEmulator(
  kind: EmulatorKind,
  options: StartEmulatorOptions,
): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const hostPort = `${host}:${options.port}`;
  await assertPortFree(options.port, host, `the ${kind} emulator`);
  // A fresh data folder per start (Pub/Sub's; Firestore keeps its data in memory): a second start
  // never finds stale topics. Removed on stop, and when this process exits without a stop (a
  // Ctrl-C while starting ends in process.exit), so the temp folder keeps nothing behind.
  const dataDir = kind === 'pubsub' ? mkdtempSync(join(tmpdir(), `tunedrop-${kind}-`)) : undefined;
  const removeDataDir = () => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', removeDataDir);
  const args = ['beta', 'emulators', kind, 'start', `--host-port=${hostPort}`];
  if (dataDir) args.push(`--data-dir=${dataDir}`);
  if (kind === 'firestore' && options.importData) args.push(`--import-data=${options.importData}`);
  const child = spawnInProcessGroup('gcloud', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
      METADATA_SERVER_DETECTION: 'none',
      ...withoutJvmPerfData(),
    },
  });
  const output = collectOutput(child, options.onOutput);
  const stop = async () => {
    await stopProcessGroup(child);
    removeDataDir();
    process.removeListener('exit', removeDataDir);
  };
  try {
    await waitForHttp(child, `http://${hostPort}/`, {
      what: `the ${kind} emulator`,
      timeoutMs: options.timeoutMs ?? 180_000,
      output,
      anyStatus: false,
      fail: (message) => new EmulatorStartError(message),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { kind, hostPort, pid: child.pid!, stop };
}
