import { describe, expect, it } from 'vitest';
import { createMemoryLogger, redact, redactText } from '../../../shared/logging/index.ts';

const jwt = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6ImFubkBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJlLXBhcnQ';

describe('log redaction', () => {
  it('replaces the values of secret-looking keys at any depth', () => {
    const out = redact({
      secret: 'whsec_abc',
      nested: { authorization: 'Bearer x', list: [{ apiKey: 'k', idToken: 't' }] },
      password: 'p',
    });
    expect(out).toEqual({
      secret: '[redacted]',
      nested: { authorization: '[redacted]', list: [{ apiKey: '[redacted]', idToken: '[redacted]' }] },
      password: '[redacted]',
    });
  });

  it('keeps counts of model tokens, which are not secrets', () => {
    expect(redact({ billableTokens: 1200, tokenCount: 5, usdPerMillionTokens: 2 })).toEqual({
      billableTokens: 1200,
      tokenCount: 5,
      usdPerMillionTokens: 2,
    });
  });

  it('masks the user and password of a URL', () => {
    expect(redactText('POST https://alice:hunter2@hooks.example.com/in failed')).toBe(
      'POST https://[redacted]@hooks.example.com/in failed',
    );
    expect(redactText('https://sk_live_123@api.example.com/')).toBe('https://[redacted]@api.example.com/');
  });

  it('masks query parameters whose names look secret and keeps the others', () => {
    expect(redactText('https://h.example.com/hook?token=abc123&team=ml&sig=zz#frag')).toBe(
      'https://h.example.com/hook?token=[redacted]&team=ml&sig=[redacted]#frag',
    );
    expect(redactText('https://h.example.com/?access_token=a&X-Amz-Signature=b&api_key=c')).toBe(
      'https://h.example.com/?access_token=[redacted]&X-Amz-Signature=[redacted]&api_key=[redacted]',
    );
  });

  it('masks bearer tokens, authorization headers, JWTs and webhook secrets in free text', () => {
    expect(redactText(`sent Authorization: Bearer ${jwt}`)).not.toContain('c2lnbmF0dXJl');
    expect(redactText('authorization=Basic YWxpY2U6aHVudGVyMg==')).toBe('authorization=[redacted]');
    expect(redactText(`token ${jwt} rejected`)).toBe('token [redacted JWT] rejected');
    expect(redactText('secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw was refused')).toBe(
      'secret whsec_[redacted] was refused',
    );
  });

  it('leaves ordinary text alone', () => {
    const text = 'job tunedrop-abc is RUNNING (step 3/10) at https://example.com/jobs?state=RUNNING';
    expect(redactText(text)).toBe(text);
  });

  it('masks secrets inside string values, error messages, stacks and URL objects', () => {
    const error = new Error('connect ECONNREFUSED https://u:p@10.0.0.1/?token=s3cr3t');
    const out = redact({
      endpoint: 'https://u:p@h.example.com/x?token=s3cr3t',
      url: new URL('https://h.example.com/x?sig=s3cr3t'),
      error,
    }) as Record<string, unknown>;
    expect(JSON.stringify(out)).not.toContain('s3cr3t');
    expect(JSON.stringify(out)).not.toContain('u:p@');
    expect(out.endpoint).toBe('https://[redacted]@h.example.com/x?token=[redacted]');
  });

  it('drops what is nested too deep to check instead of writing it unchecked', () => {
    let deep: Record<string, unknown> = { password: 'leak' };
    for (let i = 0; i < 10; i++) deep = { inner: deep };
    expect(JSON.stringify(redact(deep))).not.toContain('leak');
  });

  it('redacts the message and fields of every log line, including a child logger base', () => {
    const logger = createMemoryLogger();
    logger
      .child({ webhookUrl: 'https://a:b@h.example.com/?token=t0k' })
      .warn(`delivery to https://a:b@h.example.com/?token=t0k failed with Bearer ${jwt}`, {
        headers: { authorization: `Bearer ${jwt}`, 'webhook-signature': 'v1,abc' },
      });
    const line = JSON.stringify(logger.entries);
    for (const leaked of ['t0k', 'a:b@', 'c2lnbmF0dXJl', 'v1,abc']) expect(line).not.toContain(leaked);
    expect(logger.entries[0]?.severity).toBe('WARNING');
  });
});
