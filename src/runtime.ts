import { randomBytes } from 'node:crypto';

/** A source of the current time in milliseconds since the epoch. Inject one to test expiry. */
export interface Clock {
  now(): number;
}

/** A source of cryptographically secure random bytes. */
export interface RandomSource {
  bytes(length: number): Uint8Array;
}

/** A minimal structured logger; gatehouse never passes it a secret. */
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
