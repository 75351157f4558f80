// Routes stay guarded: every route of both example apps is either guarded (a middleware or
// preHandler carrying GUARD_MARK) or public on purpose (PUBLIC_MARK, Fastify's
// `config: { public: true }`), and no GET route changes the database. The apps are built in
// process on one PGlite database; each GET is called anonymously, as a user and as an admin, with
// real ids, and every table is compared before and after.

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import express, { type Express } from 'express';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouseExpress } from '../../adapters/express/index.js';
import { gatehouseFastify } from '../../adapters/fastify/index.js';
import { migrate, type Queryable } from '../../adapters/postgres/index.js';
import { createExampleContext, type ExampleContext } from '../../examples/common/context.js';
import { loadConfig } from '../../examples/common/env.js';
import { createLogger } from '../../examples/common/logger.js';
import { buildExpressApp } from '../../examples/express-api/app.js';
import { buildFastifyApp } from '../../examples/fastify-api/app.js';
import { type AuthRoute, createAuthHttp } from '../../src/http/index.js';
import { createAuth, isGuard, isPublic, markGuard, markPublic } from '../../src/index.js';
import { internalsOf } from '../../src/internal/handle.js';

/** One route as the check sees it. */
interface RouteEntry {
  method: string;
  path: string;
  guarded: boolean;
  public: boolean;
}

// ---------------------------------------------------------------------------------------------
// Express: walk app.router.stack, into mounted routers. A guard mounted with app.use/router.use
// (path '/') guards every later route of its stack.

type ExpressLayer = {
  name: string;
  rawPath?: unknown;
  handle: ((...args: unknown[]) => unknown) & { stack?: ExpressLayer[] };
  route?: { path: string; methods: Record<string, boolean>; stack: ExpressLayer[] };
};

/**
 * Middleware mounted for the whole app that answers nothing of its own, by name, with why it is
 * allowed and how many times. Anything else unmarked that is not a route (an
 * `app.use('/admin', handler)`, a second anonymous middleware) counts as an unguarded endpoint.
 */
const EXPRESS_PASS_THROUGH: Record<string, { why: string; times: number }> = {
  '<anonymous>': { why: "the example's request logger (calls next, logs on finish)", times: 1 },
  notFound: { why: "gatehouse's NOT_FOUND for unmatched requests", times: 1 },
};

function expressEntries(app: Express): { routes: RouteEntry[]; unmarkedMiddleware: string[] } {
  const routes: RouteEntry[] = [];
  const unmarkedMiddleware: string[] = [];
  const passThroughSeen = new Map<string, number>();
  const walk = (stack: ExpressLayer[], base: string, inherited: { guarded: boolean }) => {
    const state = { ...inherited };
    for (const layer of stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      if (layer.route) {
        const handles = layer.route.stack.map((l) => l.handle);
        for (const method of Object.keys(layer.route.methods)) {
          routes.push({
            method: method.toUpperCase(),
            path: `${base}${layer.route.path}`,
            guarded: state.guarded || handles.some(isGuard),
            public: handles.some(isPublic),
          });
        }
      } else if (Array.isArray(layer.handle.stack)) {
        walk(layer.handle.stack, `${base}${mount}`, state);
      } else if (layer.handle.length === 4) {
        // An error handler answers only errors of earlier layers.
      } else if (isGuard(layer.handle) || isPublic(layer.handle)) {
        // A guard mounted for the whole stack guards every later route; a public mark never
        // spreads: public is decided route by route.
        if (mount === '') state.guarded ||= isGuard(layer.handle);
        // A marked middleware that answers by itself (a static file server) is a route too.
        routes.push({
          method: 'USE',
          path: `${base}${mount || '/'}`,
          guarded: isGuard(layer.handle),
          public: isPublic(layer.handle),
        });
      } else {
        const seen = (passThroughSeen.get(layer.name) ?? 0) + 1;
        passThroughSeen.set(layer.name, seen);
        const allowed = Object.hasOwn(EXPRESS_PASS_THROUGH, layer.name)
          ? EXPRESS_PASS_THROUGH[layer.name]!.times
          : 0;
        if (mount !== '' || seen > allowed) {
          unmarkedMiddleware.push(`${layer.name} at ${base}${mount || '/'}`);
        }
      }
    }
  };
  walk((app as unknown as { router: { stack: ExpressLayer[] } }).router.stack, '', {
    guarded: false,
  });
  return { routes, unmarkedMiddleware };
}

// ---------------------------------------------------------------------------------------------
// Fastify: an onRoute hook added as soon as an instance exists (Fastify's documented
// 'fastify.initialization' diagnostics channel), before any plugin or route.

