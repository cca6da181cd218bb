import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDataset } from '../../shared/dataset/index.ts';
import { eventIdFor } from '../../shared/events/index.ts';
import { uniqueName } from '../support/names.ts';
import { type ApiStack, bucket, createJob, datasetObject, startApiStack } from './api-fixtures.ts';

const bin = fileURLToPath(new URL('../../bin/tunedrop.js', import.meta.url));

/** Runs the real CLI as a child process (asynchronously: the API it calls runs in this process). */
function tunedrop(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('node', [bin, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let stack: ApiStack;
const team = uniqueName('team');
const ids = { draft: '', running: '', done: '' };

beforeAll(async () => {
  stack = await startApiStack();
  ids.draft = uniqueName('draft').replace(/-/g, '');
  ids.running = uniqueName('running').replace(/-/g, '');
  ids.done = uniqueName('done').replace(/-/g, '');
  await createJob(stack, ids.draft, { labels: { team }, createTime: '2031-01-01T00:00:02.000Z' });
  await createJob(stack, ids.running, {
    state: 'RUNNING',
    labels: { team },
    createTime: '2031-01-01T00:00:01.000Z',
  });
  await createJob(stack, ids.done, {
    state: 'SUCCEEDED',
    labels: { team },
    createTime: '2031-01-01T00:00:00.000Z',
  });
});

afterAll(async () => {
  await stack?.close();
});

describe('tunedrop jobs', () => {
  it('lists jobs as JSON for scripts, filtered by label and state', async () => {
    const all = await tunedrop(['jobs', 'list', '--api', stack.url, '--json', '--label', `team=${team}`]);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout).jobs.map((job: { id: string }) => job.id)).toEqual([
      ids.draft,
      ids.running,
      ids.done,
    ]);

    const running = await tunedrop(
      ['jobs', 'list', '--json', '--label', `team=${team}`, '--state', 'running'],
      {
        TUNEDROP_API_URL: stack.url,
      },
    );
    expect(running.code).toBe(0);
    expect(JSON.parse(running.stdout).jobs.map((job: { id: string }) => job.id)).toEqual([ids.running]);
  });

  it('prints a table with the chosen --fields, and follows every page with --all', async () => {
    const result = await tunedrop([
      'jobs',
      'list',
      '--api',
      stack.url,
      '--label',
      `team=${team}`,
      '--fields',
      'id,state,estimate,tunedModel',
      '--page-size',
      '1',
      '--all',
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+ESTIMATE\s+TUNED_MODEL$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual([ids.draft, ids.running, ids.done]);
    expect(lines[1]).toContain('$0.18');
    expect(lines[3]).toContain('projects/p/locations/l/models/m');
  });

  it('shows one job, and its chosen fields as JSON', async () => {
    const human = await tunedrop(['jobs', 'get', ids.running, '--api', stack.url]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^id:\\s+${ids.running}$`, 'm'));
    expect(human.stdout).toMatch(/^state:\s+RUNNING$/m);

    const json = await tunedrop([
      'jobs',
      'get',
      ids.running,
      '--api',
      stack.url,
      '--json',
      '--fields',
      'id,state',
    ]);
    expect(JSON.parse(json.stdout)).toEqual({ id: ids.running, state: 'RUNNING' });
  });

  it('approves a draft, which starts it', async () => {
    const result = await tunedrop([
      'jobs',
      'approve',
      ids.draft,
      '--api',
      stack.url,
      '--by',
      'carol',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const job = JSON.parse(result.stdout);
    expect(job).toMatchObject({ id: ids.draft, state: 'PENDING', approval: { approvedBy: 'carol' } });
    expect(await stack.provider.findJobByRecordId(ids.draft)).toBeDefined();
  });

  it('exits 1 with the API message when the API says no', async () => {
    const notDraft = await tunedrop(['jobs', 'approve', ids.done, '--api', stack.url]);
    expect(notDraft.code).toBe(1);
    expect(notDraft.stderr).toContain('only a DRAFT job can be approved');
    expect(notDraft.stderr).toContain('409 FAILED_PRECONDITION');

    const missing = await tunedrop(['jobs', 'get', 'nosuchjob', '--api', stack.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no job id starts with nosuchjob');
  });

  it('cancels a job and replays its events with their ids', async () => {
    const cancelled = await tunedrop([
      'jobs',
      'cancel',
      ids.draft,
      '--api',
      stack.url,
      '--reason',
      'test over',
      '--json',
    ]);
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout).state).toBe('CANCELLING');

    const replayed = await tunedrop(['jobs', 'replay', ids.draft, '--api', stack.url]);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout.trim().split('\n')).toEqual([
      eventIdFor(ids.draft, 'tunedrop.v1.job.drafted'),
      eventIdFor(ids.draft, 'tunedrop.v1.job.started'),
    ]);
  });

  it('exits 2 on usage errors and when the API cannot be reached', async () => {
    const badField = await tunedrop(['jobs', 'list', '--api', stack.url, '--fields', 'id,colour']);
    expect(badField.code).toBe(2);
    expect(badField.stderr).toContain('colour');

    const noId = await tunedrop(['jobs', 'get', '--api', stack.url]);
    expect(noId.code).toBe(2);

    const unknown = await tunedrop(['jobs', 'explode']);
    expect(unknown.code).toBe(2);

    const badState = await tunedrop(['jobs', 'list', '--api', stack.url, '--state', 'SLEEPING']);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain('INVALID_ARGUMENT');

    const unreachable = await tunedrop(['jobs', 'list', '--api', 'http://127.0.0.1:9']);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach the tunedrop API');
  });
});

describe('tunedrop jobs with short ids, reports and sources', () => {
  // Ids shaped like tunedrop's (32 hex), two sharing their first 12 characters.
  const shared = randomBytes(6).toString('hex');
  const twinA = `${shared}${randomBytes(10).toString('hex')}`;
  const twinB = `${shared}${randomBytes(10).toString('hex')}`;
  const single = randomBytes(16).toString('hex');

  beforeAll(async () => {
    await createJob(stack, twinA, { state: 'RUNNING' });
    await createJob(stack, twinB, { state: 'RUNNING' });
    await createJob(stack, single);
  });

  it('takes the 12 characters the console shows, or any unique prefix of 8+, for every subcommand', async () => {
    const got = await tunedrop(['jobs', 'get', single.slice(0, 12), '--api', stack.url, '--json']);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout).id).toBe(single);

    const longer = await tunedrop(['jobs', 'get', `${shared}${twinB.slice(12, 14)}`, '--api', stack.url]);
    expect(longer.code).toBe(0);
    expect(longer.stdout).toMatch(new RegExp(`^id:\\s+${twinB}$`, 'm'));

    const cancelled = await tunedrop(['jobs', 'cancel', single.slice(0, 8), '--api', stack.url, '--json']);
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ id: single, state: 'CANCELLED' });
    expect((await stack.store.get(single))?.state).toBe('CANCELLED');
  });

  it('lists the candidates of an ambiguous prefix and changes nothing', async () => {
    const result = await tunedrop(['jobs', 'cancel', shared, '--api', stack.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`job ID prefix ${shared} is ambiguous; it matches 2 jobs`);
    expect(result.stderr).toContain(twinA);
    expect(result.stderr).toContain(twinB);
    expect((await stack.store.get(twinA))?.state).toBe('RUNNING');
    expect((await stack.store.get(twinB))?.state).toBe('RUNNING');
  });

  it('refuses a prefix under 8 characters as a usage error, and the API names the parameter', async () => {
    const result = await tunedrop(['jobs', 'get', single.slice(0, 7), '--api', stack.url]);
    expect(result.code).toBe(2);
    const [first, blank, usage] = result.stderr.split('\n');
    expect(first).toBe(
      `tunedrop jobs get: job ID "${single.slice(0, 7)}" is too short: give the id or a prefix of at least 8 characters`,
    );
    expect(blank).toBe('');
    expect(usage).toBe('Usage: tunedrop jobs get ID [options]');

    const response = await fetch(`${stack.url}/jobs:lookup?idPrefix=abc`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { status: string; message: string } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toContain('idPrefix');
  });

  it('shows the source object in the default list', async () => {
    const result = await tunedrop(['jobs', 'list', '--api', stack.url, '--page-size', '500']);
    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+STATE\s+BASE_MODEL\s+SOURCE_OBJECT\s+CREATE_TIME\s+PROGRESS\s+ESTIMATE$/);
    const row = rows.find((line) => line.startsWith(twinA));
    expect(row).toMatch(new RegExp(`^${twinA}\\s+RUNNING\\s+gemini-2.5-flash\\s+${datasetObject}\\s`));
  });

  it('renders the validation report for a person, and --json gives it as stored', async () => {
    const fixture = fileURLToPath(new URL('../fixtures/datasets/invalid.jsonl', import.meta.url));
    const validation = await validateDataset(createReadStream(fixture), { model: 'gemini-2.5-flash' });
    const stored = {
      reportFormatVersion: 1,
      status: 'rejected',
      kind: 'dataset',
      object: datasetObject,
      generation: stack.datasetGeneration,
      jobId: twinA,
      time: '2031-01-01T00:00:00.000Z',
      problems: [],
      notes: ['approval: the manifest asked for auto; the deployment requires manual'],
      datasets: { training: { ...validation, uri: `gs://${bucket}/${datasetObject}` } },
    };
    await stack.blobs.write(
      bucket,
      `reports/incoming/${twinA}.jsonl.report.json`,
      JSON.stringify(stored),
      'application/json',
    );

    const human = await tunedrop(['jobs', 'report', twinA.slice(0, 14), '--api', stack.url]);
    expect(human.code).toBe(0);
    const text = human.stdout;
    expect(text).toContain(`Report of ${datasetObject} (generation ${stack.datasetGeneration}`);
    expect(text).toMatch(/verdict\s+rejected: no job was started/);
    expect(text).toMatch(/verdict\s+invalid: \d+ errors; 5 examples/);
    // The first error, with its line and the field as a person names it.
    expect(text).toMatch(/line 2\s+`contents\[0\]\.role` must be "user".*\[first_role\]/);
    // An error whose message names no field is led by it; a line-level one by nothing.
    expect(text).toMatch(/line 4\s+Invalid JSON/);
    expect(text).toMatch(/tokens\/ex\s+min \d+/);
    expect(text).toMatch(/\d+-\d+ tokens\s+#+\s+\d+/);
    // The estimate with its basis: gemini-2.5-flash has no public price in the catalog.
    expect(text).toMatch(
      /cost\s+no public tuning price for gemini-2\.5-flash: [\d,]+ training tokens over 3 epoch/,
    );
    expect(text).toContain('approval: the manifest asked for auto');

    const json = await tunedrop(['jobs', 'report', twinA, '--api', stack.url, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(stored);
  });
});
