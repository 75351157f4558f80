// The adapters' authenticate path under load (issue 13): a warm token is answered in the same turn
// (no promise, no microtask), nothing is computed that a granted request does not need (cookies
// beside a Bearer header, the raw header list without an Authorization header, the audit
// context, the client IP), and a routine refusal builds no stack trace, while an unexpected
// error keeps its stack.
import { execFileSync } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gatehouseExpress } from '../../../adapters/express/index.js';
import { gatehouseFastify } from '../../../adapters/fastify/index.js';
import { extractAccessToken } from '../../../src/http/access-token-source.js';
import { createAuthHttp } from '../../../src/http/auth-routes.js';
import { isValidRequestId, newRequestId } from '../../../src/http/request-id.js';
import { AuthError, type AuthOptions, seedPolicy } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';

// Counts cookie parsing: a request carrying a Bearer header must never pay for it.
const cookieParses = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../src/http/cookies.js', async (importOriginal) => {
  const cookies = await importOriginal<typeof import('../../../src/http/cookies.js')>();
  return {
    ...cookies,
    parseCookies: (...args: Parameters<typeof cookies.parseCookies>) => {
      cookieParses.count++;
      return cookies.parseCookies(...args);
    },
  };
});

let closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

async function signedIn(options: AuthOptions = {}) {
  const made = makeAuth({ policy: seedPolicy, ...options });
  const user = await registerUser(made.auth);
  const { token } = await made.auth.login({ email: user.email, password: PASSWORD });
  return { ...made, user, token };
}

/** The fields of an Express request the middleware reads (it is called directly here). */
function expressRequest(token: string): express.Request {
  return {
    method: 'GET',
    headers: { authorization: `Bearer ${token}` },
    rawHeaders: ['Authorization', `Bearer ${token}`],
    socket: { remoteAddress: '127.0.0.1' },
    params: {},
  } as unknown as express.Request;
}

/** The fields of a Fastify request the preHandler reads (it is called directly here). */
function fastifyRequest(token: string): FastifyRequest {
  return {
    method: 'GET',
    headers: { authorization: `Bearer ${token}` },
    raw: { rawHeaders: ['Authorization', `Bearer ${token}`] },
    ip: '127.0.0.1',
    auth: null,
    params: {},
  } as unknown as FastifyRequest;
}

type Middleware = (
  req: express.Request,
  res: express.Response,
  next: (err?: unknown) => void,
) => void;

/** Calls an Express middleware; `sync` says whether next() ran before the call returned. */
async function callExpress(middleware: Middleware, req: express.Request) {
  let calledWith: unknown[] | null = null;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  middleware(req, {} as express.Response, (...args: unknown[]) => {
    calledWith = args;
    settle();
  });
  const sync = calledWith !== null;
  await settled;
  return { sync, error: (calledWith as unknown[] | null)?.[0] };
}

async function fastifyApp(made: Awaited<ReturnType<typeof signedIn>>) {
  const app = Fastify();
  closers.push(() => app.close());
  await app.register(gatehouseFastify, { auth: made.auth });
  await app.ready();
  return app;
}

type Hook = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;

/** Calls a Fastify preHandler; `sync` says whether done() ran before the call returned. */
async function callFastify(app: FastifyInstance, hook: unknown, request: FastifyRequest) {
  let calledWith: unknown[] | null = null;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  (hook as Hook).call(app, request, {} as FastifyReply, (...args: unknown[]) => {
    calledWith = args;
    settle();
  });
  const sync = calledWith !== null;
  await settled;
  return { sync, error: (calledWith as unknown[] | null)?.[0] };
}

