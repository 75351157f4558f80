import express, { type Request, type RequestHandler } from 'express';
import { markPublic, type PublicUser } from 'gatehouse';
import { gatehouseExpress } from 'gatehouse/express';
import { MAX_BODY_BYTES, parseJsonBody, readRequestBody } from 'gatehouse/http';
import type { ExampleContext } from '../common/context.js';
import { type Caller, exampleHandlers } from '../common/handlers.js';
import { refuseMissingHost } from '../common/http-server.js';
import { PUBLIC_DIR, pageHeaders } from '../common/pages.js';

/** The example API on Express 5: the HTTP contract of ARCHITECTURE.md plus the login page. */
export function buildExpressApp(ctx: ExampleContext) {
  const app = express();
  app.disable('x-powered-by');
  // The example answers every error with the contract's body, its own bugs included.
  const gate = gatehouseExpress(ctx.auth, { errorHandler: { handleAll: true } });
  // The login page talks to a cookie-mode instance under its own prefix.
  const pageGate = gatehouseExpress(ctx.cookieAuth, { prefix: '/app/api/auth' });
  const handlers = exampleHandlers(ctx);

  app.use((req, res, next) => {
    const start = performance.now();
    res.on('finish', () =>
      ctx.logger.request({
        method: req.method,
        path: req.path,
        status: res.statusCode,
        durationMs: Math.round(performance.now() - start),
        ip: req.ip,
      }),
    );
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
      res.json(await handlers.deleteUser(String(req.params.id), caller(req)));
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
