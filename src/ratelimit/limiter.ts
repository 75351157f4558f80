import { z } from 'zod';
import type { AuditEmitter, RequestContext } from '../audit/emitter.js';
import { durationSchema } from '../duration.js';
import { AuthError } from '../errors.js';
import type { Clock } from '../runtime.js';
import type { RateLimitStore } from '../stores/types.js';
import { noopTelemetry, type Telemetry } from '../telemetry/telemetry.js';

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
 * What gatehouse rate-limits: the login, register, refresh and forgot-password routes per client
 * IP (the HTTP layer), and inside the core the password-reset mails per email address
 * (`forgotEmail`, keyed by a keyed hash of the address) and the verification resends per user
 * (`resendVerification`).
 *
 * @example
 * ```ts
 * await auth.enforceRateLimit('login' satisfies RateLimitedRoute, ip);
 * ```
 */
export type RateLimitedRoute =
  | 'login'
  | 'register'
  | 'refresh'
  | 'forgot'
  | 'forgotEmail'
  | 'resendVerification';

/**
 * The rules in force per route; `false` switches a route's limit off.
 *
 * @example
 * ```ts
 * const rules: RateLimitRules = { login: { limit: 5, windowMs: 60_000 }, register: false, refresh: false };
 * ```
 */
export type RateLimitRules = Record<RateLimitedRoute, RateLimitRule | false>;

// The units of a rate's period, exactly (letter case ignored): no `ms`, no `hs`, no fractions.
// A Map, so that `'5/constructor'` finds nothing on Object.prototype.
const RATE_UNITS = new Map<string, number>([
  ...(['s', 'sec', 'secs', 'second', 'seconds'] as const).map((u) => [u, 1000] as const),
  ...(['m', 'min', 'mins', 'minute', 'minutes'] as const).map((u) => [u, 60_000] as const),
  ...(['h', 'hour', 'hours'] as const).map((u) => [u, 3_600_000] as const),
  ...(['d', 'day', 'days'] as const).map((u) => [u, 86_400_000] as const),
]);

/** The largest `limit` of a rule. */
const MAX_LIMIT = 1_000_000;

// `<limit>/<count?><unit>`: whole numbers only, spaces allowed around the slash and at the ends.
const RATE_PATTERN = /^\s*(\d{1,7})\s*\/\s*(\d{1,7})?([a-z]+)\s*$/i;

/**
 * Parses a rate written as `'<limit>/<period>'`: `'5/min'`, `'100/hour'`, `'10/15m'`,
 * `'3/30s'`. The period is an optional whole count and one of exactly these units (any letter
 * case): `s`, `sec`, `secs`, `second`, `seconds`, `m`, `min`, `mins`, `minute`, `minutes`, `h`,
 * `hour`, `hours`, `d`, `day`, `days`. Spaces around the slash and at the ends are ignored.
 * Returns null for anything else (`'5/ms'`, `'5/hs'`, `'5/1.5m'`), a limit or count of 0, or a
 * limit over 1 000 000.
 *
 * @example
 * ```ts
 * import { parseRateLimit } from 'gatehouse';
 * parseRateLimit('5/min'); // { limit: 5, windowMs: 60000 }
 * parseRateLimit('10/15m'); // { limit: 10, windowMs: 900000 }
 * parseRateLimit('5/ms'); // null
 * ```
 */
export function parseRateLimit(text: string): RateLimitRule | null {
  const match = RATE_PATTERN.exec(text);
  if (!match) return null;
  const limit = Number(match[1]);
  const count = match[2] === undefined ? 1 : Number(match[2]);
  const unitMs = RATE_UNITS.get(match[3]!.toLowerCase());
  if (unitMs === undefined || limit < 1 || limit > MAX_LIMIT || count < 1) return null;
  return { limit, windowMs: count * unitMs };
}

const MAX_WINDOW_MS = 7 * 86_400_000;

const rateLimitObjectSchema = z
  .object({
    limit: z.number().int().min(1).max(MAX_LIMIT),
    window: durationSchema({ minMs: 1000, maxMs: MAX_WINDOW_MS }),
  })
  .strict();

type RateLimitRuleInput = false | string | z.input<typeof rateLimitObjectSchema>;

// Not a z.union: a union that fails everywhere reports "Invalid input", and the message must say
// which part of the rule is wrong.
/**
 * The zod schema of one route's rate limit: `false` (off), a rate such as `'5/min'`, or
 * `{ limit, window }` where `window` is a duration (`'1m'`, `60`).
 *
 * @example
 * ```ts
 * rateLimitRuleSchema.parse('5/min'); // { limit: 5, windowMs: 60000 }
 * ```
 */
