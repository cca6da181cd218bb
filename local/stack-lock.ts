/**
 * One local stack per bucket folder, and a way to know that one is watching it. The running stack
 * holds `<bucket folder>/.tunedrop-stack.json` (hidden: the watcher never turns it into an object)
 * with its pid, start time and API URL:
 *
 * - a second stack on the same folder refuses to start and says which process holds it;
 * - a lock whose pid is dead (a stack killed with SIGKILL, a reboot) is stale and taken over;
 * - `tunedrop submit` reads it to refuse writing into a folder nothing watches.
 *
 * Created with O_EXCL, so two stacks starting at the same moment cannot both win.
 */
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const stackLockName = '.tunedrop-stack.json';

export const StackLockInfo = z.object({
  pid: z.number().int().positive(),
  startTime: z.string(),
  /** Filled in once the stack is up. */
  apiUrl: z.string().optional(),
});
export type StackLockInfo = z.infer<typeof StackLockInfo>;

export class StackLockedError extends Error {
  override readonly name = 'StackLockedError';
  constructor(
    readonly bucketDir: string,
    readonly holder: StackLockInfo,
  ) {
    super(
      `another tunedrop stack (pid ${holder.pid}, started ${holder.startTime}${
        holder.apiUrl ? `, API ${holder.apiUrl}` : ''
      }) is already running on ${bucketDir}; stop it first, or give this one another --bucket-dir`,
    );
  }
}

export const stackLockPath = (bucketDir: string) => join(bucketDir, stackLockName);

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): StackLockInfo | undefined {
  try {
    const parsed = StackLockInfo.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The stack watching `bucketDir`, if one is alive; a stale or unreadable lock counts as none. */
export function runningStack(bucketDir: string): StackLockInfo | undefined {
  const info = readLock(stackLockPath(bucketDir));
  return info && processAlive(info.pid) ? info : undefined;
}

export interface StackLock {
  /** Records the API URL once the stack is up, for `submit` and for a refused second stack. */
  update(info: Partial<StackLockInfo>): void;
  /** Removes the lock if it is still ours. */
  release(): void;
  /** Set when a stale lock of a dead process was taken over. */
  tookOverFrom?: StackLockInfo;
}

export function acquireStackLock(bucketDir: string, now: () => Date = () => new Date()): StackLock {
  const path = stackLockPath(bucketDir);
  let info: StackLockInfo = { pid: process.pid, startTime: now().toISOString() };
  let tookOverFrom: StackLockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, `${JSON.stringify(info)}\n`);
      closeSync(fd);
      const ours = () => readLock(path)?.pid === process.pid;
      return {
        tookOverFrom,
        update(patch) {
          if (!ours()) return;
          info = { ...info, ...patch };
          writeFileSync(path, `${JSON.stringify(info)}\n`);
        },
        release() {
          if (ours()) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLock(path);
    if (holder && processAlive(holder.pid)) {
      throw new StackLockedError(bucketDir, holder);
    }
    // Stale (its process is gone) or unreadable (a crash mid-write): take it over.
    tookOverFrom = holder;
    rmSync(path, { force: true });
  }
  throw new Error(`could not take the lock ${path}: it keeps changing`);
}
