// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are HCL expressions
/**
 * The optional Yandex AI Studio settings in terraform/: nothing without var.yandex, and then the
 * key secret readable only by the three functions that call Yandex.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Configuration, nested } from './hcl.ts';

const tf = new Configuration(fileURLToPath(new URL('../../../terraform', import.meta.url)));
const resource = (type: string, name: string) =>
  tf.blocks.find(
    (block) => block.kind === 'resource' && block.labels[0] === type && block.labels[1] === name,
  );

describe('terraform: Yandex AI Studio', () => {
  it('grants the key secret only to ingest, poll and api, and only when Yandex is configured', () => {
    const grant = resource('google_secret_manager_secret_iam_member', 'yandex_callers_read_key');
    expect(grant?.attributes.get('for_each')).toBe(
      'local.yandex_enabled ? toset(local.yandex_callers) : toset([])',
    );
    expect(grant?.attributes.get('role')).toBe('"roles/secretmanager.secretAccessor"');
    expect(grant?.attributes.get('secret_id')).toBe('var.yandex.sa_key_secret_id');
    const locals = tf.blocks.filter((block) => block.kind === 'locals');
    const callers = locals.map((block) => block.attributes.get('yandex_callers')).find(Boolean);
    expect(callers).toBe('["ingest", "poll", "api"]');
    const enabled = locals.map((block) => block.attributes.get('yandex_enabled')).find(Boolean);
    expect(enabled).toBe('var.yandex != null');
  });

  it('gives the key and folder to the functions that call Yandex, never to deliver-webhooks', () => {
    for (const name of ['ingest', 'poll', 'api', 'webhooks']) {
      const fn = resource('google_cloudfunctions2_function', name);
      const config = fn && nested(fn, 'service_config')[0];
      const secrets = config ? nested(config, 'dynamic') : [];
      const gets = secrets.some((block) => block.attributes.get('for_each') === 'local.yandex_key_secrets');
      expect([name, gets]).toEqual([name, name !== 'webhooks']);
      expect([name, config?.attributes.get('environment_variables')]).toEqual([
        name,
        name === 'webhooks' ? 'local.webhooks_env' : 'local.yandex_callers_env',
      ]);
    }
  });
});
