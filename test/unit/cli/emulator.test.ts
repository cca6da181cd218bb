import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('tunedrop emulator vertex', { timeout: 60_000 }, () => {
  it('refuses an unknown --list-filter mode and a --max-running below one (exit 2)', () => {
    for (const args of [
      ['--list-filter', 'labels'],
      ['--max-running', '0'],
    ]) {
      const child = spawnSync(process.execPath, ['bin/tunedrop.js', 'emulator', 'vertex', ...args], {
        encoding: 'utf8',
      });
      expect(child.status).toBe(2);
      expect(child.stderr).toContain(`invalid ${args[0]}`);
    }
  });

  it('serves with the quota and list-filter mode it was given', async () => {
    const child = spawn(
      process.execPath,
      ['bin/tunedrop.js', 'emulator', 'vertex', '--port', '0', '--max-running', '1', '--list-filter', 'none'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      });
      const jobs = `${url}/v1/projects/p/locations/us-central1/tuningJobs`;
      const body = JSON.stringify({
        baseModel: 'gemini-3.5-flash',
        supervisedTuningSpec: { trainingDatasetUri: 'gs://b/train.jsonl' },
      });
      expect((await fetch(jobs, { method: 'POST', body })).status).toBe(200);
      expect((await fetch(jobs, { method: 'POST', body })).status).toBe(429);
      expect((await fetch(`${jobs}?filter=state%3DJOB_STATE_PENDING`)).status).toBe(400);
      expect((await fetch(jobs)).status).toBe(200);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        await exited;
      }
    }
  });
});
