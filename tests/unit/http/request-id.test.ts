// Request ids (issue 16): an incoming X-Request-Id is taken only when it is short and of safe
// characters, else replaced (never echoed, never an error); the id goes on gatehouse's responses
// and into the audit events and log lines of its request. These tests pin the rules, the options
// and the log lines; tests/contract/request-id.test.ts runs the same over HTTP on every adapter.
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { gatehouseExpress } from '../../../adapters/express/index.js';
import { type FastifyAdapterOptions, gatehouseFastify } from '../../../adapters/fastify/index.js';
import { AuditEmitter } from '../../../src/audit/emitter.js';
import type { AuditEvent } from '../../../src/audit/events.js';
import {
  createAuthHttp,
  createRequestFailureLog,
  errorResponse,
  type HttpRequest,
} from '../../../src/http/index.js';
import { isValidRequestId, resolveRequestIds } from '../../../src/http/request-id.js';
import { AuthError, seedPolicy } from '../../../src/index.js';
import { collectingLogger, makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';
import { ManualClock } from '../../helpers/fakes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

describe('isValidRequestId', () => {
  it.each([
    ['a UUID', 'b7f0c9a2-5d1e-4c47-9b0e-3f5a6c7d8e9f'],
    ['one character', 'a'],
    ['128 characters', 'a'.repeat(128)],
    ['the safe punctuation', 'svc.api:req_42-x'],
  ])('takes %s', (_name, id) => {
    expect(isValidRequestId(id)).toBe(true);
  });

  it.each([
    ['an empty string', ''],
    ['129 characters (too long)', 'a'.repeat(129)],
    ['CRLF (header injection)', 'abc\r\nSet-Cookie: evil=1'],
    ['a bare LF', 'abc\nx'],
    ['a space', 'abc def'],
    ['two ids joined by a proxy', 'abc, def'],
    ['unicode', 'réq-1'],
    ['latin1 bytes as Node reads them', 'r\u00e9q'],
    ['a quote', 'abc"'],
    ['a semicolon', 'abc;def'],
    ['a NUL', 'abc\u0000'],
  ])('refuses %s', (_name, id) => {
    expect(isValidRequestId(id)).toBe(false);
  });

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 42, ['abc'], {}]) {
      expect(isValidRequestId(value)).toBe(false);
    }
  });
});

describe('resolveRequestIds', () => {
  it('defaults: X-Request-Id, incoming ids trusted, UUID-shaped ids, on gatehouse answers only', () => {
    const ids = resolveRequestIds(undefined, 'test')!;
    expect(ids.header).toBe('x-request-id');
    expect(ids.trustIncoming).toBe(true);
    expect(ids.everyResponse).toBe(false);
    expect(ids.generate()).toMatch(UUID);
    expect(ids.idOf({ 'x-request-id': 'edge-42' })).toBe('edge-42');
  });

  it('false turns request ids off', () => {
    expect(resolveRequestIds(false, 'test')).toBeNull();
  });

  it('an invalid incoming id is replaced by a new one, never kept', () => {
    const ids = resolveRequestIds({}, 'test')!;
    for (const incoming of ['a'.repeat(129), 'abc def', 'abc\r\nx: y', 'réq', 'a, b']) {
      const id = ids.idOf({ 'x-request-id': incoming });
      expect(id).not.toBe(incoming);
      expect(id).toMatch(UUID);
    }
    // Node gives an array for a header it does not join: a new id too.
    expect(ids.idOf({ 'x-request-id': ['a', 'b'] })).toMatch(UUID);
  });

  it('trustIncoming: false ignores even a valid incoming id', () => {
    const ids = resolveRequestIds({ trustIncoming: false }, 'test')!;
    expect(ids.idOf({ 'x-request-id': 'edge-42' })).toMatch(UUID);
  });

  it('reads and writes the configured header, in lower case', () => {
    const ids = resolveRequestIds({ header: 'X-Correlation-Id' }, 'test')!;
    expect(ids.header).toBe('x-correlation-id');
    expect(ids.idOf({ 'x-correlation-id': 'c-1', 'x-request-id': 'r-1' })).toBe('c-1');
  });

  it('uses the generator given, and replaces a value of it that is not a valid id', () => {
    const values = ['gen-1', 'bad\r\nSet-Cookie: evil=1', ''];
    const ids = resolveRequestIds({ generate: () => values.shift()! }, 'test')!;
    expect(ids.generate()).toBe('gen-1');
    expect(ids.generate()).toMatch(UUID);
    expect(ids.generate()).toMatch(UUID);
  });

  it.each([
    [{ header: 'X Request Id' }, 'requestId.header'],
    [{ header: 'x-request-id\r\nx-evil' }, 'requestId.header'],
    [{ header: 42 }, 'requestId.header'],
    [{ trustIncoming: 'yes' }, 'requestId.trustIncoming'],
    [{ generate: 'uuid' }, 'requestId.generate'],
    [{ everyResponse: 1 }, 'requestId.everyResponse'],
    [{ headers: 'x-id' }, 'requestId'],
  ])('a bad option %j is INVALID_CONFIG naming %s', (options, option) => {
    let caught: unknown;
    try {
      resolveRequestIds(options as never, 'Invalid auth routes options');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AuthError);
    expect((caught as AuthError).code).toBe('INVALID_CONFIG');
    expect((caught as AuthError).message).toContain(`option "${option}"`);
  });

  it('the adapters refuse a bad requestId option at start', () => {
    const { auth } = makeAuth();
    expect(() => gatehouseExpress(auth, { requestId: { header: 'a b' } })).toThrow(
      /option "requestId.header"/,
    );
  });
});

