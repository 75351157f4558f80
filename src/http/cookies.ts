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
  path: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'Strict' | 'Lax';
  /** Seconds until expiry; 0 deletes the cookie; undefined makes a session cookie. */
  maxAge?: number | undefined;
}

/**
 * Writes a `Set-Cookie` value. Never sets `Domain`, so a cookie stays on the host that set it.
 *
 * @example
 * ```ts
 * serializeCookie('__Host-id', 'v', { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
 * // '__Host-id=v; Path=/; Secure; HttpOnly; SameSite=Lax'
 * ```
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  let cookie = `${name}=${value}; Path=${attributes.path}`;
  if (attributes.maxAge !== undefined) {
    cookie += `; Max-Age=${Math.max(0, Math.floor(attributes.maxAge))}`;
    if (attributes.maxAge <= 0) cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  }
  if (attributes.secure) cookie += '; Secure';
  if (attributes.httpOnly) cookie += '; HttpOnly';
  cookie += `; SameSite=${attributes.sameSite}`;
  return cookie;
}
