// Store instrumentation (issue 16): with telemetry on, every call to a store createAuth uses is
// timed (`gatehouse.store.duration`), counted when it fails (`gatehouse.store.errors`) and traced
// as a child span of the flow that made it, through a wrapper that changes nothing else: the same
// methods (an optional one stays absent), the same values, the very same errors. With telemetry
// off the stores are not wrapped at all. Recorded with the SDK's own MeterProvider and
// BasicTracerProvider, read back through a MetricReader and the in-memory span exporter.
import * as otelApi from '@opentelemetry/api';
import { context, type Meter, type Tracer, trace } from '@opentelemetry/api';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  type AuthOptions,
  MemoryAttemptStore,
  MemoryAuditLog,
  MemoryMailOutbox,
  MemoryMfaStore,
  MemoryOneTimeTokenStore,
  MemoryRateLimitStore,
  MemoryTokenStore,
  MemoryUserStore,
  type RevocationEvent,
  type TokenStore,
  type UserRecord,
} from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import {
  createStoreCall,
  type InstrumentedStores,
  instrumentStores,
  STORE_DURATION,
  STORE_ERRORS,
} from '../../../src/telemetry/stores.js';
import { noopTelemetry, type Telemetry } from '../../../src/telemetry/telemetry.js';
import { makeAuth, PASSWORD } from '../../helpers/auth.js';
import { AsyncLocalStorageContextManager } from './otel-harness.js';

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** An SDK MeterProvider and TracerProvider recording into memory, for one auth instance. */
function recorder() {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return {
    telemetry: { meterProvider, tracerProvider },
    async metrics(): Promise<ResourceMetrics> {
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      return resourceMetrics;
    },
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
  };
}

function pointsOf(metrics: ResourceMetrics, name: string): DataPoint<unknown>[] {
  return metrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]);
}

/** The number of recorded durations of one store operation (0 when none). */
function durationCount(metrics: ResourceMetrics, store: string, operation: string): number {
  return pointsOf(metrics, STORE_DURATION)
    .filter((p) => p.attributes['store'] === store && p.attributes['operation'] === operation)
    .reduce((sum, p) => sum + (p.value as Histogram).count, 0);
}

/** The error counts of one store operation, by `error.type`. */
function errorCounts(metrics: ResourceMetrics, store: string, operation: string) {
  return Object.fromEntries(
    pointsOf(metrics, STORE_ERRORS)
      .filter((p) => p.attributes['store'] === store && p.attributes['operation'] === operation)
      .map((p) => [p.attributes['error.type'], p.value as number]),
  );
}

/** The error a Postgres store throws when the database went away (toServerError of ECONNRESET). */
function databaseGone(): AuthError {
  return new AuthError('SERVER_ERROR', undefined, {
    status: 503,
    cause: Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' }),
  });
}

/** A user store whose `findByEmail` fails with `outage` while `down` (a database outage). */
class OutageUserStore extends MemoryUserStore {
  down = false;
  readonly outage = databaseGone();
  override async findByEmail(email: string): Promise<UserRecord | null> {
    if (this.down) throw this.outage;
    return super.findByEmail(email);
  }
}

/** A token store written before `watchRevocations` and `findSessionByTokenHash` existed. */
function minimalTokenStore(inner: TokenStore): TokenStore {
  return {
    createSession: (session, hash) => inner.createSession(session, hash),
    rotate: (oldHash, newHash, rule) => inner.rotate(oldHash, newHash, rule),
    getSession: (id) => inner.getSession(id),
    revokeSession: (id, reason, now) => inner.revokeSession(id, reason, now),
    revokeUserSessions: (userId, reason, now, except) =>
      inner.revokeUserSessions(userId, reason, now, except),
    prune: (olderThan) => inner.prune(olderThan),
    listSessions: (userId) => inner.listSessions(userId),
    touchSession: (id, now, interval) => inner.touchSession(id, now, interval),
    deleteUserSessions: (userId) => inner.deleteUserSessions(userId),
  };
}

