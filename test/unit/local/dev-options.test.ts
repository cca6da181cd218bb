import { describe, expect, it } from 'vitest';
import { resolveDevSettings } from '../../../local/dev-options.ts';
import { webhookFunctionEnv } from '../../../local/stack.ts';

const secret = `whsec_${Buffer.from('0123456789abcdef0123').toString('base64')}`;

function settingsOf(...input: Parameters<typeof resolveDevSettings>) {
  const result = resolveDevSettings(...input);
  if (!result.ok) throw new Error(`expected settings, got: ${result.message}`);
  return result.settings;
}

function problemOf(...input: Parameters<typeof resolveDevSettings>) {
  const result = resolveDevSettings(...input);
  if (result.ok) throw new Error('expected a problem, got settings');
  return result.message;
}

describe('tunedrop dev settings from flags and .env', () => {
  it('uses the defaults of DESIGN.md when neither flags nor .env say anything', () => {
    const settings = settingsOf({}, {});
    expect(settings).toMatchObject({
      bucketDir: '.tunedrop/bucket',
      pollSeconds: 5,
      jobSeconds: 10,
      approval: 'auto',
      webhooks: [],
      ports: { kind: 'default' },
    });
    expect(settings.env.TUNEDROP_APPROVAL).toBe('auto');
  });

  it('takes the approval mode from .env when no --approval is given', () => {
    expect(settingsOf({}, { TUNEDROP_APPROVAL: 'manual' }).approval).toBe('manual');
  });

  it('lets an explicit --approval win over .env, in what reaches the functions too', () => {
    const settings = settingsOf({ approval: 'auto' }, { TUNEDROP_APPROVAL: 'manual' });
    expect(settings.approval).toBe('auto');
    expect(settings.env.TUNEDROP_APPROVAL).toBe('auto');
  });

  it('names the source of an invalid approval mode', () => {
    expect(problemOf({ approval: 'sometimes' }, {})).toContain('--approval');
    expect(problemOf({}, { TUNEDROP_APPROVAL: 'sometimes' })).toContain('TUNEDROP_APPROVAL in .env');
  });

  it('passes other TUNEDROP_ settings from .env through, but not the webhook ones', () => {
    const settings = settingsOf(
      {},
      {
        TUNEDROP_MAX_EXAMPLES: '10',
        TUNEDROP_WEBHOOK_URL: 'http://127.0.0.1:9999/hook',
        TUNEDROP_WEBHOOK_SECRET: secret,
        HOME: '/root',
      },
    );
    expect(settings.env).toEqual({ TUNEDROP_MAX_EXAMPLES: '10', TUNEDROP_APPROVAL: 'auto' });
    expect(settings.webhooks).toEqual([{ url: 'http://127.0.0.1:9999/hook', secret }]);
  });

  it('passes TUNEDROP_WEBHOOK_* settings other than the receiver through, such as the timeout', () => {
    const settings = settingsOf(
      {},
      { TUNEDROP_WEBHOOK_TIMEOUT_MS: '2500', TUNEDROP_WEBHOOK_REQUIRE_HTTPS: 'false' },
    );
    expect(settings.env).toEqual({
      TUNEDROP_WEBHOOK_TIMEOUT_MS: '2500',
      TUNEDROP_WEBHOOK_REQUIRE_HTTPS: 'false',
      TUNEDROP_APPROVAL: 'auto',
    });
    expect(settings.notices).toEqual([]);
  });

  it('keeps the receiver list and allow-list the stack builds, saying .env cannot set them', () => {
    const settings = settingsOf(
      {},
      {
        TUNEDROP_WEBHOOKS: '[{"url":"https://elsewhere.example/hook","secretEnv":"S"}]',
        TUNEDROP_WEBHOOK_ALLOW_HOSTS: 'elsewhere.example',
        TUNEDROP_MAX_EXAMPLES: '10',
      },
    );
    expect(settings.env).toEqual({ TUNEDROP_MAX_EXAMPLES: '10', TUNEDROP_APPROVAL: 'auto' });
    expect(settings.notices).toHaveLength(2);
    expect(settings.notices[0]).toMatch(/^TUNEDROP_WEBHOOKS in \.env is ignored: the local stack builds it/);
    expect(settings.notices[1]).toMatch(/^TUNEDROP_WEBHOOK_ALLOW_HOSTS in \.env is ignored/);
  });

  it('puts receivers from flags before the one from .env', () => {
    const settings = settingsOf(
      { webhook: ['https://hooks.example.com/a'], 'webhook-secret': [secret] },
      { TUNEDROP_WEBHOOK_URL: 'http://127.0.0.1:9999/hook', TUNEDROP_WEBHOOK_SECRET: secret },
    );
    expect(settings.webhooks.map((hook) => hook.url)).toEqual([
      'https://hooks.example.com/a',
      'http://127.0.0.1:9999/hook',
    ]);
  });

  it('rejects a webhook URL that is not an absolute http(s) URL, without echoing it', () => {
    const message = problemOf({ webhook: ['hooks.example.com/token-abc'], 'webhook-secret': [secret] }, {});
    expect(message).toContain('--webhook #1');
    expect(message).not.toContain('token-abc');
    expect(problemOf({ webhook: ['ftp://example.com/x'], 'webhook-secret': [secret] }, {})).toContain('ftp');
  });

  it('rejects a secret without the whsec_ prefix or with no base64 after it, without echoing it', () => {
    const message = problemOf({ webhook: ['http://127.0.0.1:1/h'], 'webhook-secret': ['hunter2'] }, {});
    expect(message).toContain('whsec_');
    expect(message).not.toContain('hunter2');
    expect(problemOf({ webhook: ['http://127.0.0.1:1/h'], 'webhook-secret': ['whsec_'] }, {})).toContain(
      'base64',
    );
  });

  it('checks the receiver named in .env like one from the flags', () => {
    expect(
      problemOf({}, { TUNEDROP_WEBHOOK_URL: 'http://127.0.0.1:1/h', TUNEDROP_WEBHOOK_SECRET: 'nope' }),
    ).toContain('TUNEDROP_WEBHOOK_URL in .env');
    expect(problemOf({}, { TUNEDROP_WEBHOOK_URL: 'http://127.0.0.1:1/h' })).toContain('both');
  });

  it('needs one secret per webhook', () => {
    expect(problemOf({ webhook: ['http://127.0.0.1:1/h'] }, {})).toContain('one --webhook-secret');
  });

  it('rejects non-positive poll and job periods', () => {
    expect(problemOf({ 'poll-seconds': '0' }, {})).toContain('--poll-seconds');
    expect(problemOf({ 'job-seconds': 'soon' }, {})).toContain('--job-seconds');
  });

  it('chooses free ports or a port base, but not both', () => {
    expect(settingsOf({ 'free-ports': true }, {}).ports).toEqual({ kind: 'free' });
    expect(settingsOf({ 'port-base': '9080' }, {}).ports).toEqual({ kind: 'base', base: 9080 });
    expect(problemOf({ 'free-ports': true, 'port-base': '9080' }, {})).toContain('not both');
    expect(problemOf({ 'port-base': '80' }, {})).toContain('--port-base');
  });
});

