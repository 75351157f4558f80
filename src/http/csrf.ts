import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthError } from '../errors.js';
import { headerValue } from './request.js';

/**
 * The header that carries the CSRF token.
 *
 * @example
 * ```ts
 * fetch('/api/orders', { method: 'POST', headers: { [CSRF_HEADER]: csrfToken } });
 * ```
 */
export const CSRF_HEADER = 'x-csrf-token';

const BINDING = /^[A-Za-z0-9_-]{43}$/;

/**
 * Why a request failed the CSRF check (recorded in the CSRF_REJECTED audit event).
 *
 * @example
 * ```ts
 * if ((err as AuthError).details?.['reason'] === 'untrusted_origin') alertSecurityTeam();
 * ```
 */
export type CsrfRejection =
  | 'untrusted_origin'
  | 'cross_site'
  | 'no_origin'
  | 'missing_token'
  | 'bad_token'
  | 'no_binding';

/**
 * The CSRF defence of cookie mode: an origin check plus a token bound to the login session.
 *
 * The session carries a random binding in an HttpOnly `__Host-` cookie, replaced at every login
 * and cleared at logout; the token is HMAC-SHA256(key, binding). A page of the app reads the
 * token from the login (or `GET /csrf`) response and sends it in `X-CSRF-Token`. Another site can
 * neither read the token nor derive it from a cookie it managed to plant, and a token stops
 * working when its session ends. Tokens are compared in constant time.
 *
 * @example
 * ```ts
 * const csrf = new CsrfProtection({ key, trustedOrigins: ['https://app.example.com'] });
 * const binding = csrf.newBinding();
 * csrf.verify(request.headers, binding); // throws CSRF_REJECTED unless origin and token are right
 * ```
 */
export class CsrfProtection {
  readonly #key: Uint8Array;
  readonly #trustedOrigins: ReadonlySet<string>;

  constructor(options: { key: Uint8Array; trustedOrigins: readonly string[] }) {
    this.#key = options.key;
    this.#trustedOrigins = new Set(options.trustedOrigins);
  }

  /** A fresh random binding for a new session (base64url of 32 bytes). */
  newBinding(): string {
    return randomBytes(32).toString('base64url');
  }

  /** Whether a cookie value has the shape of a binding. */
  isBinding(value: string | undefined): value is string {
    return value !== undefined && BINDING.test(value);
  }

  /** The CSRF token of a binding. */
  tokenFor(binding: string): string {
    return createHmac('sha256', this.#key).update(`gatehouse-csrf:${binding}`).digest('base64url');
  }

  /**
   * Checks the request's origin: a present `Origin` must be one of the trusted origins; without
   * one, `Sec-Fetch-Site` must say `same-origin` (or `none`, a user's own navigation). A request
   * with neither is refused: every browser that matters sends one of them on a POST.
   */
  originRejection(
    headers: Readonly<Record<string, string | string[] | undefined>>,
  ): CsrfRejection | null {
    const origin = headerValue(headers, 'origin');
    if (origin !== undefined) return this.#trustedOrigins.has(origin) ? null : 'untrusted_origin';
    const site = headerValue(headers, 'sec-fetch-site');
    if (site === undefined) return 'no_origin';
    return site === 'same-origin' || site === 'none' ? null : 'cross_site';
  }

  /** Checks a presented token against the session's binding, in constant time. */
  tokenRejection(binding: string | undefined, token: string | undefined): CsrfRejection | null {
    if (!this.isBinding(binding)) return 'no_binding';
    if (token === undefined || token.length === 0) return 'missing_token';
    const expected = createHash('sha256').update(this.tokenFor(binding)).digest();
    const actual = createHash('sha256').update(token).digest();
    return timingSafeEqual(expected, actual) ? null : 'bad_token';
  }

  /**
   * Throws `AuthError('CSRF_REJECTED')` (with the reason as `details.reason`) unless the origin
   * is trusted and the `X-CSRF-Token` header matches `binding`.
   */
  verify(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    binding: string | undefined,
  ): void {
    const reason =
      this.originRejection(headers) ??
      this.tokenRejection(binding, headerValue(headers, CSRF_HEADER));
    if (reason !== null) throw new AuthError('CSRF_REJECTED', undefined, { details: { reason } });
  }
}
