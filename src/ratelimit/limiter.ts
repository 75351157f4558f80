import { z } from 'zod';
import type { AuditEmitter, RequestContext } from '../audit/emitter.js';
import { parseDuration } from '../duration.js';
import { AuthError } from '../errors.js';
import type { Clock } from '../runtime.js';
import type { RateLimitStore } from '../stores/types.js';

/**
 * A limit of `limit` requests per `windowMs` milliseconds (fixed windows).
 *
 * @example
 * ```ts
 * const rule: RateLimitRule = { limit: 5, windowMs: 60_000 };
 * ```
 */
export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

/**
 * The routes gatehouse rate-limits per client IP.
 *
 * @example
 * ```ts
 * await auth.rateLimiter.enforce('login' satisfies RateLimitedRoute, ip);
 * ```
 */
export type RateLimitedRoute = 'login' | 'register' | 'refresh';

/**
 * The rules in force per route; `false` switches a route's limit off.
 *
 * @example
 * ```ts
 * const rules: RateLimitRules = { login: { limit: 5, windowMs: 60_000 }, register: false, refresh: false };
 * ```
 */
export type RateLimitRules = Record<RateLimitedRoute, RateLimitRule | false>;

const UNIT_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};

/**
 * Parses a rate written as `'<limit>/<period>'`: `'5/min'`, `'100/hour'`, `'10/15m'`,
 * `'3/30s'`. Returns null when the text is not such a rate.
 *
 * @example
 * ```ts
 * import { parseRateLimit } from 'gatehouse';
 * parseRateLimit('5/min'); // { limit: 5, windowMs: 60000 }
 * parseRateLimit('10/15m'); // { limit: 10, windowMs: 900000 }
 * ```
 */
export function parseRateLimit(text: string): RateLimitRule | null {
  const match = /^\s*(\d+)\s*\/\s*([^\s].*?)\s*$/.exec(text);
  if (!match) return null;
  const limit = Number(match[1]);
  const period = match[2]!.toLowerCase();
  const windowMs = UNIT_MS[period] ?? UNIT_MS[period.replace(/s$/, '')] ?? parseDuration(period);
  if (!Number.isSafeInteger(limit) || limit < 1 || !windowMs) return null;
  return { limit, windowMs };
}

const MAX_WINDOW_MS = 7 * 86_400_000;

/**
 * The zod schema of one route's rate limit: `false` (off), a rate such as `'5/min'`, or
 * `{ limit, window }` where `window` is a duration (`'1m'`, `60`).
 *
 * @example
 * ```ts
 * rateLimitRuleSchema.parse('5/min'); // { limit: 5, windowMs: 60000 }
 * ```
 */