function fastifyEntry(route: RouteOptions): RouteEntry[] {
  const hooks = [route.onRequest, route.preValidation, route.preHandler, route.handler]
    .flat()
    .filter(Boolean);
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods.map((method) => ({
    method,
    path: route.url,
    guarded: hooks.some(isGuard),
    public:
      (route.config as { public?: boolean } | undefined)?.public === true || hooks.some(isPublic),
  }));
}

async function collectFastifyRoutes<T extends FastifyInstance>(
  build: () => Promise<T>,
): Promise<{ app: T; routes: RouteEntry[] }> {
  const routes: RouteEntry[] = [];
  const onInit = (message: unknown) => {
    (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route) => {
      routes.push(...fastifyEntry(route));
    });
  };
  subscribe('fastify.initialization', onInit);
  try {
    const app = await build();
    await app.ready();
    return { app, routes };
  } finally {
    unsubscribe('fastify.initialization', onInit);
  }
}

function unguarded(routes: RouteEntry[]): string[] {
  return routes.filter((r) => !r.guarded && !r.public).map((r) => `${r.method} ${r.path}`);
}

// ---------------------------------------------------------------------------------------------
// The database snapshot: every row of every table of the public schema.

async function snapshot(client: Queryable): Promise<Record<string, string[]>> {
  const { rows } = await client.query(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    [],
  );
  const tables: Record<string, string[]> = {};
  for (const { tablename } of rows as { tablename: string }[]) {
    const result = await client.query(`SELECT * FROM "${tablename.replaceAll('"', '""')}"`, []);
    tables[tablename] = (result.rows as unknown[]).map((row) => JSON.stringify(row)).sort();
  }
  return tables;
}

function changedTables(
  before: Record<string, string[]>,
  after: Record<string, string[]>,
): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter(
    (name) => JSON.stringify(before[name] ?? null) !== JSON.stringify(after[name] ?? null),
  );
}

