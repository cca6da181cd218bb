/**
 * The page token of a listing across several providers: each provider's own cursor, by name, in
 * the registry's order. A page asks every provider that still has jobs for its share of the page
 * size, so a page holds at most `pageSize` jobs (the size rounded up to one per provider) and every
 * provider advances on every page. That does not make "a page holding only old jobs" mean every
 * provider reached old jobs: a provider that filters client-side (Yandex: List filters only by
 * status, so labels, states and the creation time are checked after the page is read, and drafts
 * are left out) may contribute few or no jobs to a page while newer matching tasks lie further
 * along its list; only a null cursor says a provider is done. The poller (list-tracked.ts) does
 * stop on such a page: the tracked jobs it has not seen yet are then fetched by name, within
 * their budget, so a stop too early costs calls, not a job.
 *
 * The token is opaque to callers (base64url JSON, versioned). One that does not decode, names
 * other providers than this deployment has, or has the wrong shape is a 400 INVALID_ARGUMENT
 * naming what is wrong, never a crash and never a silently restarted listing.
 */
import { z } from 'zod';
import { ProviderError } from './types.ts';

const Cursor = z.strictObject({
  provider: z.string().min(1),
  /** The provider's own page token; '' for its first page; null once it has no more jobs. */
  token: z.string().nullable(),
});
const CompositeToken = z.strictObject({ v: z.literal(1), cursors: z.array(Cursor).min(1) });
export type Cursor = z.infer<typeof Cursor>;

export function invalidPageToken(reason: string): ProviderError {
  return new ProviderError(`invalid page token: ${reason}`, 400, 'INVALID_ARGUMENT', false);
}

/** The cursors a first page starts from. */
export function firstCursors(names: readonly string[]): Cursor[] {
  return names.map((provider) => ({ provider, token: '' }));
}

export function encodePageToken(cursors: readonly Cursor[]): string | undefined {
  if (cursors.every((cursor) => cursor.token === null)) return undefined;
  return Buffer.from(JSON.stringify({ v: 1, cursors })).toString('base64url');
}

/** The cursors a token carries, checked against the providers this deployment has, in order. */
export function decodePageToken(token: string, names: readonly string[]): Cursor[] {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalidPageToken('not a token this service issued');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidPageToken('not a token this service issued');
  }
  const parsed = CompositeToken.safeParse(json);
  if (!parsed.success) throw invalidPageToken('not a token this service issued (unknown shape or version)');
  const { cursors } = parsed.data;
  const named = cursors.map((cursor) => cursor.provider);
  if (named.length !== names.length || named.some((name, index) => name !== names[index])) {
    throw invalidPageToken(
      `it lists providers ${named.join(', ')}; this deployment has ${names.join(', ')} (start the listing again)`,
    );
  }
  if (cursors.every((cursor) => cursor.token === null)) throw invalidPageToken('the listing has ended');
  return cursors;
}

/** Each provider's share of a page: the page size split over those with jobs left, at least 1. */
export function shareOf(pageSize: number, active: number): number {
  return Math.max(1, Math.ceil(pageSize / Math.max(1, active)));
}
