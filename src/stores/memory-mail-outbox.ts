import { AuthError } from '../errors.js';
import type { Logger } from '../runtime.js';
import type { MailOutboxStore, OutboxMessage } from './types.js';

/**
 * Options of {@link MemoryMailOutbox}.
 *
 * @example
 * ```ts
 * const options: MemoryMailOutboxOptions = { maxPending: 1_000, logger: console };
 * const outbox = new MemoryMailOutbox(options);
 * ```
 */
export interface MemoryMailOutboxOptions {
  /**
   * Messages waiting for delivery. An `enqueue` past this rejects with
   * `AuthError('SERVER_ERROR')` (status 503) and logs an error: mail that cannot be delivered is
   * refused loudly rather than piling up in memory.
   * @default 10000
   */
  maxPending?: number;
  /**
   * Delivered and given-up messages (content already erased) kept until `prune`. Past this, the
   * oldest are forgotten.
   * @default 10000
   */
  maxFinished?: number;
  /** Receives the error line of a full outbox. */
  logger?: Logger;
}

/**
 * What {@link MemoryMailOutbox.inspect} returns: a stored message with its delivery state; times
 * in ms since the epoch.
 *
 * @example
 * ```ts
 * const state: MemoryOutboxEntry | null = outbox.inspect(id);
 * if (state?.deliveredAt !== null) console.log('delivered, content erased:', state?.text === '');
 * ```
 */
export interface MemoryOutboxEntry extends OutboxMessage {
  leaseUntil: number | null;
  deliveredAt: number | null;
  failedAt: number | null;
  lastError: string | null;
}

/**
 * Synchronous enqueue for {@link MemoryOneTimeTokenStore.issue} (token and mail in one step). Unlike
 * `enqueue`, an existing id is an error: a token must never exist without its own mail.
 */
export let enqueueNow: (outbox: MemoryMailOutbox, message: OutboxMessage) => void;

/**
 * The reference {@link MailOutboxStore}: in process memory, bounded, for tests, development and
 * single-instance apps. Each operation runs synchronously inside its promise, so it is atomic:
 * two concurrent claims never return the same message while its lease runs. Messages do not
 * survive a restart (use the Postgres outbox for that).
 *
 * @example
 * ```ts
 * import { createAuth, MemoryMailOutbox, MemoryOneTimeTokenStore } from 'gatehouse';
 * const outbox = new MemoryMailOutbox({ maxPending: 1_000 });
 * const oneTimeTokens = new MemoryOneTimeTokenStore({ outbox });
 * const auth = createAuth({ stores: { outbox, oneTimeTokens } });
 * ```
 */
export class MemoryMailOutbox implements MailOutboxStore {
  /** Id -> message, in enqueue order. */
  readonly #messages = new Map<string, MemoryOutboxEntry>();
  readonly #maxPending: number;
  readonly #maxFinished: number;
  readonly #logger: Logger | undefined;
  #pending = 0;
  #finished = 0;

  static {
    enqueueNow = (outbox, message) => {
      if (outbox.#messages.has(message.id)) {
        throw new AuthError('SERVER_ERROR', 'A mail with this id is already in the outbox.');
      }
      outbox.#add(message);
    };
  }

  constructor(options: MemoryMailOutboxOptions = {}) {
    const maxPending = options.maxPending ?? 10_000;
    const maxFinished = options.maxFinished ?? 10_000;
    for (const [name, value] of [
      ['maxPending', maxPending],
      ['maxFinished', maxFinished],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new TypeError(`MemoryMailOutbox: ${name} must be a positive integer`);
      }
    }
    this.#maxPending = maxPending;
    this.#maxFinished = maxFinished;
    this.#logger = options.logger;
  }