describe("the local stack's webhook environment for the functions", () => {
  it('keeps its own receiver list and allow-list over the extra settings, and passes the rest', () => {
    const env = webhookFunctionEnv(
      [{ url: 'http://127.0.0.1:9999/hook', secret, types: ['job.succeeded'] }],
      {
        TUNEDROP_WEBHOOKS: '[]',
        TUNEDROP_WEBHOOK_ALLOW_HOSTS: 'elsewhere.example',
        TUNEDROP_WEBHOOK_TIMEOUT_MS: '2500',
      },
    );
    expect(JSON.parse(env.TUNEDROP_WEBHOOKS!)).toEqual([
      { url: 'http://127.0.0.1:9999/hook', secretEnv: 'WEBHOOK_SECRET_0', types: ['job.succeeded'] },
    ]);
    expect(env.TUNEDROP_WEBHOOK_ALLOW_HOSTS).toBe('127.0.0.1');
    expect(env.WEBHOOK_SECRET_0).toBe(secret);
    expect(env.TUNEDROP_WEBHOOK_TIMEOUT_MS).toBe('2500');
  });

  it('lets .env settings from resolveDevSettings reach the functions with the timeout intact', () => {
    const settings = settingsOf({}, { TUNEDROP_WEBHOOK_TIMEOUT_MS: '2500', TUNEDROP_WEBHOOKS: '[]' });
    const env = webhookFunctionEnv(settings.webhooks, settings.env);
    expect(env).toMatchObject({
      TUNEDROP_WEBHOOK_TIMEOUT_MS: '2500',
      TUNEDROP_WEBHOOKS: '[]',
      TUNEDROP_APPROVAL: 'auto',
    });
  });
});

describe('tunedrop dev settings for the Vertex AI emulator', () => {
  it('has no quota and the full list filter by default', () => {
    expect(settingsOf({}, {}).vertex).toEqual({ listFilter: 'full' });
  });

  it('passes --vertex-max-running and --vertex-list-filter through', () => {
    expect(settingsOf({ 'vertex-max-running': '2', 'vertex-list-filter': 'none' }, {}).vertex).toEqual({
      maxRunning: 2,
      listFilter: 'none',
    });
    expect(settingsOf({ 'vertex-list-filter': 'state-only' }, {}).vertex.listFilter).toBe('state-only');
  });

  it('refuses a quota below one and an unknown filter mode, naming the flag', () => {
    expect(problemOf({ 'vertex-max-running': '0' }, {})).toContain('--vertex-max-running');
    expect(problemOf({ 'vertex-max-running': 'two' }, {})).toContain('--vertex-max-running');
    expect(problemOf({ 'vertex-list-filter': 'labels' }, {})).toContain('--vertex-list-filter');
  });
});

describe('--webhook-secret-file', () => {
  const secret = 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=';
  const files: Record<string, string> = { '/run/secrets/hook': `${secret}\n` };
  const read = (path: string) => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return content;
  };

  it('reads the secret from the file, trimmed, so it never sits on a command line', () => {
    const result = resolveDevSettings(
      { webhook: ['http://127.0.0.1:1/h'], 'webhook-secret-file': ['/run/secrets/hook'] },
      {},
      read,
    );
    expect(result.ok && result.settings.webhooks).toEqual([{ url: 'http://127.0.0.1:1/h', secret }]);
  });

  it('says which file cannot be read, and refuses both kinds of secret at once', () => {
    const missing = resolveDevSettings(
      { webhook: ['http://127.0.0.1:1/h'], 'webhook-secret-file': ['/nope'] },
      {},
      read,
    );
    expect(!missing.ok && missing.message).toBe('--webhook-secret-file #1 (/nope) cannot be read: ENOENT');
    const both = resolveDevSettings(
      {
        webhook: ['http://127.0.0.1:1/h'],
        'webhook-secret': [secret],
        'webhook-secret-file': ['/run/secrets/hook'],
      },
      {},
      read,
    );
    expect(!both.ok && both.message).toContain('not both');
  });

  it('keeps --fresh', () => {
    const result = resolveDevSettings({ fresh: true }, {});
    expect(result.ok && result.settings.fresh).toBe(true);
  });
});
