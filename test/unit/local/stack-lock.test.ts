import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireStackLock,
  runningStack,
  StackLockedError,
  stackLockPath,
} from '../../../local/stack-lock.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tunedrop-lock-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited: a stack that died without releasing its lock. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((exited) => child.once('exit', exited));
  return child.pid!;
}

describe('one local stack per bucket folder', () => {
  it('lets the first stack take the folder and refuses a second, naming the holder', () => {
    const lock = acquireStackLock(dir);
    lock.update({ apiUrl: 'http://127.0.0.1:8084' });
    expect(runningStack(dir)).toMatchObject({ pid: process.pid, apiUrl: 'http://127.0.0.1:8084' });
    expect(() => acquireStackLock(dir)).toThrow(StackLockedError);
    expect(() => acquireStackLock(dir)).toThrow(
      new RegExp(
        `another tunedrop stack \\(pid ${process.pid}, started .*, API http://127\\.0\\.0\\.1:8084\\) is already running on`,
      ),
    );
    lock.release();
    expect(runningStack(dir)).toBeUndefined();
    acquireStackLock(dir).release();
  });

  it('takes over the stale lock of a stack whose process is gone', async () => {
    const pid = await deadPid();
    writeFileSync(stackLockPath(dir), JSON.stringify({ pid, startTime: '2026-01-01T00:00:00.000Z' }));
    expect(runningStack(dir)).toBeUndefined();
    const lock = acquireStackLock(dir);
    expect(lock.tookOverFrom?.pid).toBe(pid);
    expect(JSON.parse(readFileSync(stackLockPath(dir), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over an unreadable lock (a crash while writing it)', () => {
    writeFileSync(stackLockPath(dir), '{"pid":');
    const lock = acquireStackLock(dir);
    expect(runningStack(dir)?.pid).toBe(process.pid);
    lock.release();
  });

  it('does not remove a lock another stack took since', async () => {
    const lock = acquireStackLock(dir);
    const other = { pid: process.ppid, startTime: '2026-01-01T00:00:00.000Z' };
    writeFileSync(stackLockPath(dir), JSON.stringify(other));
    lock.release();
    expect(runningStack(dir)).toEqual(other);
  });
});
