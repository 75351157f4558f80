import { describe, expect, it } from 'vitest';
import { createAuth, parseDuration } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { configError } from '../../helpers/config-errors.js';

describe('createAuth options', () => {
  it('works with no options at all (memory stores, safe defaults)', () => {
    const auth = createAuth();
    expect(internalsOf(auth).config.passwords).toMatchObject({ cost: 10, minLength: 15 });
    expect(internalsOf(auth).config.lockout).toMatchObject({
      maxAttempts: 5,
      window: 15 * 60_000,
      duration: 60_000,
      backoffFactor: 2,
      maxDuration: 60 * 60_000,
    });
  });

  it('refuses a bcrypt cost below 10, naming the option and the reason', () => {
    expect(configError({ passwords: { cost: 9 } })).toMatch(
      /passwords\.cost: .*below 10.*too weak/,
    );
  });

  it('refuses an unknown option, naming it (typo protection)', () => {
    expect(configError({ lockuot: {} })).toMatch(/lockuot/);
  });

  it('refuses a malformed duration, naming the option', () => {
    expect(configError({ lockout: { duration: 'thirty minutes' } })).toMatch(
      /lockout\.duration: must be/,
    );
  });

  it('refuses a store that does not implement the interface', () => {
    expect(configError({ stores: { users: { findByEmail() {} } } })).toMatch(
      /stores\.users: must be a UserStore/,
    );
  });

  it('refuses a non-function audit sink and a short audit key', () => {
    expect(configError({ audit: 'console' })).toMatch(/audit: must be a function/);
    expect(configError({ auditEmailKey: 'short' })).toMatch(/auditEmailKey/);
    expect(configError({ auditEmailKey: new Uint8Array(0) })).toMatch(/auditEmailKey/);
  });

  it('creates independent instances (no shared state between two createAuth calls)', async () => {
    const a = createAuth();
    const b = createAuth();
    await a.register({ email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' });
    expect(await b.findUserByEmail('ada@example.com')).toBeNull();
  });
});

describe('parseDuration', () => {
  it.each([
    [30, 30_000],
    ['250ms', 250],
    ['90s', 90_000],
    ['15m', 900_000],
    ['12h', 43_200_000],
    ['30d', 2_592_000_000],
    [' 2 m ', 120_000],
  ])('parses %j', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    ['15 minutes'],
    ['-1s'],
    [-5],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [null],
    [{}],
    [''],
  ])('refuses %j', (input) => {
    expect(parseDuration(input)).toBeNull();
  });
});

describe('production safety', () => {
  it('refuses to run without signing keys when NODE_ENV=production (ephemeral key)', () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(configError({})).toMatch(/tokens\.keys is required when NODE_ENV=production/);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });
});