describe('warm token: answered in the same turn', () => {
  it('Express authenticate(): a cache hit calls next() synchronously, without a microtask turn', async () => {
    const made = await signedIn();
    const authenticate = gatehouseExpress(made.auth).authenticate() as unknown as Middleware;
    const first = expressRequest(made.token);
    // The first request verifies the signature and reads the session from the store.
    expect((await callExpress(authenticate, first)).error).toBeUndefined();
    const warm = expressRequest(made.token);
    const result = await callExpress(authenticate, warm);
    expect(result).toEqual({ sync: true, error: undefined });
    expect(warm.auth).toMatchObject({ userId: made.user.id, role: 'user' });
  });

  it('Express authorize() on an own record: a cache hit and a plain loader call next() synchronously', async () => {
    const made = await signedIn();
    const gate = gatehouseExpress(made.auth);
    const authorize = gate.authorize('users:read', {
      resource: (req) => ({ id: req.params['id'] }),
    }) as unknown as Middleware;
    await callExpress(gate.authenticate() as unknown as Middleware, expressRequest(made.token));
    const req = Object.assign(expressRequest(made.token), { params: { id: made.user.id } });
    const result = await callExpress(authorize, req);
    expect(result).toEqual({ sync: true, error: undefined });
    expect(req.authResource).toEqual({ id: made.user.id });
  });

  it('Fastify authenticate: a cache hit calls done() synchronously, without a promise', async () => {
    const made = await signedIn();
    const app = await fastifyApp(made);
    expect((await callFastify(app, app.authenticate, fastifyRequest(made.token))).error).toBe(
      undefined,
    );
    const warm = fastifyRequest(made.token);
    const result = await callFastify(app, app.authenticate, warm);
    expect(result).toEqual({ sync: true, error: undefined });
    expect(warm.auth).toMatchObject({ userId: made.user.id });
  });

  it('Fastify authorize on an own record: a cache hit and a plain loader call done() synchronously', async () => {
    const made = await signedIn();
    const app = await fastifyApp(made);
    await callFastify(app, app.authenticate, fastifyRequest(made.token));
    const hook = app.authorize('users:read', {
      resource: (request) => ({ id: (request.params as { id: string }).id }),
    });
    const request = Object.assign(fastifyRequest(made.token), { params: { id: made.user.id } });
    const result = await callFastify(app, hook, request);
    expect(result).toEqual({ sync: true, error: undefined });
    expect(request.authResource).toEqual({ id: made.user.id });
  });

  it('a session state read from the store every time (revocationCacheTtl 0) still authenticates, through a promise', async () => {
    const made = await signedIn({ tokens: { revocationCacheTtl: 0 } });
    const authenticate = gatehouseExpress(made.auth).authenticate() as unknown as Middleware;
    await callExpress(authenticate, expressRequest(made.token));
    const req = expressRequest(made.token);
    const result = await callExpress(authenticate, req);
    expect(result).toEqual({ sync: false, error: undefined });
    expect(req.auth).toMatchObject({ userId: made.user.id });
  });

  it('a revoked session is refused on the synchronous path too (logout, then the same warm token)', async () => {
    const made = await signedIn();
    const authenticate = gatehouseExpress(made.auth).authenticate() as unknown as Middleware;
    await callExpress(authenticate, expressRequest(made.token));
    expect((await callExpress(authenticate, expressRequest(made.token))).sync).toBe(true);
    await made.auth.logout((await made.auth.verifyAccessToken(made.token)).sessionId);
    const { error } = await callExpress(authenticate, expressRequest(made.token));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('TOKEN_INVALID');
  });

  it('auth.verifyAccessToken stays a promise on a cache hit, and rejects (never throws) a bad token', async () => {
    const made = await signedIn();
    await made.auth.verifyAccessToken(made.token);
    const hit = made.auth.verifyAccessToken(made.token);
    expect(hit).toBeInstanceOf(Promise);
    await expect(hit).resolves.toMatchObject({ userId: made.user.id });
    const refused = made.auth.verifyAccessToken('not.a.token');
    expect(refused).toBeInstanceOf(Promise);
    await expect(refused).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });
});