const ORDERS_TABLE = `CREATE TABLE IF NOT EXISTS orders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  total numeric(12, 2) NOT NULL CHECK (total >= 0),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'cancelled')),
  created_at timestamptz NOT NULL DEFAULT now()
)`;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function json(
  url: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const ADMIN = { email: 'guard-admin@example.com', password: 'obsidian walrus harmonica' };
const USER = { email: 'guard-user@example.com', password: 'meadow pylon saxophone', name: 'User' };

describe('routes stay guarded (both example apps)', () => {
  let lite: PGlite;
  let ctx: ExampleContext;
  let expressApp: Express;
  let expressServer: Server;
  let fastifyApp: FastifyInstance;
  let fastifyRoutes: RouteEntry[];
  const urls = { express: '', fastify: '' };
  const ids = { admin: '', user: '', order: '' };
  const tokens = { admin: '', user: '' };

  beforeAll(async () => {
    lite = new PGlite();
    await migrate(lite, { roles: ['user', 'admin'] });
    await lite.query(ORDERS_TABLE, []);
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      JWT_SECRET: 'a-routes-guarded-test-secret-of-more-than-32-bytes',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      AUTH_LOGIN_RATE_LIMIT: '1000/min',
      AUTH_REGISTER_RATE_LIMIT: '1000/min',
    });
    ctx = await createExampleContext(config, {
      logger: createLogger('silent'),
      database: { client: lite, embedded: false, close: () => lite.close() },
    });
    expressApp = buildExpressApp(ctx);
    expressServer = expressApp.listen(0, '127.0.0.1');
    urls.express = await listen(expressServer);
    const collected = await collectFastifyRoutes(() => buildFastifyApp(ctx));
    fastifyApp = collected.app;
    fastifyRoutes = collected.routes;
    await fastifyApp.listen({ port: 0, host: '127.0.0.1' });
    urls.fastify = `http://127.0.0.1:${(fastifyApp.server.address() as AddressInfo).port}`;

    const registered = await json(`${urls.express}/api/auth/register`, { body: USER });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    ids.user = String((registered.body['user'] as { id: string }).id);
    for (const who of ['admin', 'user'] as const) {
      const credentials = who === 'admin' ? ADMIN : USER;
      const login = await json(`${urls.express}/api/auth/login`, { body: credentials });
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      tokens[who] = String(login.body['token']);
      if (who === 'admin') ids.admin = String((login.body['user'] as { id: string }).id);
    }
    const order = await json(`${urls.express}/api/orders`, {
      token: tokens.user,
      body: { total: '12.50' },
    });
    expect(order.status, JSON.stringify(order.body)).toBe(201);
    ids.order = String((order.body['order'] as { id: string }).id);
  }, 120_000);

  afterAll(async () => {
    expressServer?.closeAllConnections();
    await new Promise<void>((resolve) =>
      expressServer ? expressServer.close(() => resolve()) : resolve(),
    );
    await fastifyApp?.close();
    await ctx?.close().catch(() => {});
  });

  describe('every route has a guard or an explicit public mark', () => {
    it('Express example: no route, router or answering middleware without a guard or a public mark', () => {
      const { routes, unmarkedMiddleware } = expressEntries(expressApp);
      // The walk saw the app's own routes and both gatehouse routers (bearer and cookie mode).
      expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
        expect.arrayContaining([
          'POST /api/auth/login',
          'GET /api/auth/me',
          'POST /app/api/auth/login',
          'GET /app/api/auth/csrf',
          'GET /api/users/:id',
          'DELETE /api/users/:id',
          'GET /api/orders',
          'USE /',
        ]),
      );
      expect(unguarded(routes)).toEqual([]);
      expect(unmarkedMiddleware).toEqual([]);
    });

    it('Fastify example: no route without a guard or a public mark', () => {
      expect(fastifyRoutes.map((r) => `${r.method} ${r.path}`)).toEqual(
        expect.arrayContaining([
          'POST /api/auth/login',
          'GET /api/auth/me',
          'GET /.well-known/jwks.json',
          'GET /api/users/:id',
          'PUT /api/users/:id',
          'POST /api/orders',
        ]),
      );
      expect(unguarded(fastifyRoutes)).toEqual([]);
    });

    it("gatehouse's own routes are public exactly where anyone may call them, and the others refuse an anonymous caller (401)", async () => {
      const bearer = createAuthHttp(ctx.auth).routes;
      const cookie = createAuthHttp(ctx.cookieAuth, { prefix: '/app/api/auth' }).routes;
      const named = (routes: AuthRoute[]) => routes.map((r) => `${r.method} ${r.path}`).sort();
      // The account-recovery routes exist when the app configures a mailer: forgot, reset and
      // verify are for anyone holding an email or a link; resend needs the caller.
      const withMail = internalsOf(ctx.auth).config.mail !== undefined;
      const recovery = (prefix: string) =>
        withMail
          ? ['password/forgot', 'password/reset', 'email/verify'].map((p) => `POST ${prefix}/${p}`)
          : [];
      // The second factor's routes exist when the app configures `mfa`: the code step of a
      // login is for anyone holding a challenge; status, enroll, confirm, recovery-codes and
      // disable need the caller (enroll/confirm without a body's enrolment challenge).
      const withMfa = internalsOf(ctx.auth).config.mfa !== undefined;
      const mfa = (prefix: string) => (withMfa ? [`POST ${prefix}/mfa/verify`] : []);
      expect(named(bearer.filter((r) => r.public))).toEqual(
        [
          'GET /.well-known/jwks.json',
          'POST /api/auth/login',
          'POST /api/auth/refresh',
          'POST /api/auth/register',
          ...recovery('/api/auth'),
          ...mfa('/api/auth'),
        ].sort(),
      );
      expect(named(cookie.filter((r) => r.public))).toEqual(
        [
          'GET /.well-known/jwks.json',
          'GET /app/api/auth/csrf',
          'POST /app/api/auth/login',
          'POST /app/api/auth/refresh',
          'POST /app/api/auth/register',
          ...recovery('/app/api/auth'),
          ...mfa('/app/api/auth'),
        ].sort(),
      );
      const calls = [
        ...bearer.map((route) => ({ route, base: urls.express })),
        ...bearer.map((route) => ({ route, base: urls.fastify })),
        ...cookie.map((route) => ({ route, base: urls.express })),
      ].filter(({ route }) => !route.public);
      // logout, logout-all, me, password (and email/resend with a mailer), on three mounts, and
      // the cookie mount's refresh/logout (it authenticates by the refresh cookie).
      // Always: GET sessions, DELETE sessions/:id, POST sessions/revoke-others and POST
      // account/delete, on the three mounts.
      // With mfa: GET mfa, POST mfa/totp/enroll, mfa/totp/confirm, mfa/recovery-codes and
      // DELETE mfa/totp, on the three mounts.
      expect(calls.length).toBe((withMail ? 16 : 13) + 12 + (withMfa ? 15 : 0));
      for (const { route, base } of calls) {
        const res = await json(`${base}${route.path}`, {
          method: route.method,
          ...(route.method === 'GET' ? {} : { body: {} }),
        });
        expect({ route: `${route.method} ${route.path}`, ...res }).toMatchObject({
          status: 401,
          body: { code: 'UNAUTHENTICATED' },
        });
      }
    });
  });

  describe('no GET route changes state', () => {
    function pathsToCall(path: string): string[] {
      if (!path.includes(':')) return [path];
      return [ids.user, ids.admin, ids.order, '00000000-0000-4000-8000-000000000000'].map((id) =>
        path.replace(/:[A-Za-z]+/g, id),
      );
    }

    /**
     * Calls every GET (and HEAD) route of `routes` anonymously, as the user and as the admin,
     * with each real id for `:id`, and fails naming the first route after which a table differs.
     * Returns `METHOD path status` of every call.
     */
    async function callGetsAndCompareTables(base: string, routes: RouteEntry[]): Promise<string[]> {
      const statuses: string[] = [];
      for (const route of routes) {
        if (!['GET', 'HEAD', 'USE'].includes(route.method)) continue;
        const method = route.method === 'USE' ? 'GET' : route.method;
        const paths = route.method === 'USE' ? ['/', '/index.html'] : pathsToCall(route.path);
        const before = await snapshot(lite);
        for (const path of paths) {
          for (const token of [undefined, tokens.user, tokens.admin]) {
            const res = await fetch(`${base}${path}`, {
              method,
              headers: token ? { authorization: `Bearer ${token}` } : {},
            });
            await res.arrayBuffer();
            statuses.push(`${method} ${path} ${res.status}`);
          }
        }
        const after = await snapshot(lite);
        expect(
          changedTables(before, after),
          `${route.method} ${route.path} changed tables`,
        ).toEqual([]);
      }
      return statuses;
    }

    it('Express example: every GET route, as anonymous, user and admin, leaves every table as it was', async () => {
      const statuses = await callGetsAndCompareTables(
        urls.express,
        expressEntries(expressApp).routes,
      );
      // The calls reached the handlers, not only guards: the user reads itself, the admin anyone.
      expect(statuses).toEqual(
        expect.arrayContaining([
          `GET /api/users/${ids.user} 200`,
          `GET /api/users/${ids.admin} 403`,
          'GET /api/orders 200',
          'GET /api/auth/me 200',
          'GET / 200',
        ]),
      );
    });

    it('Fastify example: every GET and HEAD route, as anonymous, user and admin, leaves every table as it was', async () => {
      const statuses = await callGetsAndCompareTables(urls.fastify, fastifyRoutes);
      expect(statuses).toEqual(
        expect.arrayContaining([
          `GET /api/users/${ids.user} 200`,
          `HEAD /api/users/${ids.user} 200`,
          'GET /api/orders 200',
          'GET /api/auth/me 200',
        ]),
      );
    });

    it('a GET route that writes to the database is caught by the table snapshot (the check can fail)', async () => {
      const app = express();
      app.get(
        '/api/visits',
        markGuard((_req, _res, next) => next()),
        async (_req, res) => {
          await lite.query("UPDATE users SET name = name || '!' WHERE email = $1", [USER.email]);
          res.end();
        },
      );
      const server = app.listen(0, '127.0.0.1');
      const base = await listen(server);
      try {
        await expect(callGetsAndCompareTables(base, expressEntries(app).routes)).rejects.toThrow(
          /GET \/api\/visits changed tables/,
        );
      } finally {
        server.close();
      }
    });
  });

  describe('the guard check itself catches what it is for', () => {
    it('an Express route added without a guard (or a public mark) is reported', () => {
      const gate = gatehouseExpress(createAuth());
      const app = express();
      app.use(gate.router);
      app.get('/api/guarded', gate.authenticate(), (_req, res) => res.end());
      app.get('/api/open-on-purpose', gate.publicRoute, (_req, res) => res.end());
      app.get('/api/forgotten', (_req, res) => res.end());
      app.use('/admin', (_req, res) => res.end('admin panel'));
      // A public static server does not open the routes after it.
      app.use(markPublic(express.static('/nonexistent')));
      app.get('/api/after-static', (_req, res) => res.end());
      const { routes, unmarkedMiddleware } = expressEntries(app);
      expect(unguarded(routes)).toEqual(['GET /api/forgotten', 'GET /api/after-static']);
      expect(unmarkedMiddleware).toEqual(['<anonymous> at /admin']);
    });

    it('an Express guard mounted for a whole router guards the routes after it, not before', () => {
      const gate = gatehouseExpress(createAuth());
      const app = express();
      const admin = express.Router();
      admin.get('/before', (_req, res) => res.end());
      admin.use(gate.authenticate());
      admin.get('/after', (_req, res) => res.end());
      app.use('/admin', admin);
      app.get('/outside', (_req, res) => res.end());
      expect(unguarded(expressEntries(app).routes)).toEqual(['GET /admin/before', 'GET /outside']);
    });

    it('a Fastify route added without a guard (or a public mark) is reported', async () => {
      const { app, routes } = await collectFastifyRoutes(async () => {
        const instance = Fastify();
        await instance.register(gatehouseFastify, { auth: createAuth() });
        instance.get('/api/guarded', { preHandler: instance.authenticate }, async () => ({}));
        instance.get('/api/open', { config: { public: true } }, async () => ({}));
        instance.get('/api/forgotten', async () => ({}));
        return instance;
      });
      try {
        expect(unguarded(routes)).toEqual(['GET /api/forgotten', 'HEAD /api/forgotten']);
      } finally {
        await app.close();
      }
    });
  });
});
