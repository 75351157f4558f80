import { createHash } from 'node:crypto';
import { AuthError } from '../../src/errors.js';
import { RevocationHub } from '../../src/stores/revocation-hub.js';
import type {
  RevocationEvent,
  RevocationListener,
  RevocationWatch,
} from '../../src/stores/types.js';
import type { Queryable } from './queryable.js';
import type { TableNames } from './tables.js';

/**
 * A connection that can LISTEN: `pg.Client` or a `pg.PoolClient` (anything with `query` and the
 * `notification`, `error` and `end` events). gatehouse releases it with `release(true)` when it
 * has one (a pool's client, destroyed rather than pooled) or else `end()`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const connect = async (): Promise<NotificationConnection> => {
 *   const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
 *   await client.connect();
 *   return client;
 * };
 * const tokens = new PostgresTokenStore(pool, { revocations: { listen: connect } });
 * ```
 */
export interface NotificationConnection extends Queryable {
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloaded EventEmitter signatures
  on(event: 'notification' | 'error' | 'end', listener: (...args: any[]) => void): unknown;
  release?(destroy?: boolean | Error): void;
  end?(): Promise<void>;
}

/**
 * Where a Postgres token store hears revocations (see {@link PostgresRevocationOptions}):
 * - a `pg.Pool`: one connection is checked out of it and kept for LISTEN;
 * - PGlite: its in-process `listen` (one process, so delivery is in process);
 * - a function returning a new connected {@link NotificationConnection}, called at start and
 *   at every reconnection.
 *
 * @example
 * ```ts
 * const source: RevocationListenSource = pool; // or: lite, or: async () => connectedClient
 * ```
 */
export type RevocationListenSource = Queryable | (() => Promise<NotificationConnection>);

/**
 * How a Postgres token store announces and hears revocations across instances.
 *
 * @example
 * ```ts
 * const options: PostgresRevocationOptions = {
 *   listen: pool,                                    // the default: the store's own pool
 *   reconnect: { initialDelayMs: 100, maxDelayMs: 5_000 },
 * };
 * const db = createPostgresStores(pool, { revocations: options });
 * ```
 */
export interface PostgresRevocationOptions {
  /**
   * Where to LISTEN. Unset: the store's client when it is a `pg.Pool` (one connection is held
   * for the life of the watch, so size the pool one larger) or PGlite. With any other client
   * (a single `pg.Client`, a wrapper) the store has no revocation watch, and every verify
   * reads the store unless `tokens.revocationCacheTtl` is set. `false`: no watch.
   */
  listen?: RevocationListenSource | false;
  /**
   * Delays between reconnection attempts of a dropped LISTEN connection: the first waits
   * `initialDelayMs`, each next one twice as long, capped at `maxDelayMs`. While it is down,
   * every verify reads the store.
   * @default { initialDelayMs: 100, maxDelayMs: 5000 }
   */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
}

/**
 * The NOTIFY channel of one installation: `gatehouse_revocations`, suffixed with a hash of the
 * schema and table prefix when set (so installations sharing a database do not hear each other).
 * Lower case, so it is the same quoted or not.
 */
export function revocationChannel(tables: Pick<TableNames, 'schema' | 'prefix'>): string {
  if (tables.schema === undefined && tables.prefix === '') return 'gatehouse_revocations';
  const id = createHash('sha256')
    .update(`${tables.schema ?? ''}\u0000${tables.prefix}`)
    .digest('hex')
    .slice(0, 16);
  return `gatehouse_revocations_${id}`;
}

/** SQL text of the NOTIFY payload for one session (`s:<id>`). */
export const sessionPayload = (idSql: string) => `'s:' || (${idSql})::text`;
/** SQL text of the NOTIFY payload for every session of a user (`u:<id>`). */
export const userPayload = (idSql: string) => `'u:' || (${idSql})::text`;

function parsePayload(payload: string | undefined): RevocationEvent | null {
  if (typeof payload !== 'string' || payload.length < 3) return null;
  const id = payload.slice(2);
  if (payload.startsWith('s:')) return { kind: 'session', sessionId: id };
  if (payload.startsWith('u:')) return { kind: 'user', userId: id };
  return null;
}

interface PoolLike extends Queryable {
  connect(): Promise<NotificationConnection>;
  totalCount: number;
  ending?: boolean;
}

