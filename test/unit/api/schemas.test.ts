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

  it('reads the email from IAP’s header without its accounts.google.com prefix', () => {
    expect(
      authenticatedEmail({ 'x-goog-authenticated-user-email': 'accounts.google.com:ann@example.com' }),
    ).toBe('ann@example.com');
  });

  it('reads the email claim of the ID token Cloud Run checked', () => {
    expect(authenticatedEmail({ authorization: token({ email: 'ci@proj.iam.gserviceaccount.com' }) })).toBe(
      'ci@proj.iam.gserviceaccount.com',
    );
  });

  it('finds nobody in a token without an email or in garbage', () => {
    expect(authenticatedEmail({ authorization: token({ sub: '123' }) })).toBeUndefined();
    expect(authenticatedEmail({ authorization: 'Bearer not-a-jwt' })).toBeUndefined();
    expect(authenticatedEmail({})).toBeUndefined();
  });
});
