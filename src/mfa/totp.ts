// TOTP (RFC 6238) as gatehouse uses it: SHA-1, 6 digits, 30-second steps. The HOTP arithmetic
// (RFC 4226: HMAC, dynamic truncation) is @oslojs/otp's `generateHOTP`; the clock, the window
// and the comparison are ours, so time comes from the injected clock and never from Date.now().
import { timingSafeEqual } from 'node:crypto';
import { generateHOTP } from '@oslojs/otp';
import type { RandomSource } from '../runtime.js';

/** Seconds of one step (RFC 6238's X). */
export const TOTP_PERIOD_SECONDS = 30;
/** Digits of a code. Only 6: what every authenticator app shows by default. */
export const TOTP_DIGITS = 6;
/** Bytes of a secret: 160 bits, the length RFC 4226 recommends for HMAC-SHA-1. */
export const TOTP_SECRET_BYTES = 20;
/** The widest window `verifyTotp` accepts (steps either side of now). */
const MAX_WINDOW = 10;

const PERIOD_MS = TOTP_PERIOD_SECONDS * 1000;
const SIX_DIGITS = /^[0-9]{6}$/;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, upper case, without padding (what authenticator apps expect in a URI). */
export function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes RFC 4648 base32 (either case, padding optional). Throws a TypeError on any other
 * character or on a length no encoder produces.
 */
export function decodeBase32(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '').toUpperCase();
  const tail = clean.length % 8;
  if (tail === 1 || tail === 3 || tail === 6) {
    throw new TypeError('not a base32 string: impossible length');
  }
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value === -1) throw new TypeError('not a base32 string: unexpected character');
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >>> bits) & 0xff;
    }
  }
  return out;
}

/**
 * A new TOTP secret: base32 of 20 bytes (160 bits) from the injected randomness, 32 characters.
 * Throws a TypeError when the source returns fewer bytes than asked.
 */
export function generateTotpSecret(random: RandomSource): string {
  const bytes = random.bytes(TOTP_SECRET_BYTES);
  if (bytes.byteLength < TOTP_SECRET_BYTES) {
    throw new TypeError(
      `the random source returned ${bytes.byteLength} bytes, not ${TOTP_SECRET_BYTES}`,
    );
  }
  return encodeBase32(bytes.subarray(0, TOTP_SECRET_BYTES));
}

/**
 * The `otpauth://` URI an authenticator app reads from a QR code (Google's Key URI Format):
 * `otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
 * Issuer and account are percent-encoded (a space is `%20`, never `+`, which some apps show as
 * is); neither may contain a colon (the label's separator): a TypeError.
 */
export function totpUri(input: { issuer: string; account: string; secret: string }): string {
  const { issuer, account, secret } = input;
  for (const [name, value] of [
    ['issuer', issuer],
    ['account', account],
  ] as const) {
    if (typeof value !== 'string' || value.trim() === '' || value.includes(':')) {
      throw new TypeError(`totpUri: ${name} must be a non-empty string without ':'`);
    }
  }
  decodeBase32(secret); // a TypeError for a secret that is not ours
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = [
    `secret=${secret}`,
    `issuer=${encodeURIComponent(issuer)}`,
    'algorithm=SHA1',
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}

/** The step (RFC 6238's T) at a time in ms since the epoch: floor(seconds / 30). */
export function totpStepAt(nowMs: number): number {
  return Math.floor(nowMs / PERIOD_MS);
}

/** The code of a step, `digits` long (6 unless an RFC test vector asks for 8). */
export function totpCodeAtStep(key: Uint8Array, step: number, digits = TOTP_DIGITS): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new TypeError('step must be an integer >= 0');
  return generateHOTP(key, BigInt(step), digits);
}

/** The 6-digit code of a base32 secret at a time (tests, and an example's end-to-end test). */
export function totpCodeAt(secret: string, nowMs: number): string {
  return totpCodeAtStep(decodeBase32(secret), totpStepAt(nowMs));
}

/**
 * Checks a code against the steps `now - window … now + window` and returns the matched step,
 * or null. A code that is not exactly six ASCII digits is null without any HMAC. Every step of
 * the window is computed and compared in constant time, with no early exit, so the time taken
 * says nothing about which step (if any) matched. If two steps match (one chance in a million),
 * the later one is returned. The replay rule (a step at most once) is the store's `acceptStep`.
 *
 * `window` is an integer 0–10 (default 1: the ±30 s of RFC 6238's recommendation); anything else
 * is a TypeError, as is a secret that is not base32 (it came from the store, not the user).
 */
export function verifyTotp(secret: string, code: string, nowMs: number, window = 1): number | null {
  if (!Number.isInteger(window) || window < 0 || window > MAX_WINDOW) {
    throw new TypeError(`verifyTotp: window must be an integer from 0 to ${MAX_WINDOW}`);
  }
  const key = decodeBase32(secret);
  if (typeof code !== 'string' || !SIX_DIGITS.test(code)) return null;
  const presented = Buffer.from(code, 'ascii');
  const now = totpStepAt(nowMs);
  let matched: number | null = null;
  for (let step = now - window; step <= now + window; step++) {
    if (step < 0) continue;
    const expected = Buffer.from(totpCodeAtStep(key, step), 'ascii');
    // Both are 6 bytes, so timingSafeEqual never throws; a match only records its step.
    if (timingSafeEqual(presented, expected)) matched = step;
  }
  return matched;
}