interface PgliteLike extends Queryable {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

function isPool(client: Queryable): client is PoolLike {
  const candidate = client as Partial<PoolLike> & { release?: unknown };
  return (
    typeof candidate.connect === 'function' &&
    typeof candidate.totalCount === 'number' &&
    typeof candidate.release !== 'function'
  );
}

function isPglite(client: Queryable): client is PgliteLike {
  return (
    typeof (client as Partial<PgliteLike>).listen === 'function' &&
    typeof (client as { connect?: unknown }).connect !== 'function'
  );
}

/** Whether `source` (or the store's client, when unset) can carry a revocation watch. */
export function canListen(source: RevocationListenSource | false | undefined): boolean {
  if (source === false || source === undefined) return false;
  return typeof source === 'function' || isPool(source) || isPglite(source);
}

function positiveDelay(value: number | undefined, fallback: number, option: string): number {
  const delay = value ?? fallback;
  if (!Number.isFinite(delay) || delay < 0) {
    throw new AuthError(
      'INVALID_CONFIG',
      `gatehouse/postgres option "revocations.reconnect.${option}" must be a number of milliseconds >= 0.`,
      { details: { option: `revocations.reconnect.${option}` } },
    );
  }
  return delay;
}

/**
 * One LISTEN subscription per store, shared by every watch opened on it: connects when the
 * first watch opens, reconnects with capped exponential backoff, and closes with the last watch.
 * Not live while disconnected; on every (re)connection announces `{ kind: 'all' }` (events may
 * have been missed) before turning live.
 */
export class RevocationChannel {
  readonly #source: RevocationListenSource;
  readonly #channel: string;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #hub = new RevocationHub({ start: () => this.#start(), stop: () => this.#stop() });
  #connection: NotificationConnection | null = null;
  #unlisten: (() => Promise<void>) | null = null;
  #connecting = false;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #poolTimer: ReturnType<typeof setInterval> | null = null;
  #attempt = 0;
  /** Bumped when the last watch closes: a connection that completes afterwards is dropped. */
  #generation = 0;

  constructor(
    source: RevocationListenSource,
    channel: string,
    reconnect: PostgresRevocationOptions['reconnect'] = {},
  ) {
    this.#source = source;
    this.#channel = channel;
    this.#initialDelayMs = positiveDelay(reconnect.initialDelayMs, 100, 'initialDelayMs');
    this.#maxDelayMs = Math.max(
      this.#initialDelayMs,
      positiveDelay(reconnect.maxDelayMs, 5_000, 'maxDelayMs'),
    );
  }

  /** The channel name this installation notifies and listens on. */
  get channel(): string {
    return this.#channel;
  }

  watch(listener: RevocationListener): RevocationWatch {
    return this.#hub.watch(listener);
  }

  #start(): void {
    this.#attempt = 0;
    const pool = typeof this.#source === 'function' ? null : this.#source;
    if (pool !== null && isPool(pool)) {
      // A pool being ended waits for every checked-out connection: give ours back, so that an
      // app (or a test) that ends its pool without closing auth still shuts down.
      this.#poolTimer = setInterval(() => {
        if (pool.ending === true) void this.#stop(true);
      }, 200);
      this.#poolTimer.unref?.();
    }
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#connecting || this.#hub.size === 0) return;
    this.#connecting = true;
    const generation = this.#generation;
    let connection: NotificationConnection | null = null;
    try {
      const source = this.#source;
      if (typeof source !== 'function' && isPglite(source)) {
        const unlisten = await source.listen(this.#channel, (payload) => this.#deliver(payload));
        if (generation !== this.#generation) {
          await unlisten().catch(() => {});
          return;
        }
        this.#unlisten = unlisten;
      } else {
        connection =
          typeof source === 'function' ? await source() : await (source as PoolLike).connect();
        const current = connection;
        current.on('notification', (message: { channel?: string; payload?: string }) => {
          if (message.channel === this.#channel) this.#deliver(message.payload);
        });
        current.on('error', () => this.#lost(current));
        current.on('end', () => this.#lost(current));
        await current.query(`LISTEN ${this.#channel}`);
        if (generation !== this.#generation) {
          release(current, true);
          return;
        }
        this.#connection = current;
      }
      this.#attempt = 0;
      // Whatever was revoked while nobody listened is unknown: every cached state goes first.
      this.#hub.up();
    } catch {
      if (connection !== null) release(connection, true);
      if (generation === this.#generation) {
        this.#down();
        this.#scheduleRetry();
      }
    } finally {
      this.#connecting = false;
      // Closed and reopened while this attempt ran: the reopening's attempt was skipped.
      const reopened = generation !== this.#generation && this.#hub.size > 0;
      if (reopened && this.#connection === null && this.#unlisten === null) void this.#connect();
    }
  }

  #lost(connection: NotificationConnection): void {
    if (this.#connection !== connection) return;
    this.#connection = null;
    release(connection, true);
    this.#down();
    this.#scheduleRetry();
  }

  #down(): void {
    this.#hub.down();
  }

  #scheduleRetry(): void {
    if (this.#hub.size === 0 || this.#retryTimer !== null) return;
    const delay = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#connect();
    }, delay);
    this.#retryTimer.unref?.();
  }

  async #stop(poolEnding = false): Promise<void> {
    this.#generation++;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    if (this.#poolTimer !== null) clearInterval(this.#poolTimer);
    this.#retryTimer = null;
    this.#poolTimer = null;
    const wasLive = this.#hub.quiet();
    const connection = this.#connection;
    const unlisten = this.#unlisten;
    this.#connection = null;
    this.#unlisten = null;
    if (poolEnding) this.#hub.drop(wasLive);
    if (connection !== null) release(connection, true);
    if (unlisten !== null) await unlisten().catch(() => {});
  }

  #deliver(payload: string | undefined): void {
    const event = parsePayload(payload);
    if (event !== null) this.#hub.emit(event);
  }

  /** True while the LISTEN is in place. */
  get live(): boolean {
    return this.#hub.live;
  }
}

function release(connection: NotificationConnection, destroy: boolean): void {
  try {
    if (typeof connection.release === 'function') connection.release(destroy);
    else void connection.end?.().catch(() => {});
  } catch {
    // Already released or ended.
  }
}
