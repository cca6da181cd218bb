/**
 * Global setup of every test project: builds the CLI into dist/cli when any of its sources
 * changed (scripts/build-cli.mjs --if-stale), so the process-level tests run the bin a user runs,
 * never a stale build and never a TypeScript loader.
 */
// @ts-expect-error: a plain JavaScript build script without type declarations
import { buildCli } from '../../scripts/build-cli.mjs';

export default async function setup() {
  await buildCli({ ifStale: true });
}