describe('the warm path keeps every check', () => {
  it('attack: a warm token sent in two Authorization headers is still refused with VALIDATION_ERROR', async () => {
    const made = await signedIn();
    const authenticate = gatehouseExpress(made.auth).authenticate() as unknown as Middleware;
    await callExpress(authenticate, expressRequest(made.token));
    const twice = Object.assign(expressRequest(made.token), {
      rawHeaders: ['Authorization', `Bearer ${made.token}`, 'authorization', 'Bearer other'],
    });
    const { error } = await callExpress(authenticate, twice);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'authorization' } });
  });

  it("attack: a tampered payload under a cached token's signature is verified in full and refused; the cached token still works", async () => {
    const made = await signedIn();
    await made.auth.verifyAccessToken(made.token);
    const [header, payload, signature] = made.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const tampered = `${header}.${forged}.${signature}`;
    const err = await made.auth.verifyAccessToken(tampered).then(
      () => null,
      (e: unknown) => e as AuthError,
    );
    expect(err?.code).toBe('TOKEN_INVALID');
    expect(((err as AuthError).cause as Error).message).toBe('bad_signature');
    // Through the adapter too, where the warm path looks the cache up first.
    const authenticate = gatehouseExpress(made.auth).authenticate() as unknown as Middleware;
    const refused = await callExpress(authenticate, expressRequest(tampered));
    expect((refused.error as AuthError).code).toBe('TOKEN_INVALID');
    const warm = expressRequest(made.token);
    expect(await callExpress(authenticate, warm)).toEqual({ sync: true, error: undefined });
    expect(warm.auth?.role).toBe('user');
  });

  it('a warm token past its expiry is refused with TOKEN_EXPIRED on the synchronous path', async () => {
    const made = await signedIn();
    const authenticate = gatehouseExpress(made.auth).authenticate() as unknown as Middleware;
    await callExpress(authenticate, expressRequest(made.token));
    made.clock.advance(16 * 60_000);
    const { sync, error } = await callExpress(authenticate, expressRequest(made.token));
    expect(sync).toBe(true);
    expect((error as AuthError).code).toBe('TOKEN_EXPIRED');
  });
});

describe('nothing computed that a granted request does not need', () => {
  it('cookie mode: a request with a Bearer header never has its cookies parsed', async () => {
    const made = await signedIn({
      cookies: { insecureDevelopment: true, trustedOrigins: ['http://localhost:3000'] },
    });
    const http = createAuthHttp(made.auth);
    const headers = { authorization: `Bearer ${made.token}`, cookie: 'a=1; b=2' };
    cookieParses.count = 0;
    const principal = await http.authenticate({
      method: 'GET',
      headers,
      rawHeaders: Object.entries(headers).flat(),
      ip: '127.0.0.1',
    });
    expect(principal?.userId).toBe(made.user.id);
    expect(cookieParses.count).toBe(0);
    // Without the header, the access cookie is looked for (and the cookies parsed once).
    await http.authenticate(
      { method: 'GET', headers: { cookie: 'a=1' }, ip: '127.0.0.1' },
      {
        optional: true,
      },
    );
    expect(cookieParses.count).toBe(1);
  });

  it('a request without an Authorization header never scans the raw header list', () => {
    const untouchable = new Proxy([] as string[], {
      get() {
        throw new Error('rawHeaders was read');
      },
    });
    expect(extractAccessToken({ headers: {}, rawHeaders: untouchable }, null, null)).toBeNull();
  });

  it('authorize() on an own record: a granted request builds no audit context (the client IP is never resolved); a refused one does', async () => {
    const made = await signedIn();
    const gate = gatehouseExpress(made.auth);
    const app = express();
    // Express resolves req.ip through the trust function when X-Forwarded-For is present: each
    // call means something computed the client IP.
    let ipResolutions = 0;
    app.set('trust proxy', () => {
      ipResolutions++;
      return false;
    });
    app.get(
      '/api/users/:id',
      gate.authenticate(),
      gate.authorize('users:read', { resource: (req) => ({ id: req.params.id }) }),
      (req, res) => {
        res.json({ success: true, user: req.authResource });
      },
    );
    app.use(gate.errorHandler);
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const headers = { authorization: `Bearer ${made.token}`, 'x-forwarded-for': '203.0.113.9' };

    for (let i = 0; i < 3; i++) {
      const own = await fetch(`${url}/api/users/${made.user.id}`, { headers });
      expect(own.status).toBe(200);
    }
    expect(ipResolutions).toBe(0);
    expect(made.events.filter((e) => e.event === 'ACCESS_DENIED')).toHaveLength(0);

    const other = await fetch(`${url}/api/users/someone-else`, { headers });
    expect(other.status).toBe(403);
    expect(ipResolutions).toBeGreaterThan(0);
    const denied = made.events.filter((e) => e.event === 'ACCESS_DENIED');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ userId: made.user.id, ip: '127.0.0.1' });
  });
});

