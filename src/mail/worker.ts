import { z } from 'zod';
import type { AuditEmitter } from '../audit/emitter.js';
import type { Clock, Logger } from '../runtime.js';
import type { MailOutboxStore, OutboxMessage } from '../stores/types.js';
import { noopTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import { parseOptions } from '../validation.js';
import type { Mailer } from './message.js';

/**
 * The timer functions the mail worker schedules with. Inject fake ones to test retries and
 * timeouts without sleeping; by default the global timers, `unref()`ed so the worker never keeps
 * a process alive.
 *
 * @example
 * ```ts
 * const timers: MailWorkerTimers = {
 *   setTimeout: (callback, ms) => setTimeout(callback, ms),
 *   clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
 * };
 * ```
 */
export interface MailWorkerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Options of {@link createMailWorker}; durations in milliseconds. `createAuth({ mail })` builds
 * them from its own options.
 *
 * @example
 * ```ts
 * const options: MailWorkerOptions = {
 *   store: outbox, mailer, clock: systemClock, logger, audit,
 *   retry: { maxAttempts: 8, initialDelayMs: 1_000, maxDelayMs: 60_000 },
 *   pollIntervalMs: 1_000, leaseMs: 60_000,
 * };
 * ```
 */
export interface MailWorkerOptions {
  store: MailOutboxStore;
  mailer: Mailer;
  clock: Clock;
  logger: Logger;
  /** Receives one MAIL_FAILED event per message given up. */
  audit: AuditEmitter;
  /**
   * Attempts per message (1..50) and the backoff between them: attempt n+1 waits
   * `min(maxDelayMs, initialDelayMs * 2 ** (n - 1))` after attempt n failed.
   * @default { maxAttempts: 8, initialDelayMs: 1000, maxDelayMs: 60000 }
   */
  retry?: { maxAttempts?: number; initialDelayMs?: number; maxDelayMs?: number };
  /**
   * How often the worker looks for due messages it was not told about: enqueued by another
   * instance, left by a crash, or retries.
   * @default 1000
   */
  pollIntervalMs?: number;
  /**
   * How long a claimed message stays reserved for this worker. A worker that dies mid-delivery
   * leaves the message to another claim when the lease ends (at-least-once).
   * @default 60000
   */
  leaseMs?: number;
  /** Messages claimed at once (1..100). @default 10 */
  batchSize?: number;
  /** A mailer call that takes longer counts as a failed attempt; below `leaseMs`. @default 30000 */
  deliveryTimeoutMs?: number;
  /** The longest `close()` waits for deliveries in flight. @default 10000 */
  closeTimeoutMs?: number;
  /** @default the global timers, unref()ed */
  timers?: MailWorkerTimers;
}

/**
 * The outcome of {@link MailWorker.flush}: mails sent, and failed attempts (retried later or
 * given up).
 *
 * @example
 * ```ts
 * const { delivered, failed }: MailFlushResult = await worker.flush();
 * ```
 */
export interface MailFlushResult {
  delivered: number;
  failed: number;
}

/**
 * Delivers the outbox's messages inside the process, off the request path: claim, call the
 * mailer, record the outcome; retries with exponential backoff, then gives up with a MAIL_FAILED
 * audit event and an error log. It never throws out of a timer: every failure is logged.
 *
 * @example
 * ```ts
 * const worker: MailWorker = createMailWorker({ store: outbox, mailer, clock, logger, audit });
 * worker.start();
 * await outbox.enqueue(message);
 * worker.notify();
 * // at shutdown
 * await worker.close();
 * ```
 */
export interface MailWorker {
  /** Starts polling (idempotent; nothing after `close()`). The first look is immediate. */
  start(): void;
  /** A message was just enqueued: look now, without waiting for the poll. No-op before `start()`. */
  notify(): void;
  /**
   * Delivers everything due now (retries that are due included, batch after batch) and resolves
   * when done, after any delivery already running. For tests and shutdown; works without
   * `start()`.
   */
  flush(): Promise<MailFlushResult>;
  /**
   * Stops polling and waits for the deliveries in flight (at most `closeTimeoutMs`; the ones still
   * running are retried by whoever claims them after their lease). Idempotent.
   */
  close(): Promise<void>;
}

const optionsSchema = z
  .object({
    store: z.custom<MailOutboxStore>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as MailOutboxStore).claim === 'function',
      'must be a MailOutboxStore',
    ),
    mailer: z.custom<Mailer>((value) => typeof value === 'function', 'must be a function'),
    clock: z.custom<Clock>(
      (value) => typeof (value as Clock | undefined)?.now === 'function',
      'must be a Clock',
    ),
    logger: z.custom<Logger>(
      (value) => typeof (value as Logger | undefined)?.error === 'function',
      'must be a Logger',
    ),
    audit: z.custom<AuditEmitter>(
      (value) => typeof (value as AuditEmitter | undefined)?.emit === 'function',
      'must be an AuditEmitter',
    ),
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(50).default(8),
        initialDelayMs: z.number().int().min(1).max(3_600_000).default(1_000),
        maxDelayMs: z.number().int().min(1).max(86_400_000).default(60_000),
      })
      .default({ maxAttempts: 8, initialDelayMs: 1_000, maxDelayMs: 60_000 })
      .refine((retry) => retry.maxDelayMs >= retry.initialDelayMs, {
        message: 'maxDelayMs must not be below initialDelayMs',
      }),
    pollIntervalMs: z.number().int().min(1).max(3_600_000).default(1_000),
    leaseMs: z.number().int().min(1).max(86_400_000).default(60_000),
    batchSize: z.number().int().min(1).max(100).default(10),
    deliveryTimeoutMs: z.number().int().min(1).max(3_600_000).default(30_000),
    closeTimeoutMs: z.number().int().min(0).max(300_000).default(10_000),
    timers: z
      .custom<MailWorkerTimers>(
        (value) =>
          typeof (value as MailWorkerTimers | undefined)?.setTimeout === 'function' &&
          typeof (value as MailWorkerTimers | undefined)?.clearTimeout === 'function',
        'must have setTimeout and clearTimeout',
      )
      .optional(),
  })
  .superRefine((options, ctx) => {
    if (options.deliveryTimeoutMs >= options.leaseMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['deliveryTimeoutMs'],
        message: 'must be below leaseMs (else another claim takes over a running delivery)',
      });
    }
  });

