import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../../local/function-processes.ts';
import { pickFreePorts } from '../../local/ports.ts';
import { registeredProcessGroups } from '../../local/process-group.ts';
import { startLocalStack } from '../../local/stack.ts';
import { createMemoryLogger } from '../../shared/logging/index.ts';

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

describe('local stack fails fast', () => {
  it('rejects a taken port, naming the port and the part, before any emulator starts', async () => {
    const ports = await pickFreePorts();
    const holder: Server = createServer();
    await new Promise<void>((listening) => holder.listen(ports.firestore, '127.0.0.1', listening));
    const before = registeredProcessGroups();
    try {
      await expect(
        startLocalStack({ bucketDir: tempDir('tunedrop-failfast-'), ports, logger: createMemoryLogger() }),
      ).rejects.toThrow(new RegExp(`port ${ports.firestore} .*already in use.*the Firestore emulator`));
      // Nothing was spawned: no process group was ever registered.
      expect(registeredProcessGroups()).toEqual(before);
    } finally {
      await new Promise((closed) => holder.close(closed));
    }
  });

  it('makes tunedrop dev exit 2 with the install hint when gcloud is not on PATH', async () => {
    // A PATH that holds node and nothing else.
    const bin = tempDir('tunedrop-nogcloud-');
    symlinkSync(process.execPath, join(bin, 'node'));
    const cwd = tempDir('tunedrop-nogcloud-cwd-');
    const child = spawn(process.execPath, [join(repoRoot, 'bin/tunedrop.js'), 'dev', '--free-ports'], {
      cwd,
      env: { ...process.env, PATH: bin },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, output).toBe(2);
    expect(output).toContain('gcloud');
    expect(output).toContain('https://cloud.google.com/sdk/docs/install');
  });
});
