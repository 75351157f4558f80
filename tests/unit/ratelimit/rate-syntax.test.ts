// The rate syntax accepts an exact unit table. Before, a period was looked up after dropping a
// trailing "s", so '5/ms' meant 5 per minute and '5/hs' 5 per hour, and anything parseDuration
// read ('5/250ms') slipped through: a typo became a different limit instead of an error.

import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../examples/common/env.js';
import { parseRateLimit } from '../../../src/index.js';
import { configError } from '../../helpers/config-errors.js';

const UNIT_TABLE: [string, number][] = [
  ['s', 1000],
  ['sec', 1000],
  ['secs', 1000],
  ['second', 1000],
  ['seconds', 1000],
  ['m', 60_000],
  ['min', 60_000],
  ['mins', 60_000],
  ['minute', 60_000],
  ['minutes', 60_000],
  ['h', 3_600_000],
  ['hour', 3_600_000],
  ['hours', 3_600_000],
  ['d', 86_400_000],
  ['day', 86_400_000],
  ['days', 86_400_000],
];

const NOT_RATES = [
  ['5/ms', 'milliseconds (read as 5 per minute before)'],
  ['5/hs', 'a made-up plural of h (read as 5 per hour before)'],
  ['5/mss', 'a doubled plural'],
  ['5/250ms', 'a duration in milliseconds'],
  ['5/0s', 'an empty window'],
  ['0/min', 'a limit of 0'],
  ['5/1.5m', 'a fractional count'],
  ['5.5/min', 'a fractional limit'],
  ['-5/min', 'a negative limit'],
  ['5/-1m', 'a negative count'],
  ['5/hr', 'a unit outside the table'],
  ['5/week', 'a unit outside the table'],
  ['5/constructor', 'a name from Object.prototype'],
  ['5/__proto__', 'a name from Object.prototype'],
  ['5/1e3s', 'an exponent'],
  ['1000001/min', 'a limit over 1 000 000'],
  ['99999999999999999999/min', 'a limit past 2^53'],
  ['5/min/2', 'two slashes'],
  ['5 per minute', 'words'],
] as const;

describe('parseRateLimit: an exact unit table', () => {
  it.each(UNIT_TABLE)('reads the unit %s as %d ms, in any letter case', (unit, ms) => {
    expect(parseRateLimit(`5/${unit}`)).toEqual({ limit: 5, windowMs: ms });
    expect(parseRateLimit(`5/${unit.toUpperCase()}`)).toEqual({ limit: 5, windowMs: ms });
    expect(parseRateLimit(`5/3${unit}`)).toEqual({ limit: 5, windowMs: 3 * ms });
  });

  it('ignores spaces around the slash and at the ends (as an .env file may leave them)', () => {
    expect(parseRateLimit(' 5 / min ')).toEqual({ limit: 5, windowMs: 60_000 });
    expect(parseRateLimit('5/min ')).toEqual({ limit: 5, windowMs: 60_000 });
  });

  it.each(NOT_RATES)('refuses %j (%s)', (text) => {
    expect(parseRateLimit(text)).toBeNull();
  });
});

describe('rate options: INVALID_CONFIG naming the option', () => {
  it.each(NOT_RATES)('rateLimits.login = %j (%s) is refused at start', (text) => {
    const message = configError({ rateLimits: { login: text } });
    expect(message).toMatch(/rateLimits\.login: must be a rate like "5\/min"/);
    expect(message).toContain('units s, sec, secs, second, seconds, m, min');
  });

  it('a window over 7 days or under 1 second is refused, in either form', () => {
    expect(configError({ rateLimits: { register: '5/8d' } })).toMatch(
      /rateLimits\.register: .*from 1s to 7d/,
    );
    expect(configError({ rateLimits: { refresh: { limit: 5, window: '8d' } } })).toMatch(
      /rateLimits\.refresh\.window: must be at most 7d/,
    );
    expect(configError({ rateLimits: { login: { limit: 0, window: '1m' } } })).toMatch(
      /rateLimits\.login\.limit/,
    );
  });

  it.each(['5/ms', '5/hs', '5/0s', '0/min', '5/30d'])(
    'AUTH_LOGIN_RATE_LIMIT=%s is refused by the example apps, naming the variable',
    (text) => {
      expect(() => loadConfig({ AUTH_LOGIN_RATE_LIMIT: text })).toThrow(
        /AUTH_LOGIN_RATE_LIMIT: must look like "5\/min"/,
      );
    },
  );
});
