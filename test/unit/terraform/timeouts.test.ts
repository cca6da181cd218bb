/**
 * Constants in code that mirror terraform/: the poller keeps a provider dataset with no record for
 * the event max age plus one whole ingest run (shared/config datasetOrphanGraceMs), so its idea of
 * that run's length must be the deployed ingest function's timeout.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ingestTimeoutMs } from '../../../shared/config/index.ts';
import { Configuration } from './hcl.ts';

const tf = new Configuration(fileURLToPath(new URL('../../../terraform', import.meta.url)));

describe('terraform: timeouts the code relies on', () => {
  it("ingestTimeoutMs is the deployed ingest function's timeout", () => {
    const locals = tf.blocks.filter((block) => block.kind === 'locals');
    const seconds = locals.map((block) => block.attributes.get('ingest_timeout_seconds')).find(Boolean);
    expect(Number(seconds) * 1000).toBe(ingestTimeoutMs);
  });
});
