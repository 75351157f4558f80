import { availableParallelism } from 'node:os';
import { AuthError } from '../errors.js';
import type { Clock } from '../runtime.js';
import { noopTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import type { PasswordHasher } from './hasher.js';

/** libuv's own bounds and default for `UV_THREADPOOL_SIZE`. */
const DEFAULT_THREAD_POOL_SIZE = 4;
const MAX_THREAD_POOL_SIZE = 1024;

/** `passwords.hashQueueLimit` by default: a few seconds of waiting at cost 10, not minutes. */
export const DEFAULT_HASH_QUEUE_LIMIT = 200;
/** The largest `passwords.hashConcurrency`: libuv never runs more pool threads than this. */
export const MAX_HASH_CONCURRENCY = MAX_THREAD_POOL_SIZE;
/** The longest `Retry-After` a full queue answers with. */
const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * The libuv thread pool size, read the way libuv reads it: unset means 4; a value is parsed
 * like C's `atoi` (leading digits), 0 or garbage means 1, and more than 1024 means 1024.
 */
export function threadPoolSizeOf(env: Record<string, string | undefined>): number {
  const raw = env['UV_THREADPOOL_SIZE'];
  if (raw === undefined) return DEFAULT_THREAD_POOL_SIZE;
  const parsed = Number.parseInt(raw.trim(), 10);
  if (!Number.isFinite(parsed) || parsed <= 0) return 1;
  return Math.min(parsed, MAX_THREAD_POOL_SIZE);
}

/**
 * The default of `passwords.hashConcurrency`: one less than the smaller of the libuv pool size
 * and the CPU count, at least 1. bcrypt is pure CPU work, so running more at once than there are
 * cores only makes each one slower; keeping one core free leaves the event loop (every other
 * request) a core of its own, and keeping one pool thread free leaves fs, dns, zlib and
 * WebCrypto a thread that a login flood cannot take.
 */
export function defaultHashConcurrency(
  threadPoolSize: number = threadPoolSizeOf(process.env),
  cores: number = availableParallelism(),
): number {
  return Math.max(1, Math.min(threadPoolSize, cores) - 1);
}

export interface HashQueueOptions {
  /** At most this many operations run at once (`passwords.hashConcurrency`). */
  concurrency: number;
  /** At most this many operations wait for a slot (`passwords.hashQueueLimit`); more are refused. */
  limit: number;
  /** Times the operations, for the `Retry-After` of a refusal. */
  clock: Clock;
}

/**
 * A FIFO gate in front of the password hasher: at most `concurrency` operations run at once,
 * the next ones wait in arrival order, and beyond `limit` waiting ones an operation is refused
 * with SERVER_ERROR (503, `Retry-After`) instead of the queue growing without bound.
 */
export class HashQueue {
  readonly #concurrency: number;
  readonly #limit: number;
  readonly #clock: Clock;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  /** Moving average of an operation's duration in ms (undefined until one finished). */
  #averageMs: number | undefined;

  constructor(options: HashQueueOptions) {
    this.#concurrency = options.concurrency;
    this.#limit = options.limit;
    this.#clock = options.clock;
  }

  /** Operations running now. */
  get running(): number {
    return this.#running;
  }

  /** Operations waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Whether an operation submitted now would be refused. */
  get full(): boolean {
    return this.#running >= this.#concurrency && this.#waiting.length >= this.#limit;
  }

  /** Throws the refusal when the queue is full; lets callers shed load before costly work. */
  admit(): void {
    if (this.full) throw this.#refusal();
  }

  /** Runs `operation` when a slot is free (in arrival order), or rejects at once when full. */
  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#running < this.#concurrency) {
      this.#running++;
    } else {
      if (this.#waiting.length >= this.#limit) throw this.#refusal();
      // The finishing operation hands its slot over directly (#running stays), so nothing that
      // arrives in between can overtake a waiting one.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    const start = this.#clock.now();
    try {
      return await operation();
    } finally {
      this.#record(this.#clock.now() - start);
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  #record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#averageMs = this.#averageMs === undefined ? ms : this.#averageMs * 0.9 + ms * 0.1;
  }

  /** 503 with a `Retry-After` of about the time the waiting operations take to drain. */
  #refusal(): AuthError {
    const drainMs = ((this.#waiting.length + 1) * (this.#averageMs ?? 0)) / this.#concurrency;
    const retryAfter = Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(drainMs / 1000)));
    return new AuthError(
      'SERVER_ERROR',
      'Too many password checks are waiting. Please try again in a few seconds.',
      { status: 503, retryAfter, details: { reason: 'hash_queue_full' } },
    );
  }
}

/**
 * Wraps any {@link PasswordHasher} so that its `hash` and `verify` run through `queue`.
 * `costOf` and `needsRehash` are cheap string checks and pass straight through. With telemetry
 * on, each operation's own duration (not its wait in the queue) is recorded as
 * `gatehouse.password.hash.duration {operation}`.
 */
export function queuedHasher(
  hasher: PasswordHasher,
  queue: HashQueue,
  telemetry: Telemetry = noopTelemetry,
): PasswordHasher {
  if (!telemetry.enabled) {
    return {
      hash: (password, cost) => queue.run(() => hasher.hash(password, cost)),
      verify: (password, stored) => queue.run(() => hasher.verify(password, stored)),
      costOf: (stored) => hasher.costOf(stored),
      needsRehash: (stored, cost) => hasher.needsRehash(stored, cost),
    };
  }
  async function timed<T>(operation: 'hash' | 'verify', run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      telemetry.passwordHashDuration((performance.now() - started) / 1000, operation);
    }
  }
  return {
    hash: (password, cost) => queue.run(() => timed('hash', () => hasher.hash(password, cost))),
    verify: (password, stored) =>
      queue.run(() => timed('verify', () => hasher.verify(password, stored))),
    costOf: (stored) => hasher.costOf(stored),
    needsRehash: (stored, cost) => hasher.needsRehash(stored, cost),
  };
}
