/** Writes docs/events.md from the event schemas (`npm run docs:events`). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventsDocPath, renderEventsDoc } from '../shared/events/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = resolve(root, eventsDocPath);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, renderEventsDoc());
console.log(`wrote ${eventsDocPath}`);