export const rateLimitRuleSchema = z.union([
  z.literal(false),
  z.string().transform((text, ctx) => {
    const rule = parseRateLimit(text);
    if (!rule || rule.windowMs < 1000 || rule.windowMs > MAX_WINDOW_MS) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a rate like "5/min", "100/hour" or "10/15m" with a window from 1s to 7d (got ${JSON.stringify(text)})`,
      });
      return z.NEVER;
    }
    return rule;
  }),
  z
    .object({
      limit: z.number().int().min(1).max(1_000_000),
      window: z.union([z.number(), z.string()]).transform((value, ctx) => {
        const ms = parseDuration(value);
        if (ms === null || ms < 1000 || ms > MAX_WINDOW_MS) {
          ctx.addIssue({
            code: 'custom',
            message: `must be a duration from 1s to 7d such as "1m" or 60 (got ${JSON.stringify(value)})`,
          });
          return z.NEVER;
        }
        return ms;
      }),
    })
    .strict()
    .transform(({ limit, window }) => ({ limit, windowMs: window })),
]);

/**
 * The `rateLimits` options of `createAuth`: per-IP limits of the login, register and refresh
 * routes. Defaults: login 5 per minute (the seed's SEC-003), register 5 per minute, refresh 30
 * per minute.
 *
 * @example
 * ```ts
 * createAuth({ rateLimits: { login: '10/min', register: { limit: 3, window: '1h' }, refresh: false } });
 * ```
 */
export const rateLimitsSchema = z
  .object({
    login: rateLimitRuleSchema.default({ limit: 5, windowMs: 60_000 }),
    register: rateLimitRuleSchema.default({ limit: 5, windowMs: 60_000 }),
    refresh: rateLimitRuleSchema.default({ limit: 30, windowMs: 60_000 }),
  })
  .strict();

/**
 * The outcome of {@link RateLimiter.check}.
 *
 * @example
 * ```ts
 * const { allowed, retryAfter } = await auth.rateLimiter.check('login', ip);
 * ```
 */
export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left in the current window (0 when refused). */
  remaining: number;
  /** Whole seconds until the window ends (at least 1). */
  retryAfter: number;
}

/**
 * What a {@link RateLimiter} needs.
 *
 * @example
 * ```ts
 * new RateLimiter({ store: new MemoryRateLimitStore(), clock: { now: () => Date.now() }, rules } satisfies RateLimiterOptions);
 * ```
 */
export interface RateLimiterOptions {
  store: RateLimitStore;
  clock: Clock;
  rules: RateLimitRules;
  /** Receives a RATE_LIMITED event for each refused request. */
  audit?: Pick<AuditEmitter, 'emit'>;
}

/**
 * Per-key fixed-window rate limiting over a {@link RateLimitStore}. The adapters key it by
 * client IP (IPv6 clients by their /64 network, see `rateLimitKeyOfIp`).
 *
 * @example
 * ```ts
 * import { MemoryRateLimitStore, RateLimiter } from 'gatehouse';
 *
 * const limiter = new RateLimiter({
 *   store: new MemoryRateLimitStore(),
 *   clock: { now: () => Date.now() },
 *   rules: { login: { limit: 5, windowMs: 60_000 }, register: false, refresh: false },
 * });
 * await limiter.enforce('login', '203.0.113.7'); // throws RATE_LIMITED on the 6th call in a minute
 * ```
 */
export class RateLimiter {
  readonly #store: RateLimitStore;
  readonly #clock: Clock;
  readonly #rules: RateLimitRules;
  readonly #audit: Pick<AuditEmitter, 'emit'> | undefined;

  constructor(options: RateLimiterOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#rules = options.rules;
    this.#audit = options.audit;
  }

  /** The rule of a route, or false when the route is not limited. */
  ruleOf(route: RateLimitedRoute): RateLimitRule | false {
    return this.#rules[route];
  }

  /** Counts one request of `key` on `route` and says whether it is allowed. */
  async check(route: RateLimitedRoute, key: string): Promise<RateLimitDecision> {
    const rule = this.#rules[route];
    if (!rule) return { allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfter: 0 };
    const now = this.#clock.now();
    const result = await this.#store.hit(`${route}:${key}`, {
      now,
      windowMs: rule.windowMs,
      limit: rule.limit,
    });
    return {
      allowed: result.allowed,
      remaining: Math.max(0, rule.limit - result.count),
      retryAfter: Math.max(1, Math.ceil((result.resetAt - now) / 1000)),
    };
  }

  /**
   * Counts one request and throws `AuthError('RATE_LIMITED')` with `retryAfter` when it is over
   * the limit, after emitting a RATE_LIMITED audit event.
   */
  async enforce(
    route: RateLimitedRoute,
    key: string,
    context: RequestContext = {},
  ): Promise<RateLimitDecision> {
    const decision = await this.check(route, key);
    if (!decision.allowed) {
      const rule = this.#rules[route] as RateLimitRule;
      this.#audit?.emit({
        event: 'RATE_LIMITED',
        status: 'failure',
        context,
        metadata: { route, limit: rule.limit, windowMs: rule.windowMs },
      });
      throw new AuthError('RATE_LIMITED', undefined, { retryAfter: decision.retryAfter });
    }
    return decision;
  }

  /** Forgets the counter of `key` on `route` (e.g. after an operator unblocks a client). */
  reset(route: RateLimitedRoute, key: string): Promise<void> {
    return this.#store.reset(`${route}:${key}`);
  }
}
