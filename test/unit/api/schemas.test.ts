import { describe, expect, it } from 'vitest';
import { authenticatedEmail } from '../../../functions/api/identity.ts';
import { ListJobsQuery, listQueryInput } from '../../../functions/api/schemas.ts';

const parse = (query: string) => ListJobsQuery.safeParse(listQueryInput(new URLSearchParams(query)));

describe('the list query', () => {
  it('accepts repeated and comma-separated states in any case', () => {
    const parsed = parse('state=running,pending&state=DRAFT');
    expect(parsed.success && parsed.data.state).toEqual(['RUNNING', 'PENDING', 'DRAFT']);
  });

  it('splits a label at its first equals sign only', () => {
    const parsed = parse('label=team=a=b&label=empty=');
    expect(parsed.success && parsed.data.label).toEqual([
      ['team', 'a=b'],
      ['empty', ''],
    ]);
  });

  it.each([
    'pageSize=0',
    'pageSize=501',
    'pageSize=1.5',
    'state=NOPE',
    'label=novalue',
    'other=1',
    'pageToken=',
  ])('rejects %s', (query) => {
    expect(parse(query).success).toBe(false);
  });
});

describe('the caller identity', () => {
  const token = (claims: object) =>
    `Bearer x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.signature`;

  it('reads the email from IAP’s header without its accounts.google.com prefix when IAP is trusted', () => {
    expect(
      authenticatedEmail(
        { 'x-goog-authenticated-user-email': 'accounts.google.com:ann@example.com' },
        { trustIapHeader: true },
      ),
    ).toBe('ann@example.com');
  });

  it('ignores an IAP header sent straight to Cloud Run, where anyone may set it', () => {
    const spoofed = { 'x-goog-authenticated-user-email': 'accounts.google.com:boss@example.com' };
    expect(authenticatedEmail(spoofed)).toBeUndefined();
    expect(authenticatedEmail({ ...spoofed, authorization: token({ email: 'eve@example.com' }) })).toBe(
      'eve@example.com',
    );
  });

  it('reads the email claim of the ID token Cloud Run checked', () => {
    expect(authenticatedEmail({ authorization: token({ email: 'ci@proj.iam.gserviceaccount.com' }) })).toBe(
      'ci@proj.iam.gserviceaccount.com',
    );
  });

  it('believes the token Cloud Run checked in X-Serverless-Authorization, not the Authorization it passed on', () => {
    const headers = {
      'x-serverless-authorization': token({ email: 'eve@example.com' }),
      authorization: token({ email: 'boss@example.com' }),
    };
    expect(authenticatedEmail(headers)).toBe('eve@example.com');
    expect(
      authenticatedEmail({
        'x-serverless-authorization': 'Bearer garbage',
        authorization: headers.authorization,
      }),
    ).toBeUndefined();
  });

  it('finds nobody in a token whose email is marked unverified', () => {
    expect(
      authenticatedEmail({ authorization: token({ email: 'a@example.com', email_verified: false }) }),
    ).toBe(undefined);
  });

  it('finds nobody when an identity header is repeated', () => {
    expect(
      authenticatedEmail({
        authorization: [token({ email: 'a@example.com' }), token({ email: 'b@example.com' })],
      }),
    ).toBeUndefined();
  });

  it('finds nobody in a token without an email or in garbage', () => {
    expect(authenticatedEmail({ authorization: token({ sub: '123' }) })).toBeUndefined();
    expect(authenticatedEmail({ authorization: 'Bearer not-a-jwt' })).toBeUndefined();
    expect(authenticatedEmail({})).toBeUndefined();
  });
});
