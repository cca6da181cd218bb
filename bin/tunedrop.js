#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so `npx tunedrop` works right after `npm install`
// on a clean clone, with no build step to forget or go stale.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
