import type { AddressInfo } from 'node:net';
import express from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import { gatehouseExpress } from '../../adapters/express/index.js';
import { contractFrameworkErrors, gatehouseFastify } from '../../adapters/fastify/index.js';
import type { RequestIdOptions } from '../../src/http/index.js';
import { type AuthOptions, seedPolicy } from '../../src/index.js';
import { makeAuth } from '../helpers/auth.js';

/** How a contract app is built. */
export interface AppSetup {
  /** Extra createAuth options (merged over the test defaults). */
  authOptions?: AuthOptions;
  /** Trust X-Forwarded-For from the loopback peer (Express `trust proxy`, Fastify `trustProxy`). */
  trustProxy?: boolean;
  /** The adapter's `requestId` option (default: the adapter's default). */
  requestId?: RequestIdOptions | false;
}

/** A contract app listening on 127.0.0.1. */
export interface RunningApp extends ReturnType<typeof makeAuth> {
  adapter: AdapterName;
  url: string;
  close(): Promise<void>;
}

export type AdapterName = 'express' | 'express4' | 'fastify';

function authFor(setup: AppSetup) {
  return makeAuth({ policy: seedPolicy, ...setup.authOptions });
}

/**
 * The app of the HTTP contract on Express: the auth routes plus protected routes exercising the
 * guards (`/api/users/:id` with an ownership check, an optional route, a state-changing route and
 * a route that fails with a non-AuthError).
 */
async function startExpress(
  setup: AppSetup,
  name: 'express' | 'express4' = 'express',
): Promise<RunningApp> {
  const made = authFor(setup);
  const { auth } = made;
  // The contract's body for every error of the app, not only gatehouse's.
  const gate = gatehouseExpress(auth, {
    errorHandler: { handleAll: true },
    ...(setup.requestId !== undefined ? { requestId: setup.requestId } : {}),
  });
  const app = name === 'express4' ? express4() : express();
  app.set('trust proxy', setup.trustProxy ? 'loopback' : false);
  app.disable('x-powered-by');
  app.use(gate.router);
  app.get(
    '/api/users/:id',
    gate.authenticate(),
    gate.authorize('users:read', { resource: (req) => auth.getUser(String(req.params['id'])) }),
    (req, res) => {
      res.json({ success: true, user: req.authResource });
    },
  );
  app.get('/api/whoami', gate.authenticate({ optional: true }), (req, res) => {
    res.json({ success: true, userId: req.auth?.userId ?? null });
  });
  app.post('/api/orders', gate.authenticate(), gate.authorize('orders:create'), (req, res) => {
    res.status(201).json({ success: true, order: { userId: req.auth!.userId } });
  });
  app.get('/api/boom', () => {
    throw new Error('connection string postgres://secret@db');
  });
  app.use(gate.notFound);
  app.use(gate.errorHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    ...made,
    adapter: name,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await auth.close();
    },
  };
}

/** The same app on Fastify. */
async function startFastify(setup: AppSetup): Promise<RunningApp> {
  const made = authFor(setup);
  const { auth } = made;
  const app = Fastify({
    trustProxy: setup.trustProxy ? '127.0.0.1' : false,
    frameworkErrors: contractFrameworkErrors,
  });
  await app.register(gatehouseFastify, {
    auth,
    notFoundHandler: true,
    ...(setup.requestId !== undefined ? { requestId: setup.requestId } : {}),
  });
  // The contract's body for every error of the app, not only gatehouse's.
  app.setErrorHandler((error, _request, reply) => app.sendAuthError(reply, error));
  app.get(
    '/api/users/:id',
    {
      preHandler: [
        app.authenticate,
        app.authorize('users:read', {
          resource: (request) => auth.getUser((request.params as { id: string }).id),
        }),
      ],
    },
    async (request) => ({ success: true, user: request.authResource }),
  );
  app.get('/api/whoami', { preHandler: app.authenticateOptional }, async (request) => ({
    success: true,
    userId: request.auth?.userId ?? null,
  }));
  app.post(
    '/api/orders',
    { preHandler: [app.authenticate, app.authorize('orders:create')] },
    async (request, reply) => {
      reply.code(201);
      return { success: true, order: { userId: request.auth!.userId } };
    },
  );
  app.get('/api/boom', async () => {
    throw new Error('connection string postgres://secret@db');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    ...made,
    adapter: 'fastify',
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await auth.close();
    },
  };
}

/**
 * The adapters, for `describe.each`: Express 5, Fastify, and last the same Express app on
 * Express 4 (the `express4` dev dependency), since the peer range is `^4.21 || ^5`.
 */
export const adapters: { name: AdapterName; start(setup?: AppSetup): Promise<RunningApp> }[] = [
  { name: 'express', start: (setup = {}) => startExpress(setup) },
  { name: 'fastify', start: (setup = {}) => startFastify(setup) },
  { name: 'express4', start: (setup = {}) => startExpress(setup, 'express4') },
];