  #add(message: OutboxMessage): void {
    if (this.#messages.has(message.id)) return;
    if (this.#pending >= this.#maxPending) {
      this.#logger?.error('mail outbox full: message refused', {
        kind: message.kind,
        maxPending: this.#maxPending,
      });
      throw new AuthError('SERVER_ERROR', 'The mail outbox is full.', { status: 503 });
    }
    this.#messages.set(message.id, {
      ...message,
      leaseUntil: null,
      deliveredAt: null,
      failedAt: null,
      lastError: null,
    });
    this.#pending += 1;
  }

  async enqueue(message: OutboxMessage): Promise<void> {
    this.#add(message);
  }

  async claim(now: number, limit: number, leaseMs: number): Promise<OutboxMessage[]> {
    const due: MemoryOutboxEntry[] = [];
    for (const entry of this.#messages.values()) {
      if (entry.deliveredAt !== null || entry.failedAt !== null) continue;
      if (entry.leaseUntil !== null && entry.leaseUntil > now) continue;
      if (entry.nextAttemptAt > now) continue;
      if (entry.expiresAt !== null && entry.expiresAt <= now) {
        this.#finish(entry, 'failedAt', now, 'expired before delivery');
        continue;
      }
      due.push(entry);
    }
    due.sort((a, b) => a.createdAt - b.createdAt); // stable: enqueue order breaks ties
    const claimed: OutboxMessage[] = [];
    for (const entry of due.slice(0, Math.max(0, limit))) {
      entry.attempts += 1;
      entry.leaseUntil = now + leaseMs;
      claimed.push(messageOf(entry));
    }
    return claimed;
  }

  async markDelivered(id: string, now: number): Promise<void> {
    const entry = this.#messages.get(id);
    if (!entry || entry.deliveredAt !== null || entry.failedAt !== null) return;
    this.#finish(entry, 'deliveredAt', now, null);
  }

  async markFailed(
    id: string,
    failure: { retryAt: number | null; error: string; now: number },
  ): Promise<void> {
    const entry = this.#messages.get(id);
    if (!entry || entry.deliveredAt !== null || entry.failedAt !== null) return;
    if (failure.retryAt === null) {
      this.#finish(entry, 'failedAt', failure.now, failure.error);
      return;
    }
    entry.nextAttemptAt = failure.retryAt;
    entry.leaseUntil = null;
    entry.lastError = failure.error;
  }

  async pending(): Promise<number> {
    return this.#pending;
  }

  async prune(olderThan: number): Promise<number> {
    let deleted = 0;
    for (const [id, entry] of this.#messages) {
      const endedAt = entry.deliveredAt ?? entry.failedAt;
      if (endedAt !== null && endedAt < olderThan) {
        this.#messages.delete(id);
        this.#finished -= 1;
        deleted += 1;
      }
    }
    return deleted;
  }

  async deleteForRecipient(email: string): Promise<number> {
    const address = recipientKey(email);
    let deleted = 0;
    for (const [id, entry] of this.#messages) {
      if (recipientKey(entry.to) !== address) continue;
      this.#messages.delete(id);
      if (entry.deliveredAt !== null || entry.failedAt !== null) this.#finished -= 1;
      else this.#pending -= 1;
      deleted += 1;
    }
    return deleted;
  }

  /**
   * A snapshot of one message with its delivery state (changing it changes nothing stored), or
   * null. For tests: it shows that delivered and given-up messages keep no content.
   */
  inspect(id: string): MemoryOutboxEntry | null {
    const entry = this.#messages.get(id);
    return entry ? { ...entry } : null;
  }

  #finish(
    entry: MemoryOutboxEntry,
    field: 'deliveredAt' | 'failedAt',
    now: number,
    error: string | null,
  ): void {
    entry[field] = now;
    entry.leaseUntil = null;
    entry.subject = '';
    entry.text = '';
    entry.html = '';
    if (error !== null) entry.lastError = error;
    this.#pending -= 1;
    this.#finished += 1;
    if (this.#finished > this.#maxFinished) this.#dropOldestFinished();
  }

  #dropOldestFinished(): void {
    for (const [id, entry] of this.#messages) {
      if (entry.deliveredAt !== null || entry.failedAt !== null) {
        this.#messages.delete(id);
        this.#finished -= 1;
        return;
      }
    }
  }
}

/** An address as `deleteForRecipient` compares it. */
function recipientKey(address: string): string {
  return address.trim().toLowerCase();
}

function messageOf(entry: MemoryOutboxEntry): OutboxMessage {
  return {
    id: entry.id,
    kind: entry.kind,
    to: entry.to,
    subject: entry.subject,
    text: entry.text,
    html: entry.html,
    attempts: entry.attempts,
    nextAttemptAt: entry.nextAttemptAt,
    createdAt: entry.createdAt,
    expiresAt: entry.expiresAt,
  };
}