describe('Express: req.auth and req.authResource add no property to the request', () => {
  async function serve(app: express.Express) {
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('an Express request reads both through accessors, not own properties, and they keep each request apart', async () => {
    const made = await signedIn();
    const gate = gatehouseExpress(made.auth);
    const app = express();
    const seen: unknown[] = [];
    app.get(
      '/api/users/:id',
      gate.authenticate(),
      gate.authorize('users:read', { resource: (req) => ({ id: req.params.id }) }),
      (req, res) => {
        seen.push({
          own: Object.hasOwn(req, 'auth') || Object.hasOwn(req, 'authResource'),
          userId: req.auth?.userId,
          resource: req.authResource,
        });
        res.json({ ok: true });
      },
    );
    app.get('/api/open', (req, res) => {
      // Another request, no guard: nothing of the previous request shows through.
      res.json({ auth: req.auth ?? 'unset', resource: req.authResource ?? 'unset' });
    });
    app.use(gate.errorHandler);
    const url = await serve(app);
    const headers = { authorization: `Bearer ${made.token}` };
    expect((await fetch(`${url}/api/users/${made.user.id}`, { headers })).status).toBe(200);
    expect(seen).toEqual([{ own: false, userId: made.user.id, resource: { id: made.user.id } }]);
    expect(await (await fetch(`${url}/api/open`, { headers })).json()).toEqual({
      auth: 'unset',
      resource: 'unset',
    });
  });

  it('a value set by a guard inside a sub-app is still there in the parent app after it', async () => {
    const made = await signedIn();
    const gate = gatehouseExpress(made.auth);
    const parent = express();
    const child = express();
    child.use(gate.authenticate());
    child.use((_req, _res, next) => next());
    parent.use('/api', child);
    parent.get('/api/me', (req, res) => {
      res.json({ userId: req.auth?.userId ?? null });
    });
    const url = await serve(parent);
    const response = await fetch(`${url}/api/me`, {
      headers: { authorization: `Bearer ${made.token}` },
    });
    expect(await response.json()).toEqual({ userId: made.user.id });
  });

  it('an app may set req.auth itself (another middleware): the guards read what it set', async () => {
    const made = await signedIn();
    const gate = gatehouseExpress(made.auth);
    const app = express();
    app.get(
      '/api/orders',
      gate.authenticate(),
      (req, _res, next) => {
        req.auth = { ...req.auth!, role: 'admin' };
        next();
      },
      (req, res) => {
        res.json({ role: req.auth?.role });
      },
    );
    const url = await serve(app);
    const response = await fetch(`${url}/api/orders`, {
      headers: { authorization: `Bearer ${made.token}` },
    });
    expect(await response.json()).toEqual({ role: 'admin' });
  });

  it('a request that is not an Express request (a plain object) gets own properties', async () => {
    const made = await signedIn();
    const req = expressRequest(made.token);
    const authenticate = gatehouseExpress(made.auth).authenticate() as unknown as Middleware;
    await callExpress(authenticate, req);
    expect(Object.hasOwn(req, 'auth')).toBe(true);
    expect(req.auth?.userId).toBe(made.user.id);
  });
});

describe('routine refusals carry no stack; unexpected errors keep theirs', () => {
  it('a routine token rejection (invalid token) carries no stack, yet stays an AuthError with its code and cause', async () => {
    const made = await signedIn();
    const err = await made.auth.verifyAccessToken('not.a.token').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthError);
    expect(err).toMatchObject({ code: 'TOKEN_INVALID', status: 401 });
    expect(((err as Error).cause as Error).message).toBe('malformed');
    expect((err as Error).stack).not.toMatch(/\n\s+at /);
    expect(((err as Error).cause as Error).stack).not.toMatch(/\n\s+at /);
  });

  it('a request without a token (UNAUTHENTICATED) and a malformed Bearer header carry no stack', async () => {
    const made = await signedIn();
    const authenticate = gatehouseExpress(made.auth).authenticate() as unknown as Middleware;
    const anonymous = { ...expressRequest(''), headers: {}, rawHeaders: [] } as never;
    const missing = (await callExpress(authenticate, anonymous)).error as AuthError;
    expect(missing).toBeInstanceOf(AuthError);
    expect(missing.code).toBe('UNAUTHENTICATED');
    expect(missing.stack).not.toMatch(/\n\s+at /);
    const malformed = (await callExpress(authenticate, expressRequest('a b'))).error as AuthError;
    expect(malformed.code).toBe('TOKEN_INVALID');
    expect(malformed.stack).not.toMatch(/\n\s+at /);
  });

  it('building routine errors leaves Error.stackTraceLimit as it was', async () => {
    const made = await signedIn();
    const before = Error.stackTraceLimit;
    await made.auth.verifyAccessToken('not.a.token').catch(() => {});
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('ordinary').stack).toMatch(/\n\s+at /);
  });

  it('an unexpected error in a resource loader still reaches the error handler and is logged with its stack (Express, handleAll)', async () => {
    const made = await signedIn();
    const gate = gatehouseExpress(made.auth, { errorHandler: { handleAll: true } });
    const app = express();
    app.get(
      '/api/users/:id',
      gate.authenticate(),
      gate.authorize('users:read', {
        resource: () => {
          throw new TypeError('loader bug: cannot read properties of undefined');
        },
      }),
      (_req, res) => {
        res.json({ success: true });
      },
    );
    app.use(gate.errorHandler);
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const response = await fetch(`${url}/api/users/${made.user.id}`, {
      headers: { authorization: `Bearer ${made.token}` },
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ success: false, code: 'SERVER_ERROR' });
    const line = made.logs.find((l) => l.level === 'error');
    expect(String(line?.data?.['error'])).toContain('loader bug');
    expect(String(line?.data?.['stack'])).toContain('hot-path.test.ts');
  });

  it('an unexpected error in a resource loader goes on to the Fastify app with its stack', async () => {
    const made = await signedIn();
    const app = Fastify();
    closers.push(() => app.close());
    await app.register(gatehouseFastify, { auth: made.auth });
    const seen: Error[] = [];
    app.setErrorHandler((error, _request, reply) => {
      seen.push(error as Error);
      void reply.code(500).send({ mine: true });
    });
    app.get(
      '/api/users/:id',
      {
        preHandler: [
          app.authenticate,
          app.authorize('users:read', {
            resource: async () => {
              throw new TypeError('async loader bug');
            },
          }),
        ],
      },
      async () => ({ success: true }),
    );
    const response = await app.inject({
      method: 'GET',
      url: `/api/users/${made.user.id}`,
      headers: { authorization: `Bearer ${made.token}` },
    });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ mine: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.message).toBe('async loader bug');
    expect(seen[0]!.stack).toContain('hot-path.test.ts');
  });
});

