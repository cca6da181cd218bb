import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lifecycleOf } from '../../../cli/commands/models.ts';
import { builtinCatalog, findCatalogModel } from '../../../shared/models/index.ts';

/** Runs the real command, as a user would, with only the catalog override given here. */
function tunedrop(env: Record<string, string>, ...args: string[]) {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete base.TUNEDROP_MODEL_CATALOG;
  const child = spawnSync(process.execPath, ['bin/tunedrop.js', 'models', ...args], {
    encoding: 'utf8',
    env: { ...base, ...env },
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

const scratch = mkdtempSync(join(tmpdir(), 'tunedrop-models-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('tunedrop models', { timeout: 60_000 }, () => {
  it('lists the built-in catalog with its facts date, lifecycle, limits, regions and price basis', () => {
    const result = tunedrop({});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Model catalog: facts as of \d{4}-\d\d-\d\d \(built-in\)/);
    expect(result.stdout).toContain('gemini-3.5-flash  vertex  GA');
    expect(result.stdout).toContain('131,072 tokens per example');
    expect(result.stdout).toContain('adapter sizes 1, 2, 4, 8; regions not stated (not checked)');
    expect(result.stdout).toContain('regions us-central1, europe-west4; CMEK unsupported');
    expect(result.stdout).toContain('RETIRED on 2026-06-01');
    expect(result.stdout).toContain('price          no public price');
  });

  it('prints JSON with each model lifecycle, and filters by provider', () => {
    const result = tunedrop({}, '--json', '--provider', 'vertex');
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout);
    expect(listed.factsAsOf).toBe(builtinCatalog().factsAsOf);
    expect(listed.override).toBeNull();
    expect(listed.models.every((model: { provider: string }) => model.provider === 'vertex')).toBe(true);
    const retired = listed.models.find((model: { id: string }) => model.id === 'gemini-2.0-flash-001');
    expect(retired.lifecycle.state).toBe('retired');
    expect(listed.models.find((model: { id: string }) => model.id === 'gemini-3.5-flash').price).toEqual({
      usdPerMillionTrainingTokens: null,
      source: null,
      asOf: null,
    });
  });

  it('honours TUNEDROP_MODEL_CATALOG: a new model, a changed one, a newer facts date', () => {
    const override = join(scratch, 'override.json');
    const added = {
      ...findCatalogModel(builtinCatalog(), 'gemini-3.5-flash')!,
      id: 'gemini-3.9-flash',
      displayName: 'Gemini 3.9 Flash',
      retirement: null,
    };
    writeFileSync(
      override,
      JSON.stringify({
        factsAsOf: '2027-01-15',
        models: [
          added,
          {
            id: 'gemini-3.5-flash',
            price: { usdPerMillionTrainingTokens: 4, source: 'our contract', asOf: '2027-01-01' },
          },
        ],
      }),
    );
    const result = tunedrop({ TUNEDROP_MODEL_CATALOG: override });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`facts as of 2027-01-15 (built-in, with ${override} merged over it)`);
    expect(result.stdout).toContain('gemini-3.9-flash  vertex  GA');
    expect(result.stdout).toContain('retirement date unknown');
    expect(result.stdout).toContain('USD 4 per 1M training tokens (as of 2027-01-01, our contract)');
  });

  it('exits 2 with the reason for an invalid override, and for a bad flag', () => {
    const bad = join(scratch, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ models: [{ id: 'gemini-3.5-flash', limits: { maxTokensPerExample: -1 } }] }),
    );
    const result = tunedrop({ TUNEDROP_MODEL_CATALOG: bad });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('models.0.limits.maxTokensPerExample');
    expect(tunedrop({}, '--provider', 'openai').code).toBe(2);
  });
});

describe('lifecycle of a catalog entry', () => {
  const model = findCatalogModel(builtinCatalog(), 'gemini-2.5-flash')!;
  it('tells retired, unconfirmed, retiring, scheduled and undated apart', () => {
    expect(lifecycleOf(model, '2026-12-03')).toEqual({ state: 'retirement-unconfirmed', daysLeft: -44 });
    expect(lifecycleOf(model, '2026-10-01')).toEqual({ state: 'retiring', daysLeft: 19 });
    expect(lifecycleOf(model, '2026-01-01').state).toBe('scheduled');
    expect(lifecycleOf(findCatalogModel(builtinCatalog(), 'gemini-2.0-flash')!, '2026-12-03').state).toBe(
      'retired',
    );
    expect(lifecycleOf(findCatalogModel(builtinCatalog(), 'yandexgpt-lite')!, '2026-12-03').state).toBe(
      'no-date',
    );
  });
});
