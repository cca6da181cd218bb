import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../local/function-processes.ts';

/**
 * Runs `npm run demo` as a newcomer would, on free ports so it never collides with a running
 * `npm start` or a parallel run, and returns its exit code and output.
 */
function runDemo(extra: string[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'npm',
      ['run', '--silent', 'demo', '--', '--timeout-seconds', '420', '--free-ports', ...extra],
      {
        cwd: repoRoot,
        env: { ...process.env, FIRESTORE_EMULATOR_HOST: '', PUBSUB_EMULATOR_HOST: '' },
        detached: true,
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run demo', () => {
  it('tunes the sample dataset on the local stack and receives a verified job.succeeded webhook', async () => {
    const { code, output } = await runDemo();
    expect(output).toContain('job.succeeded, as delivered and verified');
    expect(output).toMatch(/"type": "tunedrop\.v1\.job\.succeeded"/);
    expect(output).toMatch(/"tunedModel": "projects\/.+\/models\/.+"/);
    // Exactly one job.succeeded event after the settle period; redeliveries share its webhook-id.
    expect(output).toMatch(/job\.succeeded webhooks received: 1 distinct webhook-id\(s\), [1-9]\d* delivery/);
    expect(code, output).toBe(0);
  }, 600_000);

  it('tunes gemini-3.5-flash end to end when the Vertex AI emulator honours no list filter (--vertex-list-filter none)', async () => {
    const { code, output } = await runDemo(['--vertex-list-filter', 'none', '--model', 'gemini-3.5-flash']);
    expect(output).toContain('--list-filter none');
    expect(output).toMatch(/"baseModel": "gemini-3\.5-flash"/);
    expect(output).toMatch(/job\.succeeded webhooks received: 1 distinct webhook-id\(s\), [1-9]\d* delivery/);
    expect(code, output).toBe(0);
  }, 600_000);
  it('runs a Yandex AI Studio job from a tuning.json on the Yandex emulator, with the same verified webhook', async () => {
    const { code, output } = await runDemo(['--provider', 'yandex']);
    expect(output).toContain('job.succeeded, as delivered and verified');
    expect(output).toMatch(/"provider": "yandex"/);
    expect(output).toMatch(/"tunedModel": "gpt:\/\/b1glocalstack\/yandexgpt-lite\/latest@tamr\w+"/);
    expect(output).toMatch(/job\.succeeded webhooks received: 1 distinct webhook-id\(s\), [1-9]\d* delivery/);
    expect(code, output).toBe(0);
  }, 600_000);
});