const globalTimers: MailWorkerTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Creates the in-process delivery worker of the mail outbox. Validates its options
 * (`AuthError('INVALID_CONFIG')` naming the option). `createAuth({ mail })` creates and starts
 * one and stops it in `auth.close()`; create your own only to run delivery in a separate process.
 *
 * @example
 * ```ts
 * import { createMailWorker, MemoryMailOutbox } from 'gatehouse';
 * const worker = createMailWorker({
 *   store: outbox, mailer, clock: { now: () => Date.now() }, logger: console, audit,
 *   retry: { maxAttempts: 8, initialDelayMs: 1_000, maxDelayMs: 60_000 },
 *   pollIntervalMs: 1_000, leaseMs: 60_000,
 * });
 * worker.start();
 * process.on('SIGTERM', () => void worker.close());
 * ```
 */
export function createMailWorker(options: MailWorkerOptions): MailWorker {
  return createInstrumentedMailWorker(options, noopTelemetry);
}

/**
 * {@link createMailWorker} counting each delivery attempt as `gatehouse.mail.deliveries
 * {outcome}` (internal: createAuth's worker).
 */
export function createInstrumentedMailWorker(
  options: MailWorkerOptions,
  telemetry: Telemetry,
): MailWorker {
  const parsed = parseOptions(optionsSchema, options, 'mail worker options');
  return new OutboxWorker({ ...parsed, timers: parsed.timers ?? globalTimers }, telemetry);
}

type ResolvedOptions = z.output<typeof optionsSchema> & { timers: MailWorkerTimers };

type Outcome = 'delivered' | 'failed';

