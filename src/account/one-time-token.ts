import { createHash } from 'node:crypto';
import type { RandomSource } from '../runtime.js';

/** 32 bytes: 256 bits of the injected randomness per link. */
export const ONE_TIME_TOKEN_BYTES = 32;

/** Longer than any token gatehouse issues (43 characters): hashed anyway, it simply matches nothing. */
const MAX_PRESENTED_TOKEN_LENGTH = 512;

/** The stored form of a one-time token: base64url SHA-256. The token itself is only in the mail. */
export function hashOneTimeToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** A new token (base64url of 32 random bytes) and its hash. */
export function newOneTimeToken(random: RandomSource): { token: string; tokenHash: string } {
  const bytes = random.bytes(ONE_TIME_TOKEN_BYTES);
  if (bytes.byteLength < ONE_TIME_TOKEN_BYTES) {
    throw new TypeError(`the random source returned ${bytes.byteLength} bytes, not 32`);
  }
  const token = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  return { token, tokenHash: hashOneTimeToken(token) };
}

/**
 * The hash to look a presented token up by, or null when it cannot be one of ours (not a string,
 * empty, absurdly long): the caller answers exactly as for an unknown token.
 */
export function presentedTokenHash(token: unknown): string | null {
  if (typeof token !== 'string' || token.length === 0) return null;
  if (token.length > MAX_PRESENTED_TOKEN_LENGTH) return null;
  return hashOneTimeToken(token.trim());
}