export const rateLimitRuleSchema = z
  .custom<RateLimitRuleInput>(
    (value) =>
      value === false || typeof value === 'string' || (typeof value === 'object' && value !== null),
    { message: 'must be false, a rate like "5/min" or { limit, window }' },
  )
  .transform((value, ctx): RateLimitRule | false => {
    if (value === false) return false;
    if (typeof value === 'string') {
      const rule = parseRateLimit(value);
      if (!rule || rule.windowMs < 1000 || rule.windowMs > MAX_WINDOW_MS) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a rate like "5/min", "100/hour" or "10/15m": a limit from 1 to ${MAX_LIMIT}, a window from 1s to 7d, units ${[...RATE_UNITS.keys()].join(', ')} (got ${JSON.stringify(value.slice(0, 40))})`,
        });
        return z.NEVER;
      }
      return rule;
    }
    const result = rateLimitObjectSchema.safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      }
      return z.NEVER;
    }
    return { limit: result.data.limit, windowMs: result.data.window };
  });

/**
 * The `rateLimits` options of `createAuth`: per-IP limits of the login, register, refresh and
 * forgot-password routes, and the core's per-email limit of password-reset mails and per-user
 * limit of verification resends. Defaults: login 5 per minute (the seed's SEC-003), register 5
 * per minute, refresh 30 per minute, forgot 5 per minute, forgotEmail 3 per 15 minutes,
 * resendVerification 3 per 15 minutes.
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
    forgot: rateLimitRuleSchema.default({ limit: 5, windowMs: 60_000 }),
    forgotEmail: rateLimitRuleSchema.default({ limit: 3, windowMs: 15 * 60_000 }),
    resendVerification: rateLimitRuleSchema.default({ limit: 3, windowMs: 15 * 60_000 }),
  })
  .strict();

/**
 * The outcome of `auth.enforceRateLimit` (and the limiter of the auth routes).
 *
 * @example
 * ```ts
 * const { allowed, retryAfter } = await rateLimiter.check('login', ip); // a RateLimiter
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
  /** The rule per route; a route left out is not limited. */
  rules: Partial<RateLimitRules>;
  /** Receives a RATE_LIMITED event for each refused request. */
  audit?: Pick<AuditEmitter, 'emit'>;
  /**
   * Counts each refusal (`gatehouse.rate_limited {route}`; a refused login or refresh is also a
   * `gatehouse.login.attempts {outcome=rate_limited}` or `gatehouse.refresh {outcome=rate_limited}`).
   */
  telemetry?: Telemetry;
}

/**
 * Per-key fixed-window rate limiting over a {@link RateLimitStore}. The adapters key it by
 * client IP (IPv6 clients by their /64 network, see `rateLimitKeyOfIp`).
 *
 * @example
 * ```ts
 * import { MemoryRateLimitStore } from 'gatehouse';
 * import { RateLimiter } from './limiter.js'; // internal: apps call auth.enforceRateLimit
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
  readonly #rules: Partial<RateLimitRules>;
  readonly #audit: Pick<AuditEmitter, 'emit'> | undefined;
  readonly #telemetry: Telemetry;

  constructor(options: RateLimiterOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#rules = options.rules;
    this.#audit = options.audit;
    this.#telemetry = options.telemetry ?? noopTelemetry;
  }

  /** The rule of a route, or false when the route is not limited. */
  ruleOf(route: RateLimitedRoute): RateLimitRule | false {
    return this.#rules[route] ?? false;
  }

  /** Counts one request of `key` on `route` and says whether it is allowed. */
  async check(route: RateLimitedRoute, key: string): Promise<RateLimitDecision> {
    const rule = this.#rules[route] ?? false;
    if (!rule) return { allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfter: 0 };
    const now = this.#clock.now();
    const result = await this.#store.hit(`${route}:${key}`, {
      now,
      windowMs: rule.windowMs,
      limit: rule.limit,
    });
    if (!result.allowed) this.#refused(route);
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

  #refused(route: RateLimitedRoute): void {
    const telemetry = this.#telemetry;
    if (!telemetry.enabled) return;
    telemetry.rateLimited(route);
    if (route === 'login') telemetry.loginAttempt('rate_limited');
    else if (route === 'refresh') telemetry.refresh('rate_limited');
  }

  /** Forgets the counter of `key` on `route` (e.g. after an operator unblocks a client). */
  reset(route: RateLimitedRoute, key: string): Promise<void> {
    return this.#store.reset(`${route}:${key}`);
  }
}