describe('audit events', () => {
  function emitter() {
    const events: AuditEvent[] = [];
    const logger = collectingLogger();
    const audit = new AuditEmitter({
      sink: (event) => void events.push(event),
      clock: new ManualClock(),
      logger,
      emailKey: new Uint8Array(32),
    });
    return { audit, events, logs: logger.lines };
  }

  it('carry the requestId of the context', () => {
    const { audit, events } = emitter();
    audit.emit({
      event: 'LOGIN_FAILED',
      status: 'failure',
      context: { ip: '1.2.3.4', requestId: 'r-1' },
    });
    expect(events[0]).toMatchObject({ event: 'LOGIN_FAILED', ip: '1.2.3.4', requestId: 'r-1' });
  });

  it('have no requestId key outside a request (the seed format as before)', () => {
    const { audit, events } = emitter();
    audit.emit({ event: 'LOGIN_FAILED', status: 'failure', context: { ip: '1.2.3.4' } });
    expect(Object.keys(events[0]!).sort()).toEqual([
      'event',
      'ip',
      'metadata',
      'status',
      'timestamp',
    ]);
  });

  it('a failing sink is logged with the requestId of the event', () => {
    const logger = collectingLogger();
    const audit = new AuditEmitter({
      sink: () => {
        throw new Error('disk full');
      },
      clock: new ManualClock(),
      logger,
      emailKey: new Uint8Array(32),
    });
    audit.emit({ event: 'LOGOUT', status: 'success', context: { requestId: 'r-9' } });
    expect(logger.lines).toEqual([
      {
        level: 'error',
        message: 'audit sink failed',
        data: { event: 'LOGOUT', requestId: 'r-9', error: 'disk full' },
      },
    ]);
  });
});

describe('log lines of a failed request', () => {
  it('the 500 line carries the requestId', () => {
    const logger = collectingLogger();
    const response = errorResponse(new Error('bug'), createRequestFailureLog({ logger }), 'r-500');
    expect(response.status).toBe(500);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'error',
      message: 'request failed',
      data: { requestId: 'r-500', error: 'Error: bug' },
    });
  });

  it('the first 503 line of an outage carries its requestId; the summary lines, for many requests, none', () => {
    const logger = collectingLogger();
    const clock = new ManualClock();
    const failures = createRequestFailureLog({ logger, clock, schedule: () => () => {} });
    const down = new AuthError('SERVER_ERROR', undefined, { status: 503 });
    errorResponse(down, failures, 'r-first');
    clock.advance(5_000);
    errorResponse(down, failures, 'r-second');
    clock.advance(5_000);
    errorResponse(down, failures, 'r-third');
    expect(logger.lines.map((l) => [l.message, l.data?.['requestId']])).toEqual([
      ['requests failing: service unavailable (503)', 'r-first'],
      ['requests still failing: service unavailable (503)', undefined],
    ]);
  });

  it('without a requestId the 500 line has no requestId key', () => {
    const logger = collectingLogger();
    errorResponse(new Error('bug'), createRequestFailureLog({ logger }));
    expect(logger.lines[0]?.data).not.toHaveProperty('requestId');
  });
});

