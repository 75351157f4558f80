import { AuthError } from '../errors.js';

/**
 * Parses a `Cookie` header into name/value pairs. When a name repeats, the first occurrence wins
 * (browsers send the most specific path first). Values are not URL-decoded: gatehouse's own
 * cookies hold only base64url and JWT characters.
 *
 * @example
 * ```ts
 * parseCookies('a=1; b=2'); // Map { 'a' => '1', 'b' => '2' }
 * ```
 */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || cookies.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    cookies.set(name, value);
  }
  return cookies;
}

/**
 * Attributes of a `Set-Cookie` header written by {@link serializeCookie}.
 *
 * @example
 * ```ts
 * serializeCookie('a', 'v', { path: '/', httpOnly: true, secure: true, sameSite: 'Strict', maxAge: 60 });
 * ```
 */
export interface CookieAttributes {
  /** An absolute path (`/` first), without `;`, control characters or whitespace. */
  path: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'Strict' | 'Lax';
  /**
   * Whole seconds until expiry, at most 400 days; 0 (or less) deletes the cookie; undefined
   * makes a session cookie. NaN, Infinity and fractions are refused.
   */
  maxAge?: number | undefined;
  /**
   * A host name for the `Domain` attribute, which shares the cookie with every subdomain.
   * gatehouse never sets it (its cookies stay on the host that set them). @default undefined
   */
  domain?: string | undefined;
}

// RFC 7230 token: the characters a cookie name may have.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265 cookie-value: cookie-octets (no CTL, whitespace, DQUOTE, comma, semicolon,
// backslash, nor anything outside ASCII), optionally inside one pair of double quotes.
const COOKIE_VALUE =
  /^(?:[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*|"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*")$/;
// RFC 6265 path-value: any CHAR but CTLs and `;`; whitespace and non-ASCII refused as well.
const PATH_VALUE = /^\/[\x21-\x3A\x3C-\x7E]*$/;
// A host name: dot-separated LDH labels of 1 to 63 characters, 253 at most, an optional leading dot.
const DOMAIN_VALUE =
  /^\.?(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// Browsers cap Max-Age at 400 days (RFC 6265bis); more is a mistake, not a longer cookie.
const MAX_AGE_LIMIT = 400 * 86_400;

const COOKIE_OCTET = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]$/u;

function refuse(what: string, got: string): never {
  throw new AuthError('INVALID_CONFIG', `Invalid cookie: ${what} (got ${got})`);
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : String(value);
}

function badCharacterOf(value: string): string {
  const bad = [...value].find((c) => !COOKIE_OCTET.test(c)) ?? '"';
  return `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Writes a `Set-Cookie` value. Sets `Domain` only when given, so a cookie stays on the host that
 * set it by default. Refuses, with `AuthError('INVALID_CONFIG')`, what RFC 6265 forbids and
 * would let one attribute inject another: a name that is not a token, a value with `;`, `,`,
 * whitespace, `"`, `\` or control characters, a path with `;` or control characters, a malformed
 * domain, a Max-Age that is not a whole number of seconds (NaN, Infinity).
 *
 * @example
 * ```ts
 * serializeCookie('__Host-id', 'v', { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
 * // '__Host-id=v; Path=/; Secure; HttpOnly; SameSite=Lax'
 * serializeCookie('id', 'v; Domain=evil.example', { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
 * // throws AuthError INVALID_CONFIG
 * ```
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    refuse("the name must be an RFC 7230 token (letters, digits and !#$%&'*+-.^_`|~)", shown(name));
  }
  if (typeof value !== 'string' || !COOKIE_VALUE.test(value)) {
    // The value may be a secret: say what is wrong in it, never what it holds.
    refuse(
      `the value of ${name} must be RFC 6265 cookie-octets (no ; , " \\ whitespace or control characters)`,
      typeof value === 'string'
        ? `a value of ${value.length} characters containing ${badCharacterOf(value)}`
        : typeof value,
    );
  }
  const { path, maxAge, domain } = attributes;
  if (typeof path !== 'string' || !PATH_VALUE.test(path)) {
    refuse(
      `the path of ${name} must start with / and hold no ; whitespace or control characters`,
      shown(path),
    );
  }
  let cookie = `${name}=${value}; Path=${path}`;
  if (domain !== undefined) {
    if (typeof domain !== 'string' || !DOMAIN_VALUE.test(domain)) {
      refuse(`the domain of ${name} must be a host name such as example.com`, shown(domain));
    }
    cookie += `; Domain=${domain}`;
  }
  if (maxAge !== undefined) {
    if (!Number.isSafeInteger(maxAge) || maxAge > MAX_AGE_LIMIT) {
      refuse(
        `the Max-Age of ${name} must be a whole number of seconds, at most 400 days`,
        shown(maxAge),
      );
    }
    cookie += `; Max-Age=${Math.max(0, maxAge)}`;
    if (maxAge <= 0) cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  }
  if (attributes.secure) cookie += '; Secure';
  if (attributes.httpOnly) cookie += '; HttpOnly';
  if (attributes.sameSite !== 'Strict' && attributes.sameSite !== 'Lax') {
    refuse(`the SameSite of ${name} must be Strict or Lax`, shown(attributes.sameSite));
  }
  cookie += `; SameSite=${attributes.sameSite}`;
  return cookie;
}
