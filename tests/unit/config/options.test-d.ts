// Compile-time specification of createAuth's options. Run by `npm run typecheck` (tsc over
// tsconfig.json, which includes tests/) and by vitest's typecheck mode (vitest.config.ts): a
// disagreement between a hand-written option interface and its zod schema fails both.

import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type {
  emailVerificationSchema,
  mailOptionsSchema,
  passwordResetSchema,
} from '../../../src/account/options.js';
import type { authOptionsSchema, storesSchema } from '../../../src/config.js';
import type { lockoutSchema } from '../../../src/credentials/lockout-options.js';
import type { cookieModeSchema } from '../../../src/http/cookie-mode.js';
import {
  type AuthOptions,
  type CookieModeOptions,
  createAuth,
  type Duration,
  type EmailVerificationOptions,
  type LockoutOptions,
  type MailOptions,
  type MfaOptions,
  type PasswordOptions,
  type PasswordResetOptions,
  type RateLimitOption,
  type RateLimitOptions,
  type StoreOptions,
  type TokenOptions,
} from '../../../src/index.js';
import type { mfaOptionsSchema } from '../../../src/mfa/options.js';
import type { passwordsSchema } from '../../../src/passwords/options.js';
import type { rateLimitRuleSchema, rateLimitsSchema } from '../../../src/ratelimit/limiter.js';
import type { tokenOptionsSchema } from '../../../src/tokens/options.js';

/** true when A and B are the same type (the strict identity check of type-fest / ts-essentials). */
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
type Input<S extends z.ZodType> = z.input<S>;

describe('option interfaces agree with their zod schemas', () => {
  it('each hand-written interface is exactly the input type of its schema', () => {
    type _auth = Expect<Equal<AuthOptions, Input<typeof authOptionsSchema>>>;
    type _stores = Expect<Equal<StoreOptions, Input<typeof storesSchema>>>;
    type _passwords = Expect<Equal<PasswordOptions, Input<typeof passwordsSchema>>>;
    type _lockout = Expect<Equal<LockoutOptions, Input<typeof lockoutSchema>>>;
    type _tokens = Expect<Equal<TokenOptions, Input<typeof tokenOptionsSchema>>>;
    type _rateLimits = Expect<Equal<RateLimitOptions, Input<typeof rateLimitsSchema>>>;
    type _rule = Expect<Equal<RateLimitOption, Input<typeof rateLimitRuleSchema>>>;
    type _cookies = Expect<Equal<CookieModeOptions, Input<typeof cookieModeSchema>>>;
    type _mail = Expect<Equal<MailOptions, Input<typeof mailOptionsSchema>>>;
    type _reset = Expect<Equal<PasswordResetOptions, Input<typeof passwordResetSchema>>>;
    type _verify = Expect<Equal<EmailVerificationOptions, Input<typeof emailVerificationSchema>>>;
    type _mfa = Expect<Equal<MfaOptions, Input<typeof mfaOptionsSchema>>>;
  });
});

describe('createAuth options at the call site', () => {
  it('a misspelt option is a type error, at the top level and nested', () => {
    // @ts-expect-error `lockOut` is not an option (it is `lockout`)
    createAuth({ lockOut: { maxAttempts: 5 } });
    // @ts-expect-error `maxAttempt` is not a lockout option (it is `maxAttempts`)
    createAuth({ lockout: { maxAttempt: 5 } });
    // @ts-expect-error `accessTTL` is not a token option (it is `accessTtl`)
    createAuth({ tokens: { accessTTL: '15m' } });
    // @ts-expect-error `trustedOrigin` is not a cookie option (it is `trustedOrigins`)
    createAuth({ cookies: { trustedOrigin: ['https://app.example.com'] } });
  });

  it("a duration '15x', a unitless string or a unit the parser lacks is a type error", () => {
    // @ts-expect-error no unit x
    createAuth({ tokens: { accessTtl: '15x' } });
    // @ts-expect-error a string needs a unit (a bare number of seconds is a number)
    createAuth({ lockout: { window: '900' } });
    // @ts-expect-error weeks are not a unit
    createAuth({ tokens: { refreshIdleTtl: '4w' } });
    // @ts-expect-error not a number
    createAuth({ passwordReset: { tokenTtl: 'm' } });
    // @ts-expect-error a plain string (an environment variable) must be checked first
    createAuth({ tokens: { accessTtl: process.env['JWT_EXPIRES_IN'] ?? '15m' } });
  });

  it("'15m', '250ms', '30d' and 900 (seconds) are accepted by every duration option", () => {
    expectTypeOf<'15m'>().toExtend<Duration>();
    expectTypeOf<'250ms'>().toExtend<Duration>();
    expectTypeOf<'1.5h'>().toExtend<Duration>();
    expectTypeOf<900>().toExtend<Duration>();
    expectTypeOf<string>().not.toExtend<Duration>();
    const options: AuthOptions = {
      lockout: { window: '15m', duration: 60, maxDuration: '1h' },
      tokens: {
        accessTtl: '15m',
        refreshIdleTtl: '30d',
        clockTolerance: '250ms',
        revocationCacheTtl: 0,
      },
      passwords: { breached: { onUnavailable: 'allow', timeout: '2s' } },
      rateLimits: { login: { limit: 5, window: 900 }, register: '5/min', refresh: false },
      passwordReset: { tokenTtl: '30m' },
      emailVerification: { tokenTtl: 86_400 },
    };
    createAuth(options);
    // Validated, every duration is whole milliseconds.
    type Resolved = z.output<typeof authOptionsSchema>;
    expectTypeOf<Resolved['tokens']['accessTtl']>().toEqualTypeOf<number>();
    expectTypeOf<Resolved['lockout']['maxDuration']>().toEqualTypeOf<number>();
  });

  it('every duration field of the interfaces is a Duration', () => {
    expectTypeOf<NonNullable<TokenOptions['accessTtl']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<TokenOptions['refreshIdleTtl']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<TokenOptions['refreshAbsoluteTtl']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<TokenOptions['clockTolerance']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<TokenOptions['revocationCacheTtl']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<LockoutOptions['window']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<LockoutOptions['duration']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<LockoutOptions['maxDuration']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<MailOptions['pollInterval']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<PasswordResetOptions['tokenTtl']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<EmailVerificationOptions['tokenTtl']>>().toEqualTypeOf<Duration>();
  });

  it('a key list declared apart from createAuth and a Buffer secret type without casts', () => {
    const keys: TokenOptions['keys'] = [{ kid: 'k1', alg: 'HS256', key: 'x'.repeat(32) }];
    createAuth({
      tokens: { keys },
      identifierKey: Buffer.alloc(32),
      cookies: { trustedOrigins: ['https://app.example.com'], csrfSecret: Buffer.alloc(32) },
    });
    // @ts-expect-error `alg` is one of the algorithms, not any string
    createAuth({ tokens: { keys: [{ kid: 'k1', alg: 'HS257', key: 'x'.repeat(32) }] } });
  });
});
