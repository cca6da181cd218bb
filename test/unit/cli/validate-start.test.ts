import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What `tunedrop validate` and the validator's worker threads load before the first byte is
 * parsed, read from the built CLI (dist/cli, built by the test setup): every module reached by a
 * static import. zod costs ~60–80 ms to load and each Google Cloud client more; the built-in
 * catalog is checked when built (scripts/check-catalog.mjs), so without an override none of them
 * is needed. The speed itself is measured by `npm run bench -- cli`, not here.
 */
const dist = resolve(import.meta.dirname, '../../../dist/cli');

function staticImports(file: string): string[] {
  const code = readFileSync(join(dist, file), 'utf8');
  const found = new Set<string>();
  // esbuild writes `import { a } from "x";`, `import * as b from "x";` and `import "x";`;
  // `import("x")` (loaded on demand) is not matched.
  for (const match of code.matchAll(/^import\s*(?:[^"'();]*?\sfrom\s*)?["']([^"']+)["'];?$/gms)) {
    found.add(match[1]!);
  }
  return [...found];
}

/** Every module a file loads at once: its static imports, followed through our own chunks. */
function loadedAtStart(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith('./')) {
        const chunk = specifier.slice(2);
        if (!seen.has(chunk)) pending.push(chunk);
        seen.add(chunk);
      } else seen.add(specifier);
    }
  }
  return [...seen];
}

const packagesIn = (modules: string[]) =>
  modules.filter((name) => !name.startsWith('node:') && !name.endsWith('.js'));

describe('the start of tunedrop validate', () => {
  const validateChunk = readdirSync(dist).find((name) => /^validate-[\w-]+\.js$/.test(name));

  it('loads no npm package at all, zod and the Google Cloud clients included', () => {
    expect(validateChunk).toBeDefined();
    const modules = loadedAtStart(validateChunk!);
    // The reading of imports works: the validator's own chunks are found.
    expect(modules.some((name) => name.endsWith('.js'))).toBe(true);
    expect(packagesIn(modules)).toEqual([]);
  });

  it("loads no npm package in the validator's worker thread either", () => {
    const modules = loadedAtStart('dataset-worker.js');
    expect(modules.some((name) => name.endsWith('.js'))).toBe(true);
    expect(packagesIn(modules)).toEqual([]);
  });

  it('is told apart from a command that does load zod (the check can fail)', () => {
    const models = readdirSync(dist).find((name) => /^models-[\w-]+\.js$/.test(name));
    expect(packagesIn(loadedAtStart(models!))).toContain('zod');
  });
});
