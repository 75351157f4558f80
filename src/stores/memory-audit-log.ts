import type { AuditEvent } from '../audit/events.js';
import type { AuditLogStore } from './types.js';

/**
 * Options of {@link MemoryAuditLog}.
 *
 * @example
 * ```ts
 * const options: MemoryAuditLogOptions = { maxEvents: 50_000 };
 * createAuth({ stores: { auditLog: new MemoryAuditLog(options) } });
 * ```
 */
export interface MemoryAuditLogOptions {
  /**
   * Events kept. Past this, the oldest written is forgotten (a memory log is for tests,
   * development and single-instance apps: it does not survive a restart).
   * @default 10000
   */
  maxEvents?: number;
}

/**
 * The reference {@link AuditLogStore}: in process memory, bounded (the oldest events are
 * forgotten first). Each operation runs synchronously inside its promise, so it is atomic:
 * `pseudonymiseUser` changes every event of the user in one step.
 *
 * @example
 * ```ts
 * import { createAuth, MemoryAuditLog } from 'gatehouse';
 * const auditLog = new MemoryAuditLog({ maxEvents: 10_000 });
 * const auth = createAuth({ stores: { auditLog } });
 * const mine = await auditLog.listForUser(userId, { limit: 50 });
 * ```
 */
export class MemoryAuditLog implements AuditLogStore {
  /** In write order (the first is the oldest). */
  #events: AuditEvent[] = [];
  readonly #maxEvents: number;

  constructor(options: MemoryAuditLogOptions = {}) {
    const maxEvents = options.maxEvents ?? 10_000;
    if (!Number.isInteger(maxEvents) || maxEvents < 1) {
      throw new TypeError('MemoryAuditLog: maxEvents must be a positive integer');
    }
    this.#maxEvents = maxEvents;
  }

  async write(event: AuditEvent): Promise<void> {
    this.#events.push(copy(event));
    // Dropped in batches, so that a full log does not shift its whole array at every write.
    if (this.#events.length > this.#maxEvents + Math.ceil(this.#maxEvents / 10)) {
      this.#events = this.#events.slice(this.#events.length - this.#maxEvents);
    }
  }

  async listForUser(userId: string, options: { limit: number }): Promise<AuditEvent[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    const start = Math.max(0, this.#events.length - this.#maxEvents);
    const found: { event: AuditEvent; order: number }[] = [];
    for (let i = start; i < this.#events.length; i++) {
      const event = this.#events[i]!;
      if (event.userId === userId) found.push({ event, order: i });
    }
    found.sort(
      (a, b) => Date.parse(b.event.timestamp) - Date.parse(a.event.timestamp) || b.order - a.order,
    );
    return found.slice(0, limit).map(({ event }) => copy(event));
  }

  async pseudonymiseUser(
    userId: string,
    pseudonym: string,
    options: { emailHash?: string } = {},
  ): Promise<number> {
    let changed = 0;
    for (const event of this.#events) {
      if (event.userId === userId) {
        event.userId = pseudonym;
        delete event.metadata['emailHash'];
        changed += 1;
      } else if (
        event.userId === undefined &&
        options.emailHash !== undefined &&
        event.metadata['emailHash'] === options.emailHash
      ) {
        delete event.metadata['emailHash'];
        changed += 1;
      }
    }
    return changed;
  }

  /**
   * Every event held, oldest written first (copies: changing one changes nothing stored). For
   * tests and development: e.g. to check that an erased user's id is gone from the whole log.
   *
   * @example
   * ```ts
   * const log = new MemoryAuditLog();
   * const auth = createAuth({ stores: { auditLog: log } });
   * await auth.eraseUser(userId);
   * console.assert(!JSON.stringify(log.events()).includes(userId));
   * ```
   */
  events(): AuditEvent[] {
    return this.#events.slice(Math.max(0, this.#events.length - this.#maxEvents)).map(copy);
  }

  async prune(olderThan: number): Promise<number> {
    const before = this.#events.length;
    this.#events = this.#events.filter((event) => !(Date.parse(event.timestamp) < olderThan));
    return before - this.#events.length;
  }
}

function copy(event: AuditEvent): AuditEvent {
  let metadata: Record<string, unknown>;
  try {
    metadata = structuredClone(event.metadata ?? {});
  } catch {
    // A value that cannot be cloned (a function): a shallow copy keeps the event.
    metadata = { ...event.metadata };
  }
  return { ...event, metadata };
}