describe('the framework-neutral routes', () => {
  async function loginAs(request: Partial<HttpRequest>, requestId?: false) {
    const made = makeAuth({ rateLimits: { login: false } });
    await registerUser(made.auth);
    const http = createAuthHttp(made.auth, requestId === false ? { requestId: false } : {});
    const login = http.routes.find((r) => r.path === '/api/auth/login')!;
    const full: HttpRequest = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ip: '127.0.0.1',
      body: Buffer.from(JSON.stringify({ email: 'ada@example.com', password: 'wrong one!' })),
      ...request,
    };
    const response = await login.handle(full);
    return { ...made, response, request: full };
  }

  it('make an id for a request an adapter gave none, put it on the response and in the audit event', async () => {
    const { response, request, events } = await loginAs({});
    const id = response.headers['x-request-id'];
    expect(id).toMatch(UUID);
    expect(request.requestId).toBe(id);
    expect(events.find((e) => e.event === 'LOGIN_FAILED')?.requestId).toBe(id);
  });

  it('take a valid incoming id from the headers', async () => {
    const { response, events } = await loginAs({
      headers: { 'content-type': 'application/json', 'x-request-id': 'edge-7' },
    });
    expect(response.headers['x-request-id']).toBe('edge-7');
    expect(events.find((e) => e.event === 'LOGIN_FAILED')?.requestId).toBe('edge-7');
  });

  it('replace an invalid id an adapter gave (never written to the header)', async () => {
    const { response } = await loginAs({ requestId: 'bad id\r\n' });
    expect(response.headers['x-request-id']).toMatch(UUID);
  });

  it('with requestId: false: no header, no requestId in the audit event', async () => {
    const { response, events } = await loginAs(
      { headers: { 'content-type': 'application/json', 'x-request-id': 'edge-7' } },
      false,
    );
    expect(response.headers).not.toHaveProperty('x-request-id');
    expect(events.find((e) => e.event === 'LOGIN_FAILED')).not.toHaveProperty('requestId');
  });
});

async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function signedIn() {
  const made = makeAuth({ policy: seedPolicy, rateLimits: { login: false } });
  closers.push(() => made.auth.close());
  const user = await registerUser(made.auth);
  const { token } = await made.auth.login({ email: user.email, password: PASSWORD });
  return { ...made, user, token };
}

