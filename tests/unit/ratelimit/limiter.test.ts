import { describe, expect, it } from 'vitest';
import type { AuditInput } from '../../../src/audit/emitter.js';
import {
  AuthError,
  createAuth,
  MemoryRateLimitStore,
  parseRateLimit,
  type RateLimitRules,
} from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { RateLimiter } from '../../../src/ratelimit/limiter.js';
import { ManualClock } from '../../helpers/fakes.js';

function limiter(rules: Partial<RateLimitRules> = {}) {
  const clock = new ManualClock();
  const events: AuditInput[] = [];
  const instance = new RateLimiter({
    store: new MemoryRateLimitStore(),
    clock,
    rules: { login: { limit: 3, windowMs: 60_000 }, register: false, refresh: false, ...rules },
    audit: { emit: (input) => void events.push(input) },
  });
  return { limiter: instance, clock, events };
}

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  return err as AuthError;
}

describe('RateLimiter', () => {
  it('allows up to the limit within a window and counts down what remains', async () => {
    const { limiter: l } = limiter();
    expect((await l.enforce('login', 'ip')).remaining).toBe(2);
    expect((await l.enforce('login', 'ip')).remaining).toBe(1);
    expect((await l.enforce('login', 'ip')).remaining).toBe(0);
  });

  it('refuses the request over the limit with RATE_LIMITED and the seconds left as retryAfter', async () => {
    const { limiter: l, clock } = limiter();
    for (let i = 0; i < 3; i++) await l.enforce('login', 'ip');
    clock.advance(20_500);
    const err = await rejection(l.enforce('login', 'ip'));
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.status).toBe(429);
    expect(err.retryAfter).toBe(40);
  });

  it('emits a RATE_LIMITED audit event naming the route and the rule', async () => {
    const { limiter: l, events } = limiter();
    for (let i = 0; i < 3; i++) await l.enforce('login', 'ip');
    await rejection(l.enforce('login', 'ip', { ip: '203.0.113.7' }));
    expect(events).toEqual([
      expect.objectContaining({
        event: 'RATE_LIMITED',
        metadata: { route: 'login', limit: 3, windowMs: 60_000 },
      }),
    ]);
  });

  it('starts a new window once the old one has ended', async () => {
    const { limiter: l, clock } = limiter();
    for (let i = 0; i < 3; i++) await l.enforce('login', 'ip');
    clock.advance(60_000);
    await expect(l.enforce('login', 'ip')).resolves.toMatchObject({ allowed: true });
  });

  it('counts each key separately', async () => {
    const { limiter: l } = limiter();
    for (let i = 0; i < 3; i++) await l.enforce('login', 'a');
    await expect(l.enforce('login', 'b')).resolves.toMatchObject({ allowed: true });
  });

  it('counts each route separately for the same key', async () => {
    const { limiter: l } = limiter({ register: { limit: 1, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) await l.enforce('login', 'ip');
    await expect(l.enforce('register', 'ip')).resolves.toMatchObject({ allowed: true });
  });

  it('never limits a route whose rule is false', async () => {
    const { limiter: l } = limiter();
    for (let i = 0; i < 100; i++) await l.enforce('refresh', 'ip');
    await expect(l.enforce('refresh', 'ip')).resolves.toMatchObject({ allowed: true });
  });

  it('forgets a key on reset', async () => {
    const { limiter: l } = limiter();
    for (let i = 0; i < 3; i++) await l.enforce('login', 'ip');
    await l.reset('login', 'ip');
    await expect(l.enforce('login', 'ip')).resolves.toMatchObject({ allowed: true });
  });
});

describe('parseRateLimit', () => {
  it.each([
    ['5/min', { limit: 5, windowMs: 60_000 }],
    ['100/hour', { limit: 100, windowMs: 3_600_000 }],
    ['10/15m', { limit: 10, windowMs: 900_000 }],
    ['3 / 30s', { limit: 3, windowMs: 30_000 }],
    ['1000/day', { limit: 1000, windowMs: 86_400_000 }],
    ['2/minutes', { limit: 2, windowMs: 60_000 }],
  ])('reads %s', (text, rule) => {
    expect(parseRateLimit(text)).toEqual(rule);
  });

  it.each(['', '5', 'min', '0/min', '-1/min', '5/fortnight', '5/'])('refuses %j', (text) => {
    expect(parseRateLimit(text)).toBeNull();
  });
});

describe('the rateLimits option of createAuth', () => {
  it('defaults to 5 logins per minute per IP', () => {
    const auth = createAuth({ rateLimits: {} });
    expect(internalsOf(auth).rateLimiter.ruleOf('login')).toEqual({ limit: 5, windowMs: 60_000 });
  });

  it('accepts a rate string, an object with a duration, or false per route', () => {
    const auth = createAuth({
      rateLimits: { login: '10/min', register: { limit: 3, window: '1h' }, refresh: false },
    });
    expect(internalsOf(auth).rateLimiter.ruleOf('login')).toEqual({ limit: 10, windowMs: 60_000 });
    expect(internalsOf(auth).rateLimiter.ruleOf('register')).toEqual({
      limit: 3,
      windowMs: 3_600_000,
    });
    expect(internalsOf(auth).rateLimiter.ruleOf('refresh')).toBe(false);
  });

  it('refuses a malformed rate at start with INVALID_CONFIG naming the option', () => {
    expect(() => createAuth({ rateLimits: { login: '5 per minute' } })).toThrow(
      /rateLimits\.login/,
    );
  });

  it('refuses a window shorter than a second', () => {
    expect(() => createAuth({ rateLimits: { login: { limit: 5, window: '10ms' } } })).toThrow(
      /INVALID|rateLimits\.login/,
    );
  });

  it('refuses an unknown route name', () => {
    expect(() => createAuth({ rateLimits: { logout: '5/min' } as never })).toThrow(/rateLimits/);
  });
});