class OutboxWorker implements MailWorker {
  readonly #o: ResolvedOptions;
  #started = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  #timer: unknown;
  #timerDue = Number.POSITIVE_INFINITY;
  /** Cycles run one after the other; this settles when the last one queued has. */
  #chain: Promise<unknown> = Promise.resolve();
  /** Retry times this worker scheduled, so it wakes for them sooner than the next poll. */
  readonly #retryTimes = new Set<number>();
  #claimFailing = false;
  readonly #telemetry: Telemetry;

  constructor(options: ResolvedOptions, telemetry: Telemetry) {
    this.#o = options;
    this.#telemetry = telemetry;
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#wake(this.#o.clock.now());
  }

  notify(): void {
    if (!this.#started || this.#closed) return;
    this.#wake(this.#o.clock.now());
  }

  flush(): Promise<MailFlushResult> {
    return this.#queueCycle(true);
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#clearTimer();
    const running = this.#chain;
    this.#closing = this.#waitBounded(running);
    return this.#closing;
  }

  async #waitBounded(running: Promise<unknown>): Promise<void> {
    const { timers, closeTimeoutMs, logger } = this.#o;
    let handle: unknown;
    const timedOut = new Promise<false>((resolve) => {
      handle = timers.setTimeout(() => resolve(false), closeTimeoutMs);
      unref(handle);
    });
    const finished = await Promise.race([running.then(() => true), timedOut]);
    timers.clearTimeout(handle);
    if (!finished) {
      try {
        logger.warn(
          'mail worker closed with deliveries in flight: they are retried after their lease',
          { closeTimeoutMs },
        );
      } catch {
        // close() resolves even with a broken logger: shutdown must not fail on a log line.
      }
    }
  }

