import { z } from 'zod';

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

/**
 * The `cookies` option of `createAuth`. When present, the auth routes carry tokens in cookies
 * instead of JSON bodies, and every cookie-authenticated state-changing request (login, refresh
 * and logout included) must pass the CSRF defence: a trusted `Origin` (or `Sec-Fetch-Site:
 * same-origin` when no Origin is sent) and a session-bound CSRF token in `X-CSRF-Token`.
 *
 * @example
 * ```ts
 * createAuth({ cookies: { trustedOrigins: ['https://app.example.com'] } });
 * // local development over plain http (refused when NODE_ENV=production):
 * createAuth({ cookies: { trustedOrigins: ['http://localhost:3000'], insecureDevelopment: true } });
 * ```
 */
export const cookieModeSchema = z
  .object({
    /**
     * Origins (`scheme://host[:port]`, no path) allowed to make cookie-authenticated
     * state-changing requests.
     */
    trustedOrigins: z
      .array(
        z.string().refine(isOrigin, {
          message:
            'must be an origin such as "https://app.example.com" (scheme, host, port; no path)',
        }),
      )
      .min(1, 'must list at least one origin'),
    /**
     * Drops the `Secure` attribute and the `__Host-` / `__Secure-` name prefixes so that a
     * development app works over plain http on localhost. Refused when `NODE_ENV=production`.
     * @default false
     */
    insecureDevelopment: z.boolean().default(false),
    /**
     * The key (at least 32 bytes) that signs CSRF tokens. Give the same key to every instance
     * behind a load balancer. @default a random key per instance
     */
    csrfSecret: z
      .union([
        z.string().min(32, 'must be at least 32 characters'),
        // Any Uint8Array, a Node Buffer included (z.instanceof would narrow it to ArrayBuffer-backed).
        z
          .custom<Uint8Array>(
            (value) => value instanceof Uint8Array,
            'must be a string or a Uint8Array',
          )
          .refine((key) => key.byteLength >= 32, 'must be at least 32 bytes'),
      ])
      .optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.insecureDevelopment && process.env['NODE_ENV'] === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['insecureDevelopment'],
        message: 'is refused when NODE_ENV=production (cookies without Secure travel in clear)',
      });
    }
  });

/** The `cookies` option as written by the user: the documented interface in options.ts. */
export type { CookieModeOptions } from '../options.js';
/**
 * The `cookies` option after validation.
 *
 * @example
 * ```ts
 * declare const cookies: ResolvedCookieModeOptions;
 * cookies.trustedOrigins; // ['https://app.example.com']
 * ```
 */
export type ResolvedCookieModeOptions = z.output<typeof cookieModeSchema>;

/**
 * The names of gatehouse's cookies.
 *
 * @example
 * ```ts
 * const { access, refresh, csrf } = cookieNames(false);
 * ```
 */
export interface CookieNames {
  access: string;
  refresh: string;
  csrf: string;
}

/**
 * The cookie names for a mode: `__Host-` for the access and CSRF cookies (Secure, Path=/, no
 * Domain, so no sibling subdomain can set or shadow them) and `__Secure-` for the refresh cookie
 * (its path is the refresh route, which `__Host-` forbids); no prefix in insecure development.
 *
 * @example
 * ```ts
 * cookieNames(false).access; // '__Host-gatehouse-access'
 * ```
 */
export function cookieNames(insecureDevelopment: boolean): CookieNames {
  return insecureDevelopment
    ? { access: 'gatehouse-access', refresh: 'gatehouse-refresh', csrf: 'gatehouse-csrf' }
    : {
        access: '__Host-gatehouse-access',
        refresh: '__Secure-gatehouse-refresh',
        csrf: '__Host-gatehouse-csrf',
      };
}
