import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, webhookBody } from '../../../shared/webhooks/index.ts';
import { newWebhookSecret } from './receiver.ts';

const event = {
  id: 'evt-0001',
  type: 'tunedrop.v1.job.succeeded',
  time: '2025-05-01T12:00:00.000Z',
  data: { jobId: 'job-1', state: 'SUCCEEDED', tunedModel: 'projects/p/locations/l/models/m' },
};

describe('Standard Webhooks signing', () => {
  it('produces a delivery that the standardwebhooks package verifies, as a receiver would', () => {
    const secret = newWebhookSecret();
    const body = webhookBody(event);
    const headers = signWebhook({ id: event.id, at: new Date(), body, secrets: [secret] });
    const payload = new Webhook(secret).verify(body, { ...headers });
    expect(payload).toEqual({ type: event.type, timestamp: event.time, data: event.data });
  });

  it('says in the signed body when the event is a replay', () => {
    expect(JSON.parse(webhookBody({ ...event, replay: true }))).toEqual({
      type: event.type,
      timestamp: event.time,
      replay: true,
      data: event.data,
    });
    expect(JSON.parse(webhookBody(event))).not.toHaveProperty('replay');
  });

  it('uses the event id as webhook-id and the attempt time in unix seconds as webhook-timestamp', () => {
    const at = new Date('2025-05-01T12:00:05.900Z');
    const headers = signWebhook({ id: event.id, at, body: '{}', secrets: [newWebhookSecret()] });
    expect(headers['webhook-id']).toBe('evt-0001');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('signs with both secrets while one rotates, so a receiver holding either one verifies', () => {
    const [oldSecret, newSecret] = [newWebhookSecret(), newWebhookSecret()];
    const body = webhookBody(event);
    const headers = signWebhook({ id: event.id, at: new Date(), body, secrets: [oldSecret, newSecret] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow(
      WebhookVerificationError,
    );
  });

  it('fails verification when the body, the id or the timestamp was tampered with', () => {
    const secret = newWebhookSecret();
    const body = webhookBody(event);
    const headers = signWebhook({ id: event.id, at: new Date(), body, secrets: [secret] });
    const receiver = new Webhook(secret);
    expect(() => receiver.verify(body.replace('SUCCEEDED', 'FAILED'), { ...headers })).toThrow(
      WebhookVerificationError,
    );
    expect(() => receiver.verify(body, { ...headers, 'webhook-id': 'evt-0002' })).toThrow(
      WebhookVerificationError,
    );
    const later = String(Number(headers['webhook-timestamp']) + 1);
    expect(() => receiver.verify(body, { ...headers, 'webhook-timestamp': later })).toThrow(
      WebhookVerificationError,
    );
  });

  it('the body carries type, the event time as timestamp, and data', () => {
    expect(JSON.parse(webhookBody(event))).toEqual({
      type: event.type,
      timestamp: event.time,
      data: event.data,
    });
  });
});

describe('our own verify helper', () => {
  const secret = newWebhookSecret();
  const body = webhookBody(event);
  const at = new Date('2025-05-01T12:00:00Z');
  const headers = signWebhook({ id: event.id, at, body, secrets: [secret] });

  it('accepts what the standardwebhooks package signs', () => {
    const signature = new Webhook(secret).sign(event.id, at, body);
    const result = verifyWebhook({
      body,
      headers: { ...headers, 'webhook-signature': signature },
      secrets: [secret],
      now: at,
    });
    expect(result).toEqual({ ok: true });
  });

  it('accepts any of several secrets and header names in any case', () => {
    const upper = Object.fromEntries(
      Object.entries(headers).map(([key, value]) => [key.toUpperCase(), value]),
    );
    expect(verifyWebhook({ body, headers: upper, secrets: [newWebhookSecret(), secret], now: at })).toEqual({
      ok: true,
    });
  });

  it('rejects a tampered body, a wrong secret, missing headers and a stale timestamp', () => {
    const now = at;
    expect(verifyWebhook({ body: `${body} `, headers: { ...headers }, secrets: [secret], now }).ok).toBe(
      false,
    );
    expect(verifyWebhook({ body, headers: { ...headers }, secrets: [newWebhookSecret()], now }).ok).toBe(
      false,
    );
    expect(verifyWebhook({ body, headers: { 'webhook-id': event.id }, secrets: [secret], now }).ok).toBe(
      false,
    );
    const sixMinutesLater = new Date(at.getTime() + 6 * 60_000);
    expect(verifyWebhook({ body, headers: { ...headers }, secrets: [secret], now: sixMinutesLater })).toEqual(
      {
        ok: false,
        reason: 'webhook-timestamp outside the tolerance',
      },
    );
  });
});
