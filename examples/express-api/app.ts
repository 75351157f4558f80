import express, { type Request, type RequestHandler, type Response } from 'express';
import { markPublic, type PublicUser, type RequestContext } from 'gatehouse';
import { gatehouseExpress } from 'gatehouse/express';
import { MAX_BODY_BYTES, parseJsonBody, readRequestBody } from 'gatehouse/http';
import type { ExampleContext } from '../common/context.js';
import { type Caller, exampleHandlers } from '../common/handlers.js';
import { livenessResponse, type OperationsResponse, readinessResponse } from '../common/health.js';
import { refuseMissingHost } from '../common/http-server.js';
import { mfaQrCodeOf } from '../common/mfa.js';
import { EXPORT_DOWNLOAD_HEADERS, PUBLIC_DIR, pageHeaders } from '../common/pages.js';
import { OPERATIONS_PATHS, PROMETHEUS_CONTENT_TYPE } from '../common/telemetry.js';

/** The template of the route that answered (`/api/users/:id`), never the raw path. */
function routeOf(req: Request): string | undefined {
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}

function sendOperations(res: Response, answer: OperationsResponse): void {
  res.status(answer.status).set(answer.headers).json(answer.body);
}

/** The example API on Express 5: the HTTP contract of ARCHITECTURE.md plus the login page. */
export function buildExpressApp(ctx: ExampleContext) {
  const app = express();
  app.disable('x-powered-by');
  // The example answers every error with the contract's body, its own bugs included, and puts
  // the request id on every response (by default only on the answers gatehouse writes).
  const gate = gatehouseExpress(ctx.auth, {
    errorHandler: { handleAll: true },
    requestId: { everyResponse: true },
  });
  // The login page talks to a cookie-mode instance under its own prefix.
  const pageGate = gatehouseExpress(ctx.cookieAuth, { prefix: '/app/api/auth' });
  const handlers = exampleHandlers(ctx);

  // One line per request in the log and, with METRICS=1, its duration by route template and
  // status. Health probes and scrapes are left out of both: they would drown the real requests.
  app.use((req, res, next) => {
    const start = performance.now();
    res.on('finish', () => {
      const route = routeOf(req);
      if (route !== undefined && OPERATIONS_PATHS.has(route)) return;
      const ms = performance.now() - start;
      ctx.logger.request({
        method: req.method,
        path: req.path,
        status: res.statusCode,
        durationMs: Math.round(ms),
        ip: req.ip,
      });
      ctx.metrics?.recordRequest(req.method, route, res.statusCode, ms / 1000);
    });
    next();
  });
  // HTTP/1.1 without Host: 400 with the contract's body (Node's own check is off: http-server.ts).
  app.use(
    markPublic((req: Request, _res: unknown, next: () => void) => {
      refuseMissingHost(req);
      next();
    }),
  );

  // The same 16 KiB JSON reading as gatehouse's own routes, so errors match the contract.
  const jsonBody: RequestHandler = async (req, _res, next) => {
    req.body = parseJsonBody(
      await readRequestBody(req, req.headers['content-length'], MAX_BODY_BYTES),
      req.headers['content-type'],
    );
    next();
  };
  const caller = (req: Request): Caller => req.auth!;
  const loadUser = (req: Request) => handlers.loadUser(String(req.params.id));
  // Who acted and from where, for the audit events of the admin and account routes.
  const contextOf = (req: Request): RequestContext =>
    gate.http.contextOf({
      method: req.method,
      headers: req.headers,
      ip: req.ip,
      requestId: gate.requestIdOf(req),
    });

  // Operations: liveness, readiness and (METRICS=1) the Prometheus scrape. Public on purpose (a
  // probe carries no token), outside every rate limit; docs/observability.md.
  app.get(
    '/healthz',
    markPublic((_req: Request, res: Response) => sendOperations(res, livenessResponse())),
  );
  app.get(
    '/readyz',
    markPublic(async (_req: Request, res: Response) =>
      sendOperations(res, readinessResponse(await ctx.readiness.check())),
    ),
  );
  const metrics = ctx.metrics;
  if (metrics) {
    app.get(
      '/metrics',
      markPublic(async (_req: Request, res: Response) => {
        const text = await metrics.scrape();
        res
          .status(200)
          .set({ 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
        res.send(text);
      }),
    );
  }

  app.use(gate.router);
  app.use(pageGate.router);

  app.get(
    '/api/users/:id',
    gate.authenticate(),
    gate.authorize('users:read', { resource: loadUser }),
    (req, res) => {
      res.json(handlers.getUser(req.authResource as PublicUser));
    },
  );
  app.put(
    '/api/users/:id',
    gate.authenticate(),
    gate.authorize('users:update', { resource: loadUser }),
    jsonBody,
    async (req, res) => {
      res.json(await handlers.updateUser(String(req.params.id), req.body, caller(req)));
    },
  );
  app.delete(
    '/api/users/:id',
    gate.authenticate(),
    gate.authorize('users:delete', { resource: loadUser }),
    async (req, res) => {
      res.json(await handlers.deleteUser(String(req.params.id), caller(req), contextOf(req)));
    },
  );
  app.get(
    '/api/users/:id/export',
    gate.authenticate(),
    gate.authorize('users:export', { resource: loadUser }),
    async (req, res) => {
      // Personal data: no cache keeps a copy.
      res.set('cache-control', 'no-store').json(await handlers.exportUser(String(req.params.id)));
    },
  );
  // The same export for the dashboard, with the cookie-mode session: a download.
  app.get(
    '/app/api/users/:id/export',
    pageGate.authenticate(),
    pageGate.authorize('users:export', { resource: loadUser }),
    async (req, res) => {
      const body = await handlers.exportUser(String(req.params.id));
      res.set(EXPORT_DOWNLOAD_HEADERS).json(body);
    },
  );

  // Administration: admins only, each decision through the policy (users:list, ban, role).
  app.get(
    '/api/admin/users',
    gate.authenticate(),
    gate.authorize('users:list'),
    async (req, res) => {
      res.json(await handlers.listUsers(req.query));
    },
  );
  app.post(
    '/api/admin/users/:id/ban',
    gate.authenticate(),
    gate.authorize('users:ban', { resource: loadUser }),
    jsonBody,
    async (req, res) => {
      res.json(
        await handlers.banUser(String(req.params.id), req.body, caller(req), contextOf(req)),
      );
    },
  );
  app.post(
    '/api/admin/users/:id/unban',
    gate.authenticate(),
    gate.authorize('users:ban', { resource: loadUser }),
    async (req, res) => {
      res.json(await handlers.unbanUser(String(req.params.id), caller(req), contextOf(req)));
    },
  );
  app.put(
    '/api/admin/users/:id/role',
    gate.authenticate(),
    gate.authorize('users:role', { resource: loadUser }),
    jsonBody,
    async (req, res) => {
      res.json(
        await handlers.setRole(String(req.params.id), req.body, caller(req), contextOf(req)),
      );
    },
  );

  app.post(
    '/api/orders',
    gate.authenticate(),
    gate.authorize('orders:create'),
    jsonBody,
    async (req, res) => {
      res.status(201).json(await handlers.createOrder(caller(req), req.body));
    },
  );
  app.get('/api/orders', gate.authenticate(), async (req, res) => {
    res.json(await handlers.listOrders(caller(req)));
  });

  // The QR code of the dashboard's MFA enrolment, drawn from the URI it posts (no state).
  app.post(
    '/app/mfa/qr',
    jsonBody,
    markPublic((req: Request, res: Response) => {
      res.json(mfaQrCodeOf(req.body));
    }),
  );

  // The static pages (login, sign-up, forgot / reset password, verify email; /reset-password
  // serves reset-password.html): public on purpose (the routes-guarded test checks every route).
  app.use(
    markPublic(
      express.static(PUBLIC_DIR, {
        index: 'index.html',
        extensions: ['html'],
        setHeaders: (res, path) => {
          for (const [name, value] of Object.entries(pageHeaders(path))) res.setHeader(name, value);
        },
      }),
    ),
  );

  app.use(gate.notFound);
  app.use(gate.errorHandler);
  return app;
}
