import { randomBytes } from 'node:crypto';

/**
 * A source of the current time in milliseconds since the epoch. Inject one to test expiry and
 * lockout without sleeping.
 *
 * @example
 * ```ts
 * let now = Date.parse('2025-06-01T12:00:00Z');
 * const clock: Clock = { now: () => now };
 * const auth = createAuth({ clock });
 * now += 16 * 60_000; // the access tokens issued above have expired
 * ```
 */
export interface Clock {
  now(): number;
}

/**
 * A source of cryptographically secure random bytes (token ids, refresh tokens, session ids).
 * The default uses `crypto.randomBytes`; inject another only for deterministic tests.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * const random: RandomSource = { bytes: (length) => randomBytes(length) };
 * createAuth({ random });
 * ```
 */
export interface RandomSource {
  bytes(length: number): Uint8Array;
}

/**
 * A minimal structured logger; gatehouse never passes it a password, hash or token. Without
 * one, gatehouse logs nothing (including the warning about an ephemeral signing key).
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const log = pino();
 * const logger: Logger = {
 *   debug: (msg, data) => log.debug(data, msg),
 *   info: (msg, data) => log.info(data, msg),
 *   warn: (msg, data) => log.warn(data, msg),
 *   error: (msg, data) => log.error(data, msg),
 * };
 * createAuth({ logger });
 * ```
 */
export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export const systemClock: Clock = { now: () => Date.now() };

export const cryptoRandom: RandomSource = { bytes: (length) => randomBytes(length) };

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
