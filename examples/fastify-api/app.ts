import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { markGuard, type PublicUser, type RequestContext } from 'gatehouse';
import { contractFrameworkErrors, gatehouseFastify } from 'gatehouse/fastify';
import { MAX_BODY_BYTES, parseJsonBody } from 'gatehouse/http';
import type { ExampleContext } from '../common/context.js';
import { type Caller, exampleHandlers } from '../common/handlers.js';
import { livenessResponse, type OperationsResponse, readinessResponse } from '../common/health.js';
import {
  answerClientError,
  answerUnsupportedExpectation,
  nodeServerOptions,
  refuseMissingHost,
  timeoutsOf,
} from '../common/http-server.js';
import { mfaQrCodeOf } from '../common/mfa.js';
import { EXPORT_DOWNLOAD_HEADERS } from '../common/pages.js';
import { OPERATIONS_PATHS, PROMETHEUS_CONTENT_TYPE } from '../common/telemetry.js';
import { registerCookieAuthRoutes, registerPages } from './pages.js';

type WithId = FastifyRequest<{ Params: { id: string } }>;

function sendOperations(reply: FastifyReply, answer: OperationsResponse): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

/** The example API on Fastify 5: the same HTTP contract and pages as the Express example. */
export async function buildFastifyApp(ctx: ExampleContext): Promise<FastifyInstance> {
  const timeouts = timeoutsOf(ctx.config);
  const app = Fastify({
    logger: false,
    frameworkErrors: contractFrameworkErrors,
    // Slow clients end in bounded time; errors below the routes get the contract's body.
    http: nodeServerOptions(timeouts),
    requestTimeout: timeouts.requestTimeout,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    clientErrorHandler: answerClientError,
  });
  app.server.on('checkExpectation', answerUnsupportedExpectation);
  // HTTP/1.1 without Host: 400 with the contract's body (Node's own check is off: http-server.ts).
  app.addHook('onRequest', async (request) => refuseMissingHost(request.raw));
  // One line per request in the log and, with METRICS=1, its duration by route template and
  // status. Health probes and scrapes are left out of both: they would drown the real requests.
  // Added before any plugin, so every route has it (an encapsulated plugin registered earlier
  // would not inherit it).
  app.addHook('onResponse', async (request, reply) => {
    // The template of the route that answered (`/api/users/:id`); undefined for a 404.
    const route = request.routeOptions.url;
    if (route !== undefined && OPERATIONS_PATHS.has(route)) return;
    ctx.logger.request({
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime),
      ip: request.ip,
    });
    ctx.metrics?.recordRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  // The request id on every response (by default only on the answers gatehouse writes).
  await app.register(gatehouseFastify, {
    auth: ctx.auth,
    notFoundHandler: true,
    requestId: { everyResponse: true },
  });
  // The example answers every error with the contract's body (gatehouse maps only its own).
  app.setErrorHandler((error, _request, reply) => app.sendAuthError(reply, error));
  // The pages (login, sign-up, forgot / reset password, verify email) and the cookie-mode routes
  // they call, as on the Express example.
  const pageHttp = await registerCookieAuthRoutes(app, ctx.cookieAuth, '/app/api/auth');
  registerPages(app);
  const handlers = exampleHandlers(ctx);

  // Operations: liveness, readiness and (METRICS=1) the Prometheus scrape. Public on purpose (a
  // probe carries no token), outside every rate limit; docs/observability.md.
  app.get('/healthz', { config: { public: true } }, async (_request, reply) =>
    sendOperations(reply, livenessResponse()),
  );
  app.get('/readyz', { config: { public: true } }, async (_request, reply) =>
    sendOperations(reply, readinessResponse(await ctx.readiness.check())),
  );
  const metrics = ctx.metrics;
  if (metrics) {
    app.get('/metrics', { config: { public: true } }, async (_request, reply) => {
      const text = await metrics.scrape();
      return reply
        .code(200)
        .headers({ 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' })
        .send(text);
    });
  }

  const caller = (request: FastifyRequest): Caller => request.auth!;
  const loadUser = (request: FastifyRequest) => handlers.loadUser((request as WithId).params.id);
  const idOf = (request: FastifyRequest) => (request as WithId).params.id;
  // Who acted and from where, for the audit events of the admin and account routes.
  const contextOf = (request: FastifyRequest): RequestContext =>
    app.gatehouse.contextOf({
      method: request.method,
      headers: request.headers,
      ip: request.ip,
      requestId: request.id,
    });

  await app.register(async (routes) => {
    // The same 16 KiB JSON reading as gatehouse's own routes, so errors match the contract.
    routes.removeAllContentTypeParsers();
    routes.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
      (request, body, done) => {
        try {
          done(null, parseJsonBody(body as Buffer, request.headers['content-type']));
        } catch (err) {
          done(err as Error);
        }
      },
    );

    // The QR code of the dashboard's MFA enrolment, drawn from the URI it posts (no state).
    routes.post('/app/mfa/qr', { config: { public: true } }, async (request) =>
      mfaQrCodeOf(request.body),
    );
    routes.get(
      '/api/users/:id',
      { preHandler: [app.authenticate, app.authorize('users:read', { resource: loadUser })] },
      async (request) => handlers.getUser(request.authResource as PublicUser),
    );
    routes.put(
      '/api/users/:id',
      { preHandler: [app.authenticate, app.authorize('users:update', { resource: loadUser })] },
      async (request) =>
        handlers.updateUser((request as WithId).params.id, request.body, caller(request)),
    );
    routes.delete(
      '/api/users/:id',
      { preHandler: [app.authenticate, app.authorize('users:delete', { resource: loadUser })] },
      async (request) => handlers.deleteUser(idOf(request), caller(request), contextOf(request)),
    );
    routes.get(
      '/api/users/:id/export',
      { preHandler: [app.authenticate, app.authorize('users:export', { resource: loadUser })] },
      // Personal data: no cache keeps a copy.
      async (request, reply) =>
        reply.header('cache-control', 'no-store').send(await handlers.exportUser(idOf(request))),
    );
    // The same export for the dashboard, with the cookie-mode session: a download. The plugin's
    // guards are the bearer instance's, so this one uses the cookie-mode HTTP layer's.
    routes.get(
      '/app/api/users/:id/export',
      markGuard(async (request: FastifyRequest, reply: FastifyReply) => {
        const principal = await pageHttp.authenticate({
          method: request.method,
          headers: request.headers,
          rawHeaders: request.raw.rawHeaders,
          ip: request.ip,
        });
        await pageHttp.authorize(principal, 'users:export', () => loadUser(request));
        const body = await handlers.exportUser(idOf(request));
        return reply.headers(EXPORT_DOWNLOAD_HEADERS).send(body);
      }),
    );

    // Administration: admins only, each decision through the policy (users:list, ban, role).
    routes.get(
      '/api/admin/users',
      { preHandler: [app.authenticate, app.authorize('users:list')] },
      async (request) => handlers.listUsers(request.query),
    );
    routes.post(
      '/api/admin/users/:id/ban',
      { preHandler: [app.authenticate, app.authorize('users:ban', { resource: loadUser })] },
      async (request) =>
        handlers.banUser(idOf(request), request.body, caller(request), contextOf(request)),
    );
    routes.post(
      '/api/admin/users/:id/unban',
      { preHandler: [app.authenticate, app.authorize('users:ban', { resource: loadUser })] },
      async (request) => handlers.unbanUser(idOf(request), caller(request), contextOf(request)),
    );
    routes.put(
      '/api/admin/users/:id/role',
      { preHandler: [app.authenticate, app.authorize('users:role', { resource: loadUser })] },
      async (request) =>
        handlers.setRole(idOf(request), request.body, caller(request), contextOf(request)),
    );
    routes.post(
      '/api/orders',
      { preHandler: [app.authenticate, app.authorize('orders:create')] },
      async (request, reply) => {
        reply.code(201);
        return handlers.createOrder(caller(request), request.body);
      },
    );
    routes.get('/api/orders', { preHandler: [app.authenticate] }, async (request) =>
      handlers.listOrders(caller(request)),
    );
  });

  return app;
}
