import { z } from 'zod';
import { AuthError } from '../../src/errors.js';
import { describeCause, OutageLog, resolveOutageLogOptions } from '../../src/http/outage-log.js';
import { type Logger, stderrLogger } from '../../src/runtime.js';
import { RevocationHub } from '../../src/stores/revocation-hub.js';
import type {
  RevocationEvent,
  RevocationListener,
  RevocationWatch,
  RotationResult,
  RotationRule,
  SessionRecord,
  TokenStore,
} from '../../src/stores/types.js';
import { commandsOf, type RedisClient, type RedisCommands } from './client.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_PREFIX } from './options.js';
import { RedisTimeoutError } from './redis-error.js';
import {
  attachSubscriber,
  type RedisSubscriber,
  type SubscriberFactory,
  type SubscriberHandle,
  subscriberFactory,
} from './subscriber.js';

/**
 * Options of {@link withRedisRevocations}.
 *
 * @example
 * ```ts
 * const options: RedisRevocationOptions = { prefix: 'shop:', heartbeatMs: 1_000, logger };
 * const tokens = withRedisRevocations(db.stores.tokens, client, options);
 * ```
 */
export interface RedisRevocationOptions {
  /**
   * The connection to SUBSCRIBE on, used for nothing else (see {@link RedisSubscriber}); never
   * closed by gatehouse. Unset: a duplicate of `client` (`client.duplicate()`, connected by
   * gatehouse), opened when the first watch opens (at the first verify) and closed with the
   * last one (`auth.close()`). Required when `client` is a cluster client.
   */
  subscriber?: RedisSubscriber;
  /**
   * The channel is `<prefix>revocations`. Give every instance of one app the same prefix, and
   * apps sharing a Redis different ones. At most 100 characters.
   * @default 'gatehouse:'
   */
  prefix?: string;
  /**
   * How long a PUBLISH, a SUBSCRIBE or a heartbeat PING may wait for Redis, in milliseconds.
   * A whole number from 10 to 60 000.
   * @default 1000
   */
  commandTimeoutMs?: number;
  /**
   * Every this many milliseconds the subscriber connection is PINGed; one that does not answer
   * within `commandTimeoutMs` (a frozen server, a network partition: the socket stays open but
   * nothing arrives) counts as down until it answers again. Failed publishes are retried at the
   * same pace. A whole number from 100 to 60 000.
   * @default 1000
   */
  heartbeatMs?: number;
  /**
   * Where the subscription's down / back lines and failed publishes are logged.
   * @default JSON lines on stderr (`stderrLogger`): a lost revocation is never silent
   */
  logger?: Logger;
}

const DEFAULT_HEARTBEAT_MS = 1000;
/** Failed publishes kept for a retry; beyond it one `*` ("forget everything") stands for all. */
const MAX_PENDING = 1000;

const implementing = (what: string, methods: string[]) =>
  z.custom(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
    { message: `must be ${what} with methods ${methods.join(', ')}` },
  );

const wholeMs = (min: number, max: number) =>
  z
    .number({ message: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(min, `must be from ${min} to ${max} (ms)`)
    .max(max, `must be from ${min} to ${max} (ms)`);

const optionsSchema = z
  .object({
    subscriber: z.unknown().optional(),
    prefix: z
      .string({ message: 'must be a string' })
      .max(100, 'must be at most 100 characters')
      .optional(),
    commandTimeoutMs: wholeMs(10, 60_000).optional(),
    heartbeatMs: wholeMs(100, 60_000).optional(),
    logger: implementing('a Logger', ['debug', 'info', 'warn', 'error']).optional(),
  })
  .strict();

const TOKEN_STORE_METHODS = [
  'createSession',
  'rotate',
  'getSession',
  'revokeSession',
  'revokeUserSessions',
  'prune',
  'listSessions',
  'touchSession',
  'deleteUserSessions',
] as const;

const OWNER = 'withRedisRevocations';

function invalidConfig(option: string, message: string): AuthError {
  return new AuthError('INVALID_CONFIG', `${OWNER}: ${message}`, { details: { option } });
}

/** The message of one event on the channel (ids only, never a token or a reason). */
function payloadOf(event: RevocationEvent): string {
  if (event.kind === 'session') return `s:${event.sessionId}`;
  if (event.kind === 'user') return `u:${event.userId}`;
  return '*';
}

/** A message heard on the channel; anything not understood counts as "forget everything". */
function eventOf(payload: string): RevocationEvent {
  if (payload.length > 2 && payload.startsWith('s:')) {
    return { kind: 'session', sessionId: payload.slice(2) };
  }
  if (payload.length > 2 && payload.startsWith('u:')) {
    return { kind: 'user', userId: payload.slice(2) };
  }
  return { kind: 'all' };
}

/** Runs `work`, or fails with RedisTimeoutError after `timeoutMs`. */
function withDeadline<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new RedisTimeoutError(timeoutMs));
      controller.abort();
    }, timeoutMs);
    work(controller.signal).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * PUBLISHes revocations; a publish that fails is logged (outage log: one line, then a summary
 * per interval, then one when publishing works again) and kept to be published again.
 */