describe('Express', () => {
  async function start(options: Parameters<typeof gatehouseExpress>[1] = {}) {
    const made = await signedIn();
    const gate = gatehouseExpress(made.auth, options);
    const app = express();
    app.get('/early', (req, res) => {
      res.json({ requestId: gate.requestIdOf(req) ?? null });
    });
    app.use(gate.router);
    app.get('/api/orders', gate.authenticate(), (req, res) => {
      res.json({ requestId: req.requestId ?? null, asked: gate.requestIdOf(req) ?? null });
    });
    app.use(gate.notFound);
    app.use(gate.errorHandler);
    return { ...made, url: await listen(app) };
  }

  it('everyResponse: true: a granted request has the header, the same id as req.requestId', async () => {
    const { url, token } = await start({ requestId: { everyResponse: true } });
    const response = await fetch(`${url}/api/orders`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'edge-1' },
    });
    expect(response.headers.get('x-request-id')).toBe('edge-1');
    expect(await response.json()).toEqual({ requestId: 'edge-1', asked: 'edge-1' });
  });

  it('everyResponse: false (the default): a granted request gets no header and no id, a refusal still does', async () => {
    const { url, token } = await start();
    const granted = await fetch(`${url}/api/orders`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(granted.headers.get('x-request-id')).toBeNull();
    const body = (await granted.json()) as { requestId: string | null; asked: string };
    // Made only when the app asks for it.
    expect(body.requestId).toBeNull();
    expect(body.asked).toMatch(UUID);
    const refused = await fetch(`${url}/api/orders`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toMatch(UUID);
  });

  it('requestId: false: no header on any answer, req.requestId stays unset', async () => {
    const { url } = await start({ requestId: false });
    for (const path of ['/api/orders', '/nowhere', '/api/auth/me']) {
      const response = await fetch(`${url}${path}`, { headers: { 'x-request-id': 'edge-1' } });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.headers.get('x-request-id')).toBeNull();
    }
    const early = await fetch(`${url}/early`);
    expect(await early.json()).toEqual({ requestId: null });
  });

  it('a custom header is read and written', async () => {
    const { url } = await start({ requestId: { header: 'X-Correlation-Id' } });
    const response = await fetch(`${url}/nowhere`, { headers: { 'x-correlation-id': 'c-1' } });
    expect(response.headers.get('x-correlation-id')).toBe('c-1');
    expect(response.headers.get('x-request-id')).toBeNull();
  });

  it('gate.requestIdOf(req) gives an id on a route before gate.router too', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/early`, { headers: { 'x-request-id': 'edge-2' } });
    expect(await response.json()).toEqual({ requestId: 'edge-2' });
  });

  it('an id the app set on req.requestId before gatehouse is kept', async () => {
    const made = await signedIn();
    const gate = gatehouseExpress(made.auth);
    const app = express();
    app.use((req, _res, next) => {
      req.requestId = 'app-own-1';
      next();
    });
    app.use(gate.router);
    app.use(gate.notFound);
    app.use(gate.errorHandler);
    const response = await fetch(`${await listen(app)}/nowhere`);
    expect(response.headers.get('x-request-id')).toBe('app-own-1');
  });
});

describe('Fastify', () => {
  async function start(
    options: Omit<FastifyAdapterOptions, 'auth'> = {},
    fastifyOptions: { requestIdHeader?: string } = {},
  ) {
    const made = await signedIn();
    const app = Fastify(fastifyOptions);
    closers.push(() => app.close());
    await app.register(gatehouseFastify, { auth: made.auth, ...options });
    app.get('/api/orders', { preHandler: app.authenticate }, async (request) => ({
      requestId: request.id,
    }));
    await app.ready();
    return { ...made, app };
  }

  it('request.id is the id: a valid incoming one, so Fastify’s own log lines carry it too (everyResponse: true echoes it)', async () => {
    const { app, token } = await start({ requestId: { everyResponse: true } });
    const response = await app.inject({
      url: '/api/orders',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'edge-1' },
    });
    expect(response.headers['x-request-id']).toBe('edge-1');
    expect(response.json()).toEqual({ requestId: 'edge-1' });
  });

  it('by default request.id is still gatehouse’s id (for the log lines) though a granted response has no header', async () => {
    const { app, token } = await start();
    const response = await app.inject({
      url: '/api/orders',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'edge-2' },
    });
    expect(response.headers['x-request-id']).toBeUndefined();
    expect(response.json()).toEqual({ requestId: 'edge-2' });
    const made = await app.inject({
      url: '/api/orders',
      headers: { authorization: `Bearer ${token}` },
    });
    expect((made.json() as { requestId: string }).requestId).toMatch(UUID);
  });

  it('request.id is a new UUID for an invalid incoming id (never echoed; everyResponse: true)', async () => {
    const { app, token } = await start({ requestId: { everyResponse: true } });
    const response = await app.inject({
      url: '/api/orders',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'a'.repeat(129) },
    });
    const id = response.headers['x-request-id'];
    expect(id).toMatch(UUID);
    expect(response.json()).toEqual({ requestId: id });
  });

  it('everyResponse: false (the default): a granted request gets no header, a refusal does', async () => {
    const { app, token } = await start();
    const granted = await app.inject({
      url: '/api/orders',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(granted.headers['x-request-id']).toBeUndefined();
    const refused = await app.inject({ url: '/api/orders' });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['x-request-id']).toMatch(UUID);
  });

  it('requestId: false leaves Fastify’s own ids alone and writes no header', async () => {
    const { app, token } = await start({ requestId: false });
    const response = await app.inject({
      url: '/api/orders',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'edge-1' },
    });
    expect(response.headers['x-request-id']).toBeUndefined();
    expect((response.json() as { requestId: string }).requestId).toMatch(/^req-/);
    const refused = await app.inject({ url: '/api/orders' });
    expect(refused.headers['x-request-id']).toBeUndefined();
  });

  it('attack: an app with Fastify’s own requestIdHeader does not echo an invalid incoming id', async () => {
    const { app } = await start({}, { requestIdHeader: 'x-request-id' });
    const response = await app.inject({
      url: '/api/orders',
      headers: { 'x-request-id': 'abc def <script>' },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['x-request-id']).toMatch(UUID);
  });
});