describe('the warm lookup compares the whole Authorization header', () => {
  it('attack: only the exact `Bearer <token>` header of a cached token is a hit (longer, shorter, re-cased or padded headers are not)', async () => {
    const made = await signedIn();
    await made.auth.verifyAccessToken(made.token);
    const { verifyCachedBearer, verifyCachedAccessToken } = internalsOf(made.auth);
    expect(verifyCachedBearer(`Bearer ${made.token}`)).toMatchObject({ userId: made.user.id });
    for (const header of [
      `Bearer ${made.token}x`,
      `Bearer ${made.token.slice(0, -1)}`,
      `Bearer ${made.token.slice(1)}`,
      `bearer ${made.token}`,
      `Bearer  ${made.token}`,
      `Basic ${made.token}`,
      `Bearer ${made.token.replace('.', '_')}`,
    ]) {
      expect(verifyCachedBearer(header)).toBeUndefined();
    }
    // The token-only lookup compares the whole token too.
    expect(verifyCachedAccessToken(made.token)).toMatchObject({ userId: made.user.id });
    expect(verifyCachedAccessToken(`x${made.token}`)).toBeUndefined();
    expect(verifyCachedAccessToken(made.token.slice(1))).toBeUndefined();
  });

  it('attack: a token ending like a cached one (same cache key) is verified in full and refused, and does not evict the cached one', async () => {
    const made = await signedIn();
    await made.auth.verifyAccessToken(made.token);
    // Same last characters (the cache key), another signature prefix: a forgery.
    const [header, payload, signature] = made.token.split('.') as [string, string, string];
    const flipped = signature[0] === 'A' ? 'B' : 'A';
    const forged = `${header}.${payload}.${flipped}${signature.slice(1)}`;
    const authenticate = gatehouseExpress(made.auth).authenticate() as unknown as Middleware;
    const refused = await callExpress(authenticate, expressRequest(forged));
    expect((refused.error as AuthError).code).toBe('TOKEN_INVALID');
    const warm = expressRequest(made.token);
    expect(await callExpress(authenticate, warm)).toEqual({ sync: true, error: undefined });
  });
});

