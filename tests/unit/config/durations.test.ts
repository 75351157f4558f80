// Every duration option is bounded: a safe integer of milliseconds, at most a documented
// maximum (366 days, lower where an option has a natural bound). A huge or malformed duration
// is INVALID_CONFIG at start naming the option and the maximum, never Infinity and a 500 later.

import { describe, expect, it } from 'vitest';
import { createAuth, MAX_DURATION_MS, parseDuration } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { configError, envError } from '../../helpers/config-errors.js';

const HUGE_OR_MALFORMED: [string, unknown][] = [
  ['1e308 seconds (Infinity once in milliseconds)', 1e308],
  ['"99999999999999999999d" (past 2^53 milliseconds)', '99999999999999999999d'],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['NaN', Number.NaN],
  ['a negative number of seconds', -1],
  ['"1.5.5m" (two decimal points)', '1.5.5m'],
  ['"1e3s" (an exponent)', '1e3s'],
  ['"-5m" (a sign)', '-5m'],
  ['"Infinity" as text', 'Infinity'],
  ['"0x10s" (hexadecimal)', '0x10s'],
];

describe('parseDuration', () => {
  it.each(HUGE_OR_MALFORMED)('returns null, never Infinity or NaN, for %s', (_name, input) => {
    expect(parseDuration(input)).toBeNull();
  });

  it('accepts exactly the maximum, 366 days, and refuses one millisecond more', () => {
    expect(parseDuration('366d')).toBe(MAX_DURATION_MS);
    expect(parseDuration(`${MAX_DURATION_MS}ms`)).toBe(MAX_DURATION_MS);
    expect(parseDuration(`${MAX_DURATION_MS + 1}ms`)).toBeNull();
    expect(parseDuration(MAX_DURATION_MS / 1000 + 0.001)).toBeNull();
  });

  it('always gives a whole number of milliseconds (fractions round)', () => {
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration(0.0004)).toBe(0);
    expect(parseDuration('0.25ms')).toBe(0);
  });
});

describe('duration options of createAuth', () => {
  const options = [
    ['tokens.accessTtl', (v: unknown) => ({ tokens: { accessTtl: v } })],
    ['tokens.refreshIdleTtl', (v: unknown) => ({ tokens: { refreshIdleTtl: v } })],
    ['tokens.refreshAbsoluteTtl', (v: unknown) => ({ tokens: { refreshAbsoluteTtl: v } })],
    ['tokens.clockTolerance', (v: unknown) => ({ tokens: { clockTolerance: v } })],
    ['tokens.revocationCacheTtl', (v: unknown) => ({ tokens: { revocationCacheTtl: v } })],
    ['lockout.window', (v: unknown) => ({ lockout: { window: v } })],
    ['lockout.duration', (v: unknown) => ({ lockout: { duration: v } })],
    ['lockout.maxDuration', (v: unknown) => ({ lockout: { maxDuration: v } })],
    [
      'rateLimits.login.window',
      (v: unknown) => ({ rateLimits: { login: { limit: 5, window: v } } }),
    ],
  ] as const;

  for (const [name, build] of options) {
    it.each(HUGE_OR_MALFORMED)(`${name}: %s is INVALID_CONFIG naming the option`, (_n, input) => {
      const message = configError(build(input));
      expect(message).toContain(`${name}: must`);
    });
  }

  it.each([
    ['tokens.accessTtl', { tokens: { accessTtl: '25h' } }, '24h'],
    ['tokens.refreshIdleTtl', { tokens: { refreshIdleTtl: '367d' } }, '366d'],
    ['tokens.refreshAbsoluteTtl', { tokens: { refreshAbsoluteTtl: 1e308 } }, '366d'],
    ['tokens.clockTolerance', { tokens: { clockTolerance: '2m' } }, '60s'],
    ['tokens.revocationCacheTtl', { tokens: { revocationCacheTtl: '1h' } }, '60s'],
    ['lockout.window', { lockout: { window: '2d' } }, '24h'],
    ['lockout.duration', { lockout: { duration: '99999999999999999999d' } }, '24h'],
    ['lockout.maxDuration', { lockout: { maxDuration: '25h' } }, '24h'],
    ['passwords.breached.timeout', { passwords: { breached: { timeout: '1h' } } }, '30s'],
  ])('%s over its maximum: the message names the option and the maximum', (name, options, max) => {
    expect(configError(options)).toMatch(
      new RegExp(`${name.replace(/\./g, '\\.')}: must be at most ${max}`),
    );
  });

  it('keeps the durations an operator would write (30d sessions, 366d absolute, 24h access)', () => {
    const auth = createAuth({
      tokens: { accessTtl: '24h', refreshIdleTtl: '30d', refreshAbsoluteTtl: '366d' },
      lockout: { window: '1d', duration: '1h', maxDuration: '1d' },
    });
    expect(internalsOf(auth).config.tokens).toMatchObject({
      accessTtl: 86_400_000,
      refreshAbsoluteTtl: MAX_DURATION_MS,
    });
    expect(internalsOf(auth).config.lockout).toMatchObject({
      window: 86_400_000,
      maxDuration: 86_400_000,
    });
  });
});

describe('duration variables of the example apps', () => {
  it.each([
    ['JWT_EXPIRES_IN', '99999999999999999999d', '24h'],
    ['JWT_EXPIRES_IN', '25h', '24h'],
    ['REFRESH_EXPIRES_IN', '400d', '366d'],
    ['REFRESH_EXPIRES_IN', '1e308s', '366d'],
    ['AUTH_LOCKOUT_DURATION', '2d', '24h'],
    ['AUTH_LOCKOUT_DURATION', '1.5.5m', '24h'],
    ['AUTH_LOCKOUT_DURATION', '0s', '24h'],
  ])('%s=%s is refused at start naming the variable and its maximum %s', (name, value, max) => {
    expect(envError({ [name]: value })).toContain(`${name}: must be a duration from 1s to ${max}`);
  });
});
