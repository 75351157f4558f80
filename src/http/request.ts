import { isIP } from 'node:net';

/**
 * A request as the framework-neutral http layer sees it. An adapter fills it from its
 * framework's request; nothing else of the framework reaches the core.
 *
 * @example
 * ```ts
 * const request: HttpRequest = {
 *   method: req.method,
 *   headers: req.headers,
 *   rawHeaders: req.rawHeaders,
 *   ip: req.ip,
 *   body: rawBytes,
 *   params: req.params, // { id: '…' } on a route `/sessions/:id`
 * };
 * ```
 */
export interface HttpRequest {
  /** Upper-case method (`GET`, `POST`...). */
  method: string;
  /** Header values by lower-case name, as Node parses them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Node's `rawHeaders` (name, value, name, value...). Node keeps only the first of duplicated
   * `Authorization` headers in `headers`; the raw list lets gatehouse refuse the duplicates.
   */
  rawHeaders?: readonly string[] | undefined;
  /**
   * The client IP as the framework resolved it: the socket's peer, or the address from
   * `X-Forwarded-For` only when the app trusts its proxy (Express `trust proxy`, Fastify
   * `trustProxy`). gatehouse never reads `X-Forwarded-For` itself.
   */
  ip: string | undefined;
  /** The raw body bytes (already size-limited by the adapter), or undefined for none. */
  body?: Uint8Array | undefined;
  /**
   * The request's id (see `RequestIdOptions`), for the audit events and log lines of the request
   * and the response's header. When an adapter with request ids on leaves it undefined, the auth
   * routes make one and record it here.
   */
  requestId?: string | undefined;
  /**
   * The route's path parameters (`{ id: '…' }` for a route `/sessions/:id`), as the framework
   * decoded them; undefined on a route without parameters or outside a route.
   */
  params?: Readonly<Record<string, string>> | undefined;
}

/**
 * The single value of a header: the first when Node gives an array, undefined when absent.
 *
 * @example
 * ```ts
 * headerValue({ 'content-type': 'application/json' }, 'content-type'); // 'application/json'
 * ```
 */
export function headerValue(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How many times a header occurs in Node's `rawHeaders` (case-insensitive name).
 *
 * @example
 * ```ts
 * countRawHeader(['Authorization', 'Bearer a', 'authorization', 'Bearer b'], 'authorization'); // 2
 * ```
 */
export function countRawHeader(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    // Lower-cased only when the length matches and the name is not already lower case: no
    // string is built for the other headers, nor for the usual lower-case one.
    const header = rawHeaders[i]!;
    if (header.length === name.length && (header === name || header.toLowerCase() === name)) {
      count++;
    }
  }
  return count;
}

/**
 * Normalises a client IP as the framework resolved it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`)
 * becomes plain IPv4; anything that is not an IP address becomes `'unknown'`.
 *
 * @example
 * ```ts
 * clientIp('::ffff:203.0.113.7'); // '203.0.113.7'
 * clientIp(undefined); // 'unknown'
 * ```
 */
export function clientIp(ip: string | undefined): string {
  if (typeof ip !== 'string') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const candidate = mapped ? mapped[1]! : ip;
  return isIP(candidate) ? candidate.toLowerCase() : 'unknown';
}

/**
 * The rate-limit key of a client IP: IPv4 as is, IPv6 by its /64 network (one host usually
 * holds a whole /64, so keying by full address would let it rotate addresses freely).
 *
 * @example
 * ```ts
 * rateLimitKeyOfIp('2001:db8:1:2:3:4:5:6'); // '2001:db8:1:2::/64'
 * rateLimitKeyOfIp('203.0.113.7'); // '203.0.113.7'
 * ```
 */
export function rateLimitKeyOfIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  const prefix = groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':');
  return `${prefix}::/64`;
}
