/**
 * Children of the local stack (the emulators' gcloud wrappers and their Java, the function
 * processes) run detached, each in its own process group, so one signal to the group takes a
 * wrapper and everything it started. Detached children do not die with us, so every group is kept
 * in a registry from spawn until it is known dead, and whatever is still registered is killed:
 * on SIGINT/SIGTERM (by the command's handler), on an uncaught error, and on `process.on('exit')`
 * with a synchronous SIGKILL as the last resort. A second start then finds nothing stale.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

const live = new Set<number>();
let refusing = false;
let exitHookInstalled = false;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** SIGKILL to every registered group, synchronously: safe inside `process.on('exit')`. */
export function killRegisteredProcessGroupsSync(): void {
  for (const pid of live) signalGroup(pid, 'SIGKILL');
  live.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killRegisteredProcessGroupsSync);
}

/** Process-group ids of the children still registered, for diagnosis and tests. */
export function registeredProcessGroups(): number[] {
  return [...live];
}

/**
 * Records a detached child's group. After `refuseNewProcessGroups()` (a shutdown has begun) a new
 * group is killed at once, so a start racing with Ctrl-C cannot leave a child behind.
 */
export function registerProcessGroup(pid: number): void {
  installExitHook();
  if (refusing) {
    signalGroup(pid, 'SIGKILL');
    return;
  }
  live.add(pid);
}

export function unregisterProcessGroup(pid: number): void {
  live.delete(pid);
}

/** From now on every newly spawned group is killed immediately; for shutdown. */
export function refuseNewProcessGroups(): void {
  refusing = true;
}

/** Spawns `command` detached, in its own process group, and registers that group. */
export function spawnInProcessGroup(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  if (child.pid) registerProcessGroup(child.pid);
  return child;
}

/**
 * Stops a child started with `spawnInProcessGroup` together with everything it started: SIGTERM
 * to the whole process group, SIGKILL after a grace period, and a final SIGKILL sweep once the
 * child has exited, because a wrapper (gcloud) can exit before its own child (the emulator's Java).
 */
export function stopProcessGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const pid = child.pid;
    if (!pid) return resolve();
    const done = () => {
      signalGroup(pid, 'SIGKILL');
      unregisterProcessGroup(pid);
      resolve();
    };
    // Already exited: its descendants may still hold the group, so sweep it anyway.
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const force = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    signalGroup(pid, 'SIGTERM');
  });
}

/**
 * Stops every registered group: SIGTERM, then SIGKILL after `graceMs`. For a shutdown that does
 * not hold the ChildProcess objects (a signal arriving while the stack is still starting).
 */
export async function stopRegisteredProcessGroups(graceMs = 3000): Promise<void> {
  const pids = [...live];
  for (const pid of pids) signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  const alive = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  while (pids.some(alive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const pid of pids) {
    signalGroup(pid, 'SIGKILL');
    unregisterProcessGroup(pid);
  }
}

export interface ShutdownHandlers {
  /** Removes the handlers, once the command has stopped everything itself. */
  dispose(): void;
}

/**
 * Installs SIGINT/SIGTERM handlers that call `onStop` once (a second signal kills every group at
 * once and exits 130), and uncaught-error handlers that kill every group and exit 1. Install it
 * before starting anything, so Ctrl-C during start-up is handled too.
 */
export function installShutdownHandlers(onStop: (signal: NodeJS.Signals) => void): ShutdownHandlers {
  installExitHook();
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      killRegisteredProcessGroupsSync();
      process.exit(130);
    }
    stopping = true;
    onStop(signal);
  };
  const onFatal = (error: unknown) => {
    console.error('tunedrop: unexpected error; stopping every child process', error);
    killRegisteredProcessGroupsSync();
    process.exit(1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  return {
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('uncaughtException', onFatal);
      process.off('unhandledRejection', onFatal);
    },
  };
}
