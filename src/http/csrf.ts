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
// Session ids are UUIDs; a custom store may use other URL-safe ids.
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Whether a value can be a session id in a cookie (URL-safe characters, at most 128). */
export function isSessionIdShape(value: string): boolean {
  return SESSION_ID.test(value);
}

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
 * The parts of a binding cookie: the random binding, and the session it was bound to at login
 * (null before login). The session id there is only a hint for `GET /csrf`: verification takes
 * the session id from a credential (the access token's `sid`, the refresh cookie's session).
 *
 * @example
 * ```ts
 * const parsed: CsrfBinding | null = csrf.parseBinding(cookies.get('__Host-gatehouse-csrf'));
 * if (parsed) csrf.tokenFor(parsed.binding, parsed.sessionId);
 * ```
 */
export interface CsrfBinding {
  binding: string;
  sessionId: string | null;
}

/**
 * The CSRF defence of cookie mode: an origin check plus a token bound to the binding cookie and,
 * once logged in, to the session.
 *
 * The browser carries a random binding in an HttpOnly `__Host-` cookie, replaced at every login
 * and cleared at logout. Before login the token is HMAC-SHA256(key, binding); after login it is
 * HMAC-SHA256(key, binding + session id), so a binding and token pair planted from another
 * session (the attacker's own) or obtained before login is refused on this session's requests.
 * A page of the app reads the token from the login, refresh or `GET /csrf` response and sends
 * it in `X-CSRF-Token`. Another site can neither read the token nor derive it (it lacks the key),
 * and a token stops working when its session ends. Tokens are compared in constant time.
 *
 * @example
 * ```ts
 * const csrf = new CsrfProtection({ key, trustedOrigins: ['https://app.example.com'] });
 * const binding = csrf.newBinding();
 * csrf.verify(request.headers, binding); // before login: the binding alone
 * csrf.verify(request.headers, cookieValue, principal.sessionId); // after login: bound to the session
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

  /** Whether a value has the shape of a binding (the random part of the cookie). */
  isBinding(value: string | undefined): value is string {
    return value !== undefined && BINDING.test(value);
  }

  /** The binding cookie's value: the binding, then `.` and the session id after login. */
  cookieValue(binding: string, sessionId: string | null): string {
    return sessionId === null ? binding : `${binding}.${sessionId}`;
  }

  /** Parses a binding cookie's value; null when it is absent or malformed. */
  parseBinding(value: string | undefined): CsrfBinding | null {
    if (value === undefined) return null;
    const dot = value.indexOf('.');
    const binding = dot < 0 ? value : value.slice(0, dot);
    const sessionId = dot < 0 ? null : value.slice(dot + 1);
    if (!this.isBinding(binding)) return null;
    if (sessionId !== null && !isSessionIdShape(sessionId)) return null;
    return { binding, sessionId };
  }

  /**
   * The CSRF token of a binding: bound to `sessionId` when given (after login), to the binding
   * alone otherwise. The two forms are domain-separated, so neither passes for the other.
   */
  tokenFor(binding: string, sessionId: string | null = null): string {
    const input =
      sessionId === null
        ? `gatehouse-csrf:${binding}`
        : `gatehouse-csrf-session:${binding}:${sessionId}`;
    return createHmac('sha256', this.#key).update(input).digest('base64url');
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

  /**
   * Checks a presented token against the binding cookie's value, in constant time. With a
   * `sessionId` (a request of a logged-in session) only the token bound to that session passes.
   * Without one (login, register: no session yet) the token of the binding alone passes, and so
   * does the token of the session named in the cookie (a page still holding it can log in again):
   * both are worth no more than the cookie itself.
   */
  tokenRejection(
    cookieValue: string | undefined,
    token: string | undefined,
    sessionId?: string,
  ): CsrfRejection | null {
    const parsed = this.parseBinding(cookieValue);
    if (parsed === null) return 'no_binding';
    if (token === undefined || token.length === 0) return 'missing_token';
    const accepted =
      sessionId !== undefined
        ? [sessionId]
        : parsed.sessionId === null
          ? [null]
          : [null, parsed.sessionId];
    const actual = createHash('sha256').update(token).digest();
    let match = false;
    for (const id of accepted) {
      const expected = createHash('sha256').update(this.tokenFor(parsed.binding, id)).digest();
      if (timingSafeEqual(expected, actual)) match = true;
    }
    return match ? null : 'bad_token';
  }

  /**
   * Throws `AuthError('CSRF_REJECTED')` (with the reason as `details.reason`) unless the origin
   * is trusted and the `X-CSRF-Token` header matches the binding cookie's value and, when given,
   * `sessionId` (pass it for every request of a logged-in session).
   */
  verify(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    cookieValue: string | undefined,
    sessionId?: string,
  ): void {
    const reason =
      this.originRejection(headers) ??
      this.tokenRejection(cookieValue, headerValue(headers, CSRF_HEADER), sessionId);
    if (reason !== null) throw new AuthError('CSRF_REJECTED', undefined, { details: { reason } });
  }
}