class RevocationPublisher {
  readonly #commands: RedisCommands;
  readonly #channel: string;
  readonly #timeoutMs: number;
  readonly #retryMs: number;
  readonly #log: OutageLog;
  readonly #pending = new Set<string>();
  #retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    commands: RedisCommands,
    channel: string,
    timeoutMs: number,
    retryMs: number,
    logger: Logger,
  ) {
    this.#commands = commands;
    this.#channel = channel;
    this.#timeoutMs = timeoutMs;
    this.#retryMs = retryMs;
    this.#log = new OutageLog(
      resolveOutageLogOptions({ logger }, OWNER),
      {
        unavailable:
          'redis revocation publish failed: the revocation is committed in the token store, but other instances may serve the session from their cache (for at most tokens.revocationCacheTtl) until it is published again',
        stillUnavailable: 'redis revocation publishes still failing',
        back: 'redis revocation publish works again: missed revocations republished',
      },
      'success',
    );
  }

  /** Publishes one event; never throws (the revocation itself has succeeded). */
  async publish(event: RevocationEvent): Promise<void> {
    const payload = payloadOf(event);
    if (await this.#send(payload)) {
      if (this.#pending.size > 0) await this.#flush();
      return;
    }
    this.#keep(payload);
  }

  async #send(payload: string): Promise<boolean> {
    try {
      await withDeadline(this.#timeoutMs, (signal) =>
        this.#commands.send(['PUBLISH', this.#channel, payload], this.#channel, signal),
      );
      this.#log.succeeded();
      return true;
    } catch (err) {
      this.#log.failed(err);
      return false;
    }
  }

  #keep(payload: string): void {
    if (this.#pending.size >= MAX_PENDING && !this.#pending.has('*')) {
      this.#pending.clear();
      this.#pending.add('*');
    } else if (!this.#pending.has('*')) {
      this.#pending.add(payload);
    }
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#retryTimer !== null) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#flush();
    }, this.#retryMs);
    this.#retryTimer.unref?.();
  }

  async #flush(): Promise<void> {
    for (const payload of [...this.#pending]) {
      if (!this.#pending.has(payload)) continue;
      if (!(await this.#send(payload))) {
        this.#scheduleRetry();
        return;
      }
      this.#pending.delete(payload);
    }
  }

  /** Events whose publish failed and waits for a retry (for tests). */
  get pending(): number {
    return this.#pending.size;
  }
}

/**
 * One SUBSCRIBE per wrapped store, shared by every watch opened on it: opens the subscriber
 * when the first watch opens, closes it with the last. Live once Redis has confirmed the
 * subscription and answered a PING on that connection; down when the connection drops or a
 * heartbeat PING goes unanswered; on every return emits `{ kind: 'all' }` before turning live.
 */
class RevocationSubscription {
  readonly #factory: SubscriberFactory;
  readonly #channel: string;
  readonly #timeoutMs: number;
  readonly #heartbeatMs: number;
  readonly #logger: Logger;
  readonly #hub = new RevocationHub({ start: () => this.#start(), stop: () => this.#stop() });
  #handle: SubscriberHandle | null = null;
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  /** The down line was logged for the current outage. */
  #loggedDown = false;
  #checking = false;
  #recheck = false;
  /** Bumped whenever the connection is lost: a check begun before it proves nothing. */
  #epoch = 0;
  /** Bumped when the last watch closes: whatever completes afterwards is dropped. */
  #generation = 0;

  constructor(
    factory: SubscriberFactory,
    channel: string,
    timeoutMs: number,
    heartbeatMs: number,
    logger: Logger,
  ) {
    this.#factory = factory;
    this.#channel = channel;
    this.#timeoutMs = timeoutMs;
    this.#heartbeatMs = heartbeatMs;
    this.#logger = logger;
  }

  watch(listener: RevocationListener): RevocationWatch {
    return this.#hub.watch(listener);
  }

  #start(): void {
    this.#loggedDown = false;
    const generation = this.#generation;
    const handle = attachSubscriber(this.#factory(), this.#channel, {
      message: (payload) => {
        if (generation === this.#generation) this.#hub.emit(eventOf(payload));
      },
      ready: () => {
        if (generation === this.#generation) void this.#check();
      },
      lost: (cause) => {
        if (generation === this.#generation) this.#lost(cause);
      },
    });
    this.#handle = handle;
    this.#heartbeat = setInterval(() => void this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref?.();
    if (handle.ready) void this.#check();
  }

  async #stop(): Promise<void> {
    this.#generation++;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    this.#hub.quiet();
    const handle = this.#handle;
    this.#handle = null;
    if (handle !== null) await handle.close().catch(() => {});
  }

  /** Subscribes and PINGs on the subscriber connection; live once both are answered. */
  async #check(): Promise<void> {
    const handle = this.#handle;
    if (handle === null) return;
    if (this.#checking) {
      this.#recheck = true;
      return;
    }
    this.#checking = true;
    const { epoch, generation } = { epoch: this.#epoch, generation: this.#generation };
    try {
      await withDeadline(this.#timeoutMs, () => handle.subscribe());
      // Commands on one connection are answered in order: the PING's answer comes after the
      // subscription (ours, or the library's automatic one after a reconnection) took effect.
      await withDeadline(this.#timeoutMs, () => handle.ping());
      if (generation === this.#generation && epoch === this.#epoch) this.#up();
    } catch (err) {
      if (generation === this.#generation && epoch === this.#epoch) this.#down(err);
    } finally {
      this.#checking = false;
      if (this.#recheck && generation === this.#generation) {
        this.#recheck = false;
        void this.#check();
      }
    }
  }

  /** The heartbeat: a PING while live, a new check while down and connected. */
  async #beat(): Promise<void> {
    const handle = this.#handle;
    if (handle === null || this.#checking) return;
    if (!this.#hub.live) {
      if (handle.ready) await this.#check();
      return;
    }
    this.#checking = true;
    const { epoch, generation } = { epoch: this.#epoch, generation: this.#generation };
    try {
      await withDeadline(this.#timeoutMs, () => handle.ping());
    } catch (err) {
      if (generation === this.#generation && epoch === this.#epoch) this.#lost(err);
    } finally {
      this.#checking = false;
      if (this.#recheck && generation === this.#generation) {
        this.#recheck = false;
        void this.#check();
      }
    }
  }

  #lost(cause: unknown): void {
    this.#epoch++;
    this.#down(cause);
  }

  #down(cause: unknown): void {
    this.#hub.down();
    if (!this.#loggedDown) {
      this.#loggedDown = true;
      this.#logger.warn(
        'redis revocation subscription is down: every verify reads the token store until it is back',
        { channel: this.#channel, ...describeCause(cause) },
      );
    }
  }

  #up(): void {
    if (this.#hub.live) return;
    // Whatever was published while nobody listened is unknown: every cached state goes first.
    this.#hub.up();
    if (this.#loggedDown) {
      this.#loggedDown = false;
      this.#logger.info('redis revocation subscription is back: caching session state again', {
        channel: this.#channel,
      });
    }
  }
}

/**
 * The {@link TokenStore} returned by {@link withRedisRevocations}: the wrapped store, with a
 * Redis revocation watch.
 */
class RedisRevocationTokenStore implements TokenStore {
  readonly #inner: TokenStore;
  readonly #publisher: RevocationPublisher;
  readonly #subscription: RevocationSubscription;
  /** The wrapped store's lookup, when it has one (a refresh then reads before it rotates). */
  readonly findSessionByTokenHash?: (tokenHash: string) => Promise<SessionRecord | null>;

  constructor(
    inner: TokenStore,
    publisher: RevocationPublisher,
    subscription: RevocationSubscription,
  ) {
    this.#inner = inner;
    this.#publisher = publisher;
    this.#subscription = subscription;
    if (inner.findSessionByTokenHash !== undefined) {
      this.findSessionByTokenHash = (tokenHash) => inner.findSessionByTokenHash!(tokenHash);
    }
  }

  createSession(session: SessionRecord, tokenHash: string): Promise<void> {
    return this.#inner.createSession(session, tokenHash);
  }

  async rotate(oldHash: string, newHash: string, rule: RotationRule): Promise<RotationResult> {
    const result = await this.#inner.rotate(oldHash, newHash, rule);
    if (result.status === 'reused') {
      await this.#publisher.publish({ kind: 'session', sessionId: result.session.id });
    }
    return result;
  }

  getSession(sessionId: string): Promise<SessionRecord | null> {
    return this.#inner.getSession(sessionId);
  }

  async revokeSession(sessionId: string, reason: string, now: number): Promise<void> {
    await this.#inner.revokeSession(sessionId, reason, now);
    await this.#publisher.publish({ kind: 'session', sessionId });
  }

  async revokeUserSessions(
    userId: string,
    reason: string,
    now: number,
    exceptSessionId?: string,
  ): Promise<number> {
    const count = await this.#inner.revokeUserSessions(userId, reason, now, exceptSessionId);
    if (count > 0) await this.#publisher.publish({ kind: 'user', userId });
    return count;
  }

  prune(olderThan: number): Promise<number> {
    return this.#inner.prune(olderThan);
  }

  listSessions(userId: string): Promise<SessionRecord[]> {
    return this.#inner.listSessions(userId);
  }

  touchSession(sessionId: string, now: number, minIntervalMs: number): Promise<void> {
    return this.#inner.touchSession(sessionId, now, minIntervalMs);
  }

  /** Deletes nothing it must announce: the core revokes the sessions (announced) first. */
  deleteUserSessions(userId: string): Promise<number> {
    return this.#inner.deleteUserSessions(userId);
  }

  watchRevocations(listener: RevocationListener): RevocationWatch {
    return this.#subscription.watch(listener);
  }
}

/**
 * Fans revocations out over Redis pub/sub, as an alternative to PostgreSQL LISTEN/NOTIFY:
 * returns a {@link TokenStore} that delegates every operation to `tokens`, PUBLISHes each
 * revocation (one session, every session of a user, a family revoked by refresh-token reuse)
 * on `<prefix>revocations` once `tokens` has committed it, and whose `watchRevocations`
 * SUBSCRIBEs to that channel on a connection of its own. Give it to `createAuth` as
 * `stores.tokens` on every instance: each then caches session states and drops them as soon as
 * any instance revokes them.
 *
 * - **The Redis watch replaces the wrapped store's own** (a Postgres store's LISTEN is never
 *   opened; its NOTIFYs go unheard and cost nothing).
 * - **Fall-back**: the watch is not live until Redis has confirmed the subscription, nor while
 *   the subscriber connection is down or does not answer its heartbeat PING: then every verify
 *   reads `tokens`. When it is back, every cached state is dropped (`{ kind: 'all' }`) before
 *   caching resumes.
 * - **A failed PUBLISH** (Redis down) never fails the revocation, which is committed already:
 *   it is logged and published again every `heartbeatMs` until it goes through. Until then an
 *   instance whose subscription stayed up may serve the revoked session from its cache, for at
 *   most `tokens.revocationCacheTtl` (30 s by default). See docs/redis.md.
 * - Messages carry ids only (`s:<session id>`, `u:<user id>`), never a token or a reason.
 *
 * A bad option, a `tokens` that is not a token store, or a client that is neither ioredis nor
 * node-redis throws `AuthError('INVALID_CONFIG')` naming the option.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createAuth } from 'gatehouse';
 * import { createPostgresStores } from 'gatehouse/postgres';
 * import { createRedisStores, withRedisRevocations } from 'gatehouse/redis';
 *
 * const client = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * const db = createPostgresStores(pool, { logger });
 * const redis = createRedisStores(client, { logger });
 * const tokens = withRedisRevocations(db.stores.tokens, client, { logger });
 * const auth = createAuth({ stores: { ...db.stores, ...redis.stores, tokens }, logger });
 * ```
 */
export function withRedisRevocations(
  tokens: TokenStore,
  client: RedisClient,
  options: RedisRevocationOptions = {},
): TokenStore {
  if (
    typeof tokens !== 'object' ||
    tokens === null ||
    !TOKEN_STORE_METHODS.every(
      (m) => typeof (tokens as unknown as Record<string, unknown>)[m] === 'function',
    )
  ) {
    throw invalidConfig(
      'tokens',
      `argument "tokens" must be a TokenStore with methods ${TOKEN_STORE_METHODS.join(', ')}.`,
    );
  }
  const parsed = optionsSchema.safeParse(options ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const option = issue.path.join('.') || 'options';
    throw invalidConfig(
      option,
      issue.code === 'unrecognized_keys'
        ? `unknown option "${issue.keys.join('", "')}".`
        : `option "${option}" ${issue.message}.`,
    );
  }
  const commands = commandsOf(client, OWNER);
  const factory = subscriberFactory(client, options.subscriber, OWNER);
  const channel = `${options.prefix ?? DEFAULT_PREFIX}revocations`;
  const timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const logger = options.logger ?? stderrLogger;
  return new RedisRevocationTokenStore(
    tokens,
    new RevocationPublisher(commands, channel, timeoutMs, heartbeatMs, logger),
    new RevocationSubscription(factory, channel, timeoutMs, heartbeatMs, logger),
  );
}
