import { createHash } from 'node:crypto';
import type { RandomSource } from '../runtime.js';

/** Random bytes in a refresh token (256 bits). */
export const REFRESH_TOKEN_BYTES = 32;

/** A refresh token: exactly 43 base64url characters (32 bytes), no dots, unlike a JWT. */
const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Creates an opaque refresh token of 256 random bits, base64url-encoded.
 *
 * @example
 * ```ts
 * const token = createRefreshToken(cryptoRandom); // 'q0Jz...' (43 characters)
 * ```
 */
export function createRefreshToken(random: RandomSource): string {
  const bytes = random.bytes(REFRESH_TOKEN_BYTES);
  if (bytes.length !== REFRESH_TOKEN_BYTES) {
    throw new Error(
      `RandomSource returned ${bytes.length} bytes instead of ${REFRESH_TOKEN_BYTES}`,
    );
  }
  return Buffer.from(bytes).toString('base64url');
}

/**
 * Whether a value has the shape of a refresh token. An access token (a JWT, with dots) never
 * has it, so it can never be accepted as a refresh token.
 *
 * @example
 * ```ts
 * isRefreshTokenShape(accessJwt); // false
 * ```
 */
export function isRefreshTokenShape(value: unknown): value is string {
  return typeof value === 'string' && REFRESH_TOKEN_SHAPE.test(value);
}

/**
 * The SHA-256 (hex) of a refresh token: the only form in which a store ever sees it.
 *
 * @example
 * ```ts
 * await store.createSession(session, hashRefreshToken(refreshToken));
 * ```
 */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * A random identifier of `bytes` bytes, base64url-encoded (used for `jti`).
 *
 * @example
 * ```ts
 * randomId(cryptoRandom); // 'oV3x1u0l9m8b3fJ2cQ0p2w' (22 characters)
 * ```
 */
export function randomId(random: RandomSource, bytes = 16): string {
  return Buffer.from(random.bytes(bytes)).toString('base64url');
}

/**
 * A random UUID (version 4) from the injected randomness; session ids are UUIDs.
 *
 * @example
 * ```ts
 * randomUuid(cryptoRandom); // '6f1c2a4e-0d6b-4f55-9a43-5c1b0f7e9a21'
 * ```
 */
export function randomUuid(random: RandomSource): string {
  const b = Buffer.from(random.bytes(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