describe('request ids cost little and keep their checks', () => {
  it('the default generator makes valid, distinct, UUID-shaped ids: a random prefix of the process, then a counter', () => {
    const ids = Array.from({ length: 1000 }, () => newRequestId());
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9]{12}$/);
      expect(isValidRequestId(id)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
    // One prefix in this process, the counter after it going up by one.
    expect(new Set(ids.map((id) => id.slice(0, 24))).size).toBe(1);
    expect(Number(ids[999]!.slice(24)) - Number(ids[0]!.slice(24))).toBe(999);
  });

  it('the id prefix is random per process: another process draws another one', () => {
    const other = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./src/http/request-id.ts').then((m) => console.log(m.newRequestId()))",
      ],
      { encoding: 'utf8' },
    ).trim();
    expect(isValidRequestId(other)).toBe(true);
    expect(other.slice(0, 24)).not.toBe(newRequestId().slice(0, 24));
  });

  it('attack: an invalid request.id set by an earlier onRequest hook is replaced in X-Request-Id, never echoed (only the id genReqId made skips the check)', async () => {
    const made = await signedIn();
    const app = Fastify();
    closers.push(() => app.close());
    const bad = 'x'.repeat(129);
    app.addHook('onRequest', (request, _reply, next) => {
      if (request.headers['x-swap'] === '1') request.id = bad;
      next();
    });
    await app.register(gatehouseFastify, { auth: made.auth, requestId: { everyResponse: true } });
    app.get('/', { preHandler: app.authenticate }, async (request) => ({ id: request.id }));
    await app.ready();
    const headers = { authorization: `Bearer ${made.token}` };
    const plain = await app.inject({ method: 'GET', url: '/', headers });
    const plainId = plain.headers['x-request-id'] as string;
    expect(isValidRequestId(plainId)).toBe(true);
    expect(plain.json()).toEqual({ id: plainId });
    const swapped = await app.inject({
      method: 'GET',
      url: '/',
      headers: { ...headers, 'x-swap': '1' },
    });
    const swappedId = swapped.headers['x-request-id'] as string;
    expect(swappedId).not.toBe(bad);
    expect(isValidRequestId(swappedId)).toBe(true);
    expect(swapped.json()).toEqual({ id: swappedId });
    // A valid incoming id is still taken as it is.
    const incoming = await app.inject({
      method: 'GET',
      url: '/',
      headers: { ...headers, 'x-request-id': 'abc-123' },
    });
    expect(incoming.headers['x-request-id']).toBe('abc-123');
  });
});