  /** Sets the timer to fire at `at` (ms since epoch) unless it already fires sooner. */
  #wake(at: number): void {
    if (!this.#started || this.#closed) return;
    if (this.#timer !== undefined && this.#timerDue <= at) return;
    this.#clearTimer();
    const delay = Math.max(0, at - this.#o.clock.now());
    this.#timerDue = at;
    this.#timer = this.#o.timers.setTimeout(() => this.#tick(), delay);
    unref(this.#timer);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    this.#queueCycle(false)
      .catch((err: unknown) => {
        this.#o.logger.error('mail worker cycle failed', { error: errorText(err) });
      })
      .finally(() => this.#scheduleNext())
      // Only a logger that throws gets here: nothing is left to report it to.
      .catch(() => undefined);
  }

  #scheduleNext(): void {
    try {
      const now = this.#o.clock.now();
      let at = now + this.#o.pollIntervalMs;
      for (const retryAt of this.#retryTimes) at = Math.min(at, retryAt);
      this.#wake(at);
    } catch (err) {
      this.#o.logger.error('mail worker could not schedule its next poll', {
        error: errorText(err),
      });
    }
  }

  #queueCycle(drain: boolean): Promise<MailFlushResult> {
    const run = this.#chain.then(() => this.#cycle(drain));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #cycle(drain: boolean): Promise<MailFlushResult> {
    const { store, clock, batchSize, leaseMs, logger } = this.#o;
    const result: MailFlushResult = { delivered: 0, failed: 0 };
    for (;;) {
      if (this.#closed && !drain) break;
      const now = clock.now();
      for (const retryAt of this.#retryTimes) if (retryAt <= now) this.#retryTimes.delete(retryAt);
      let batch: OutboxMessage[];
      try {
        batch = await store.claim(now, batchSize, leaseMs);
      } catch (err) {
        // One error line per outage, not one per poll.
        if (!this.#claimFailing) {
          logger.error('mail outbox unavailable: delivery paused', { error: errorText(err) });
        }
        this.#claimFailing = true;
        break;
      }
      if (this.#claimFailing) {
        this.#claimFailing = false;
        logger.info('mail outbox available again: delivery resumed');
      }
      if (batch.length === 0) break;
      const outcomes = await Promise.all(batch.map((message) => this.#deliver(message)));
      for (const outcome of outcomes) result[outcome] += 1;
      if (batch.length < batchSize) break;
    }
    return result;
  }

  async #deliver(message: OutboxMessage): Promise<Outcome> {
    const { store, clock, logger } = this.#o;
    try {
      await this.#send(message);
    } catch (err) {
      const givenUp = await this.#failed(message, err);
      this.#telemetry.mailDelivery(givenUp ? 'failed' : 'retry');
      return 'failed';
    }
    this.#telemetry.mailDelivery('sent');
    try {
      await store.markDelivered(message.id, clock.now());
    } catch (err) {
      logger.error('mail sent, but the outbox could not record it: it may be sent again', {
        messageId: message.id,
        kind: message.kind,
        error: errorText(err),
      });
    }
    return 'delivered';
  }

  async #send(message: OutboxMessage): Promise<void> {
    const { mailer, timers, deliveryTimeoutMs } = this.#o;
    let handle: unknown;
    const timeout = new Promise<never>((_, reject) => {
      handle = timers.setTimeout(
        () => reject(new Error(`mailer did not answer within ${deliveryTimeoutMs} ms`)),
        deliveryTimeoutMs,
      );
      unref(handle);
    });
    const sending = Promise.resolve().then(() =>
      mailer({
        kind: message.kind,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      }),
    );
    try {
      await Promise.race([sending, timeout]);
    } finally {
      timers.clearTimeout(handle);
    }
  }

  /** Records a failed attempt; true when the message was given up (no retry). */
  async #failed(message: OutboxMessage, err: unknown): Promise<boolean> {
    const { store, clock, logger, audit, retry } = this.#o;
    const error = causeOf(err, message);
    const now = clock.now();
    const attempts = message.attempts;
    if (attempts >= retry.maxAttempts) {
      try {
        await store.markFailed(message.id, { retryAt: null, error, now });
      } catch (storeErr) {
        logger.error('mail outbox could not record a failed delivery', {
          messageId: message.id,
          error: errorText(storeErr),
        });
      }
      audit.emit({
        event: 'MAIL_FAILED',
        status: 'failure',
        email: message.to,
        metadata: { kind: message.kind, attempts, error, messageId: message.id },
      });
      logger.error('mail delivery failed for good', {
        messageId: message.id,
        kind: message.kind,
        attempts,
        emailHash: audit.hashEmail(message.to),
        error,
      });
      return true;
    }
    const delayMs = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempts - 1));
    const retryAt = now + delayMs;
    this.#retryTimes.add(retryAt);
    try {
      await store.markFailed(message.id, { retryAt, error, now });
    } catch (storeErr) {
      logger.error('mail outbox could not record a failed delivery', {
        messageId: message.id,
        error: errorText(storeErr),
      });
    }
    logger.warn('mail delivery failed, will retry', {
      messageId: message.id,
      kind: message.kind,
      attempt: attempts,
      maxAttempts: retry.maxAttempts,
      retryInMs: delayMs,
      error,
    });
    return false;
  }
}

function unref(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null && 'unref' in handle) {
    const { unref } = handle as { unref?: unknown };
    if (typeof unref === 'function') unref.call(handle);
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code)
      ? `${code}: ${err.message}`
      : err.message;
  }
  return String(err);
}

const MAX_CAUSE_LENGTH = 300;

/**
 * The mailer's failure as a short line for logs, audit and the outbox: never the recipient or a
 * token, even when the mailer's error message quotes the mail (a transport echoing the link).
 */
function causeOf(err: unknown, message: OutboxMessage): string {
  let text = errorText(err);
  for (const [secret, mark] of [
    [message.to, '<recipient>'],
    [message.subject, '<subject>'],
  ] as const) {
    if (secret.length >= 3) text = text.replace(new RegExp(escapeRegExp(secret), 'gi'), mark);
  }
  text = text.replace(/[A-Za-z0-9_-]{32,}/g, '[redacted]').replace(/[\r\n]+/g, ' ');
  return text.length > MAX_CAUSE_LENGTH ? `${text.slice(0, MAX_CAUSE_LENGTH)}…` : text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