function memoryStores() {
  const outbox = new MemoryMailOutbox();
  return {
    users: new MemoryUserStore(),
    attempts: new MemoryAttemptStore(),
    rateLimits: new MemoryRateLimitStore(),
    tokens: new MemoryTokenStore(),
    outbox,
    oneTimeTokens: new MemoryOneTimeTokenStore({ outbox }),
    mfa: new MemoryMfaStore(),
  } satisfies NonNullable<AuthOptions['stores']>;
}

/** A Telemetry whose store calls record into `meter` and `tracer`. */
function storeTelemetry(meter: Meter, tracer: Tracer): Telemetry {
  return { ...noopTelemetry, enabled: true, storeCall: createStoreCall(meter, tracer, otelApi) };
}

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager);
});
afterAll(() => {
  // Nothing registered here outlives this file (the worker process may run others).
  context.disable();
});

describe('store metrics and spans (telemetry on)', () => {
  it('a login records users.findByEmail and the attempts calls in gatehouse.store.duration', async () => {
    const rec = recorder();
    const { auth } = makeAuth({ telemetry: rec.telemetry });
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await expect(
      auth.login({ email: 'ada@example.com', password: 'wrong password!' }),
    ).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });

    const metrics = await rec.metrics();
    expect(durationCount(metrics, 'users', 'create')).toBe(1);
    expect(durationCount(metrics, 'users', 'findByEmail')).toBe(2);
    expect(durationCount(metrics, 'attempts', 'reserve')).toBe(2);
    expect(durationCount(metrics, 'attempts', 'reset')).toBe(1);
    expect(durationCount(metrics, 'attempts', 'recordFailure')).toBe(1);
    expect(durationCount(metrics, 'tokens', 'createSession')).toBe(1);
    const histogram = metrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === STORE_DURATION);
    expect(histogram?.descriptor.unit).toBe('s');
    // Seconds, not milliseconds: a memory store answers well under a second.
    for (const point of pointsOf(metrics, STORE_DURATION)) {
      expect((point.value as Histogram).sum).toBeGreaterThanOrEqual(0);
      expect((point.value as Histogram).sum).toBeLessThan(1);
    }
    // Nothing failed.
    expect(pointsOf(metrics, STORE_ERRORS)).toEqual([]);
  });

  it('stores.auditLog is instrumented too (audit_log.write per event, listForUser for an export), and given both ways (its .sink as the audit sink) still gets each event once', async () => {
    const rec = recorder();
    const log = Object.assign(new MemoryAuditLog(), {
      sink: (event: Parameters<MemoryAuditLog['write']>[0]) => log.write(event),
    });
    const { auth } = makeAuth({
      telemetry: rec.telemetry,
      audit: log.sink,
      stores: { auditLog: log },
    });
    const user = await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const exported = await auth.exportUser(user.id);
    const written = await log.listForUser(user.id, { limit: 100 });
    expect(written.length).toBeGreaterThan(0);
    // Once each, not once through the wrapper and once through the sink.
    expect(new Set(written.map((e) => `${e.event} ${e.timestamp}`)).size).toBe(written.length);
    expect(exported.auditEvents?.map((e) => e.event)).toEqual(written.map((e) => e.event));
    const metrics = await rec.metrics();
    expect(durationCount(metrics, 'audit_log', 'write')).toBe(written.length);
    expect(durationCount(metrics, 'audit_log', 'listForUser')).toBe(1);
  });

  it('a store that fails with SERVER_ERROR 503 (database down) counts gatehouse.store.errors{error.type=unavailable}, and the caller gets that very error', async () => {
    const rec = recorder();
    const users = new OutageUserStore();
    const { auth } = makeAuth({ telemetry: rec.telemetry, stores: { users } });
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    users.down = true;

    await expect(auth.login({ email: 'ada@example.com', password: PASSWORD })).rejects.toBe(
      users.outage,
    );
    // Through the wrapper itself: the same object, not a copy or a wrapped error.
    const wrapped = internalsOf(auth).stores.users;
    expect(wrapped).not.toBe(users);
    await expect(wrapped.findByEmail('ada@example.com')).rejects.toBe(users.outage);

    const metrics = await rec.metrics();
    expect(errorCounts(metrics, 'users', 'findByEmail')).toEqual({ unavailable: 2 });
    // The failed calls are timed too, under their error.type.
    const failedDurations = pointsOf(metrics, STORE_DURATION).filter(
      (p) => p.attributes['error.type'] === 'unavailable',
    );
    expect(failedDurations.reduce((n, p) => n + (p.value as Histogram).count, 0)).toBe(2);
    const failedSpans = rec.spans().filter((s) => s.name === 'gatehouse.store users.findByEmail');
    expect(failedSpans.length).toBe(2);
    for (const span of failedSpans) {
      expect(span.status.code).toBe(otelApi.SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).toBe('unavailable');
      // No message of the error (it could quote what the store was given).
      expect(span.status.message).toBe('unavailable');
      expect(span.events).toEqual([]);
    }
  });

  it('a conflict (EMAIL_TAKEN from users.create) is counted as error.type=email_taken', async () => {
    const rec = recorder();
    const { auth } = makeAuth({ telemetry: rec.telemetry });
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    await expect(
      auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' }),
    ).rejects.toMatchObject({ code: 'EMAIL_TAKEN' });
    expect(errorCounts(await rec.metrics(), 'users', 'create')).toEqual({ email_taken: 1 });
  });

  it('a custom store that throws synchronously (a bug) still throws synchronously, the very same error, counted as error.type=error', async () => {
    const bug = new TypeError('a bug in a custom store');
    const rec = recorder();
    const stores = {
      ...memoryStores(),
      rateLimits: {
        hit: () => {
          throw bug;
        },
        reset: async () => {},
      },
    };
    const { auth } = makeAuth({ telemetry: rec.telemetry, stores });
    const wrapped = internalsOf(auth).stores.rateLimits;
    expect(wrapped).not.toBe(stores.rateLimits);
    let thrown: unknown;
    try {
      void wrapped.hit('login:k', { now: 0, windowMs: 1000, limit: 1 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBe(bug);
    expect(errorCounts(await rec.metrics(), 'rate_limits', 'hit')).toEqual({ error: 1 });
  });

  it('store spans are children of the login span (and of nothing else)', async () => {
    const rec = recorder();
    const { auth } = makeAuth({ telemetry: rec.telemetry });
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    const before = rec.spans().length;
    await auth.login({ email: 'ada@example.com', password: PASSWORD });

    const spans = rec.spans().slice(before);
    const login = spans.find((s) => s.name === 'gatehouse.login');
    expect(login, 'a gatehouse.login span').toBeDefined();
    const stores = spans.filter((s) => s.name.startsWith('gatehouse.store '));
    expect(stores.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'gatehouse.store attempts.reserve',
        'gatehouse.store users.findByEmail',
        'gatehouse.store attempts.reset',
        'gatehouse.store tokens.createSession',
      ]),
    );
    for (const span of stores) {
      expect(span.spanContext().traceId).toBe(login!.spanContext().traceId);
      // A direct child of the login span, or of a span inside it (never a root of its own).
      const parent = spans.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
      expect(parent, `${span.name} has its parent among the login's spans`).toBeDefined();
      expect(span.kind).toBe(otelApi.SpanKind.CLIENT);
      expect(span.attributes).toEqual({
        'gatehouse.store': span.name.slice('gatehouse.store '.length).split('.')[0],
        'gatehouse.store.operation': span.name.split('.').at(-1),
      });
    }
    const reserve = stores.find((s) => s.name === 'gatehouse.store attempts.reserve')!;
    expect(reserve.parentSpanContext?.spanId).toBe(login!.spanContext().spanId);
  });

  it('a store call made outside any flow is a root span of its own', async () => {
    const rec = recorder();
    const { auth } = makeAuth({ telemetry: rec.telemetry });
    await internalsOf(auth).stores.users.findById('no-such-id');
    const span = rec.spans().find((s) => s.name === 'gatehouse.store users.findById');
    expect(span?.parentSpanContext).toBeUndefined();
  });

  it('no store attribute carries PII: no email, id, token, IP, user agent or password in any attribute or span name', async () => {
    const rec = recorder();
    const { auth } = makeAuth({ telemetry: rec.telemetry });
    const email = 'grace.hopper@example.com';
    const ip = '203.0.113.77';
    const userAgent = 'Mozilla/5.0 (PII-test-agent)';
    const user = await auth.register({ email, password: PASSWORD, name: 'Grace Hopper' });
    const session = await auth.login({ email, password: PASSWORD }, { ip, userAgent });
    await expect(
      auth.login({ email, password: 'not the password' }, { ip, userAgent }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const principal = await auth.verifyAccessToken(session.token);
    const refreshed = await auth.refresh(session.refreshToken, { ip, userAgent });
    await auth.logout(principal.sessionId, { ip, userAgent });
    await auth.getUser(user.id);

    const secrets = [
      email,
      'grace.hopper',
      ip,
      userAgent,
      PASSWORD,
      'not the password',
      user.id,
      principal.sessionId,
      session.token,
      session.refreshToken,
      refreshed.token,
      refreshed.refreshToken,
    ];
    const metrics = await rec.metrics();
    const storePoints = [...pointsOf(metrics, STORE_DURATION), ...pointsOf(metrics, STORE_ERRORS)];
    expect(storePoints.length).toBeGreaterThan(5);
    const texts: string[] = [];
    for (const point of storePoints) {
      // Exactly the documented keys, nothing else.
      for (const key of Object.keys(point.attributes)) {
        expect(['store', 'operation', 'error.type']).toContain(key);
      }
      texts.push(...Object.values(point.attributes).map(String));
    }
    const storeSpans = rec.spans().filter((s) => s.name.startsWith('gatehouse.store '));
    expect(storeSpans.length).toBeGreaterThan(5);
    for (const span of storeSpans) {
      texts.push(span.name, span.status.message ?? '');
      texts.push(...Object.values(span.attributes).map(String));
      texts.push(
        ...span.events.flatMap((e) => [e.name, ...Object.values(e.attributes ?? {}).map(String)]),
      );
    }
    for (const text of texts) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});

describe('the wrapper keeps the stores as they are', () => {
  it('a token store without watchRevocations or findSessionByTokenHash stays without them when wrapped (and the core keeps reading it on every verify)', async () => {
    const rec = recorder();
    const plain = minimalTokenStore(new MemoryTokenStore());
    const { auth } = makeAuth({ telemetry: rec.telemetry, stores: { tokens: plain } });
    const wrapped = internalsOf(auth).stores.tokens;
    expect(wrapped).not.toBe(plain);
    expect('watchRevocations' in wrapped).toBe(false);
    expect('findSessionByTokenHash' in wrapped).toBe(false);
    expect(Object.keys(wrapped).sort()).toEqual(Object.keys(plain).sort());

    // Without a watch, no session state is cached: each verify reads the store.
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    const { token } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.verifyAccessToken(token);
    const reads = durationCount(await rec.metrics(), 'tokens', 'getSession');
    for (let i = 0; i < 3; i++) await auth.verifyAccessToken(token);
    expect(durationCount(await rec.metrics(), 'tokens', 'getSession')).toBe(reads + 3);
  });

  it('an optional method held as an own property set to undefined (a class field) is absent on the wrapper', () => {
    const inner = Object.assign(minimalTokenStore(new MemoryTokenStore()), {
      watchRevocations: undefined,
      findSessionByTokenHash: undefined,
    });
    const rec = recorder();
    const { auth } = makeAuth({ telemetry: rec.telemetry, stores: { tokens: inner } });
    const wrapped = internalsOf(auth).stores.tokens;
    expect(wrapped.watchRevocations).toBeUndefined();
    expect(wrapped.findSessionByTokenHash).toBeUndefined();
  });

  it('a token store with watchRevocations keeps it when wrapped, and revocations made through the wrapper reach the listener', async () => {
    const rec = recorder();
    const tokens = new MemoryTokenStore();
    const { auth } = makeAuth({ telemetry: rec.telemetry, stores: { tokens } });
    const wrapped = internalsOf(auth).stores.tokens;
    expect(wrapped).not.toBe(tokens);
    expect(typeof wrapped.watchRevocations).toBe('function');
    expect(typeof wrapped.findSessionByTokenHash).toBe('function');

    const events: RevocationEvent[] = [];
    // Synchronous, as the interface says: the watch itself, not a promise of it.
    const watch = wrapped.watchRevocations!({
      onRevoked: (event) => events.push(event),
      onLiveChange: () => {},
    });
    expect(watch.live).toBe(true);
    const now = Date.now();
    await wrapped.createSession(
      {
        id: 's-1',
        userId: 'u-1',
        createdAt: now,
        expiresAt: now + 60_000,
        lastUsedAt: now,
        revokedAt: null,
        revokedReason: null,
      },
      'a'.repeat(64),
    );
    await wrapped.revokeSession('s-1', 'logout', now);
    expect(events).toEqual([{ kind: 'session', sessionId: 's-1' }]);
    await watch.close();

    // The subscription is not a timed operation; the revocation is.
    const metrics = await rec.metrics();
    expect(durationCount(metrics, 'tokens', 'watchRevocations')).toBe(0);
    expect(durationCount(metrics, 'tokens', 'revokeSession')).toBe(1);
  });

  it('the session-state cache stays on behind a wrapped watching store (a warm verify reads no store)', async () => {
    const rec = recorder();
    const { auth } = makeAuth({ telemetry: rec.telemetry });
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    const { token } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.verifyAccessToken(token);
    const reads = durationCount(await rec.metrics(), 'tokens', 'getSession');
    for (let i = 0; i < 5; i++) await auth.verifyAccessToken(token);
    expect(durationCount(await rec.metrics(), 'tokens', 'getSession')).toBe(reads);
  });

  it('every method of every store is forwarded, called on the store itself (this), with its arguments and its answer', async () => {
    const rec = recorder();
    const stores = memoryStores();
    const { auth } = makeAuth({ telemetry: rec.telemetry, stores });
    const wrapped = internalsOf(auth).stores;
    // The memory stores keep their state in private fields: a call with the wrong `this` throws.
    const record = await wrapped.users.create({
      email: 'ada@example.com',
      name: 'Ada',
      role: 'user',
      passwordHash: 'h',
    });
    expect(await wrapped.users.findById(record.id)).toEqual(record);
    expect(await stores.users.findById(record.id)).toEqual(record);
    const rule = { now: 1000, windowMs: 60_000, limit: 2 };
    expect(await wrapped.rateLimits.hit('k', rule)).toEqual(
      await stores.rateLimits.hit('k2', rule),
    );
    expect(await wrapped.outbox.pending()).toBe(0);
    expect(await wrapped.oneTimeTokens.revokeUserTokens(record.id)).toBe(0);

    // Every method of each interface (src/stores/types.ts), optional ones included: the memory
    // stores have them all. Methods beyond the interface (MemoryMailOutbox.inspect) are not
    // forwarded: the core calls the interface only.
    const INTERFACES: Record<keyof typeof stores, string[]> = {
      users: [
        'findByEmail',
        'findById',
        'create',
        'update',
        'replacePasswordHash',
        'delete',
        'listUsers',
      ],
      attempts: ['reserve', 'recordFailure', 'reset', 'inspect'],
      rateLimits: ['hit', 'reset'],
      tokens: [
        'createSession',
        'rotate',
        'getSession',
        'findSessionByTokenHash',
        'revokeSession',
        'revokeUserSessions',
        'prune',
        'watchRevocations',
        'listSessions',
        'touchSession',
        'deleteUserSessions',
      ],
      oneTimeTokens: [
        'issue',
        'consume',
        'find',
        'revokeUserTokens',
        'listUserTokens',
        'deleteUserTokens',
        'prune',
      ],
      outbox: [
        'enqueue',
        'claim',
        'markDelivered',
        'markFailed',
        'pending',
        'prune',
        'deleteForRecipient',
      ],
      mfa: [
        'getFactor',
        'savePendingFactor',
        'activateFactor',
        'acceptStep',
        'consumeRecoveryCode',
        'replaceRecoveryCodes',
        'recoveryCodesLeft',
        'deleteFactor',
        'updateSecret',
      ],
    };
    for (const [name, methods] of Object.entries(INTERFACES) as [keyof typeof stores, string[]][]) {
      const outer = wrapped[name] as unknown as Record<string, unknown>;
      expect(Object.keys(outer).sort(), name).toEqual([...methods].sort());
    }
  });

  it('a meter or tracer that throws while recording never changes what the store answers', async () => {
    const exporterBug = () => {
      throw new Error('exporter bug');
    };
    const brokenMeter = {
      createHistogram: () => ({ record: exporterBug }),
      createCounter: () => ({ add: exporterBug }),
    } as unknown as Meter;
    const brokenTracer = { startSpan: exporterBug } as unknown as Tracer;
    const brokenSpans = {
      startSpan: () => ({ setAttribute: exporterBug, setStatus: exporterBug, end: exporterBug }),
    } as unknown as Tracer;
    const workingTracer = new BasicTracerProvider().getTracer('test');
    for (const [meter, tracer] of [
      [brokenMeter, workingTracer],
      [brokenMeter, brokenTracer],
      [brokenMeter, brokenSpans],
    ] as const) {
      const users = new OutageUserStore();
      const stores = instrumentStores(storeTelemetry(meter, tracer), {
        ...memoryStoresAsInstrumented(),
        users,
      });
      expect(stores.users).not.toBe(users);
      await expect(stores.users.findByEmail('nobody@example.com')).resolves.toBeNull();
      users.down = true;
      await expect(stores.users.findByEmail('nobody@example.com')).rejects.toBe(users.outage);
    }
  });
});

function memoryStoresAsInstrumented(): InstrumentedStores {
  const s = memoryStores();
  return {
    users: s.users,
    attempts: s.attempts,
    rate_limits: s.rateLimits,
    tokens: s.tokens,
    one_time_tokens: s.oneTimeTokens,
    mail_outbox: s.outbox,
    mfa: s.mfa,
  };
}

describe('telemetry off: nothing is wrapped', () => {
  it('telemetry: false leaves every store object identical (===) to the one given', () => {
    const stores = memoryStores();
    const { auth } = makeAuth({ telemetry: false, stores });
    const held = internalsOf(auth).stores;
    expect(held.users).toBe(stores.users);
    expect(held.attempts).toBe(stores.attempts);
    expect(held.rateLimits).toBe(stores.rateLimits);
    expect(held.tokens).toBe(stores.tokens);
    expect(held.outbox).toBe(stores.outbox);
    expect(held.oneTimeTokens).toBe(stores.oneTimeTokens);
  });

  it('no provider given and none registered globally: the stores are identical too', () => {
    expect(trace.getTracerProvider()).toBeInstanceOf(otelApi.ProxyTracerProvider);
    const stores = memoryStores();
    const { auth } = makeAuth({ stores });
    const held = internalsOf(auth).stores;
    expect(held.users).toBe(stores.users);
    expect(held.tokens).toBe(stores.tokens);
    expect(held.attempts).toBe(stores.attempts);
  });

  it('instrumentStores with the no-op telemetry hands back the very same object', () => {
    const stores = memoryStoresAsInstrumented();
    expect(instrumentStores(noopTelemetry, stores)).toBe(stores);
  });
});
