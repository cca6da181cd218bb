import type { ChildProcess } from 'node:child_process';

/**
 * Stops a child started with `detached: true` together with everything it started: SIGTERM to
 * the whole process group, SIGKILL after a grace period, and a final SIGKILL sweep once the child
 * has exited, because a wrapper (gcloud) can exit before its own child (the emulator's Java).
 */
export function stopProcessGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return resolve();
    const pid = child.pid;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const force = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      signalGroup('SIGKILL');
      resolve();
    });
    signalGroup('SIGTERM');
  });
}
