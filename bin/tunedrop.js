#!/usr/bin/env node
// Runs the compiled CLI in dist/cli: plain JavaScript, no TypeScript loader, so a command starts
// at once. `npm install` / `npm ci` build it (the `prepare` script), as do `npm run build`,
// `npm start`, `npm run demo` and `npm test`; scripts/build-cli.mjs says how.
const entry = new URL('../dist/cli/tunedrop.js', import.meta.url);
let main;
try {
  ({ main } = await import(entry.href));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/tunedrop.js')) {
    throw error;
  }
  console.error(
    'tunedrop: the CLI is not built (dist/cli is missing): run `npm run build` in the tunedrop folder',
  );
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2));
