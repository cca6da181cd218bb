import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../shared/config/index.ts';

describe('the draft TTL setting', () => {
  it('is 7 days unless TUNEDROP_DRAFT_TTL_HOURS says otherwise', () => {
    expect(loadConfig({}).draftTtlMs).toBe(7 * 24 * 3_600_000);
    expect(loadConfig({ TUNEDROP_DRAFT_TTL_HOURS: '48' }).draftTtlMs).toBe(48 * 3_600_000);
    expect(loadConfig({ TUNEDROP_DRAFT_TTL_HOURS: '0.5' }).draftTtlMs).toBe(30 * 60_000);
  });

  it('refuses a TTL that is not a positive number, naming the variable', () => {
    for (const value of ['0', '-3', 'week']) {
      expect(() => loadConfig({ TUNEDROP_DRAFT_TTL_HOURS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ TUNEDROP_DRAFT_TTL_HOURS: value })).toThrow(/TUNEDROP_DRAFT_TTL_HOURS/);
    }
  });
});
