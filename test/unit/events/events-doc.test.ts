import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  eventsDocCommand,
  eventsDocPath,
  eventTypes,
  renderEventsDoc,
} from '../../../shared/events/index.ts';

describe('docs/events.md', () => {
  it(`is up to date with the schemas (if not, run \`${eventsDocCommand}\`)`, () => {
    const committed = readFileSync(resolve(import.meta.dirname, '../../..', eventsDocPath), 'utf8');
    if (committed !== renderEventsDoc()) {
      expect.fail(`${eventsDocPath} is stale: run \`${eventsDocCommand}\` and commit the result`);
    }
  });

  it('documents every type with a subscription filter and an example', () => {
    const doc = renderEventsDoc();
    for (const type of eventTypes) {
      expect(doc).toContain(`## \`${type}\``);
      expect(doc).toContain(`Subscription filter: \`attributes.type = "${type}"\``);
      expect(doc).toContain(`"type": "${type}"`);
    }
  });
});
