import { createHmac } from 'node:crypto';
import type { Clock, Logger } from '../runtime.js';
import type { AuditLogStore } from '../stores/types.js';
import type { AuditEvent, AuditEventName, AuditSink } from './events.js';

/**
 * What a caller knows about the request behind an operation; it goes into audit events and
 * nowhere else.
 *
 * @example
 * ```ts
 * const context: RequestContext = { ip: req.ip, userAgent: req.headers['user-agent'] };
 * await auth.login({ email, password }, context);
 * ```
 */
export interface RequestContext {
  /** Client IP address, as resolved by the adapter. */
  ip?: string | undefined;
  userAgent?: string | undefined;
  /**
   * The request's id (the adapters' `X-Request-Id`, taken when valid or made): it goes into the
   * event's `requestId`, so an event can be matched with the log lines and the response of its
   * request.
   */
  requestId?: string | undefined;
}

/** The fields of an event that the caller supplies; the emitter adds the timestamp. */
export interface AuditInput {
  event: AuditEventName;
  status: 'success' | 'failure';
  userId?: string | undefined;
  context?: RequestContext | undefined;
  /** An email to record as a keyed hash (`metadata.emailHash`); never stored in clear. */
  email?: string | undefined;
  metadata?: Record<string, unknown>;
}

/** Builds audit events and hands them to the sink without ever letting the sink break a request. */
export class AuditEmitter {
  readonly #sink: AuditSink | undefined;
  readonly #log: AuditLogStore | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #emailKey: Uint8Array;
  /** Writes to the audit log store not settled yet (erasure waits for them). */
  readonly #writing = new Set<Promise<void>>();

  constructor(options: {
    sink: AuditSink | undefined;
    /** `stores.auditLog`: every event is also written there. */
    log?: AuditLogStore | undefined;
    /**
     * The store object the app gave as `stores.auditLog`, when `log` is a wrapper of it (telemetry
     * on): whether `sink` is that store's own sink is read from it. Default: `log`.
     */
    logAsGiven?: AuditLogStore | undefined;
    clock: Clock;
    logger: Logger;
    emailKey: Uint8Array;
  }) {
    // The same log given both ways (`audit: log.sink` and `stores.auditLog: log`, as
    // PostgresAuditLog allows) is written once.
    const logSink = ((options.logAsGiven ?? options.log) as { sink?: unknown } | undefined)?.sink;
    this.#sink = logSink !== undefined && logSink === options.sink ? undefined : options.sink;
    this.#log = options.log;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#emailKey = options.emailKey;
  }

  /**
   * Resolves once every event emitted so far has been written to the audit log store (or failed
   * to be): erasure waits for it, so that no event of the user lands after its pseudonymisation.
   */
  async settled(): Promise<void> {
    while (this.#writing.size > 0) await Promise.allSettled([...this.#writing]);
  }

  /** A keyed hash (HMAC-SHA256, hex, first 32 chars) of an email, stable for one key. */
  hashEmail(email: string): string {
    return createHmac('sha256', this.#emailKey).update(email).digest('hex').slice(0, 32);
  }

  emit(input: AuditInput): void {
    if (!this.#sink && !this.#log) return;
    const metadata: Record<string, unknown> = { ...input.metadata };
    if (input.email !== undefined) metadata['emailHash'] = this.hashEmail(input.email);
    const event: AuditEvent = {
      timestamp: new Date(this.#clock.now()).toISOString(),
      event: input.event,
      status: input.status,
      metadata,
    };
    if (input.userId !== undefined) event.userId = input.userId;
    if (input.context?.ip !== undefined) event.ip = input.context.ip;
    if (input.context?.userAgent !== undefined) event.userAgent = input.context.userAgent;
    if (input.context?.requestId !== undefined) event.requestId = input.context.requestId;
    if (this.#log) this.#write(this.#log, event);
    if (!this.#sink) return;
    try {
      const result = this.#sink(event);
      if (result && typeof (result as Promise<void>).catch === 'function') {
        (result as Promise<void>).catch((err: unknown) => this.#sinkFailed(err, event));
      }
    } catch (err) {
      this.#sinkFailed(err, event);
    }
  }

  #write(log: AuditLogStore, event: AuditEvent): void {
    let written: Promise<void>;
    try {
      // A copy: the sink below gets the same event and may change it.
      written = Promise.resolve(log.write({ ...event, metadata: { ...event.metadata } })).catch(
        (err: unknown) => this.#sinkFailed(err, event, 'audit log store failed'),
      );
    } catch (err) {
      this.#sinkFailed(err, event, 'audit log store failed');
      return;
    }
    this.#writing.add(written);
    void written.finally(() => this.#writing.delete(written));
  }

  #sinkFailed(err: unknown, event: AuditEvent, message = 'audit sink failed'): void {
    this.#logger.error(message, {
      event: event.event,
      ...(event.requestId === undefined ? {} : { requestId: event.requestId }),
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
