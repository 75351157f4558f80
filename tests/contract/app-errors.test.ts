// The adapters map only gatehouse's own errors: an app's errors keep its error handler (or the
// framework's default), their status and their message. Regression of issue 12: the Fastify
// plugin installed itself as the app's error handler and answered a route's 409 as 400.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type ExpressAdapterOptions, gatehouseExpress } from '../../adapters/express/index.js';
import { type FastifyAdapterOptions, gatehouseFastify } from '../../adapters/fastify/index.js';
import { AuthError, seedPolicy } from '../../src/index.js';
import { makeAuth, PASSWORD, registerUser } from '../helpers/auth.js';

let closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

/** An error as apps throw them: a status of their own and a message meant for the client. */
function conflict(): Error {
  return Object.assign(new Error('order 7 is already paid'), { statusCode: 409, status: 409 });
}

async function signedIn() {
  const made = makeAuth({ policy: seedPolicy });
  const user = await registerUser(made.auth);
  const { token } = await made.auth.login({ email: user.email, password: PASSWORD });
  return { ...made, user, token };
}

type Made = Awaited<ReturnType<typeof signedIn>>;

async function get(url: string, token?: string) {
  const response = await fetch(url, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body, text };
}

async function postJson(url: string, payload: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

describe('gatehouse/fastify leaves the app its errors', () => {
  /**
   * A Fastify app with the plugin and three routes: one throwing an app error, one with a body
   * schema, one guarded (`/api/users/:id`, readable by the user itself). `configure` runs
   * before the routes (to set the app's own error handler).
   */
  async function start(
    made: Made,
    options: Partial<FastifyAdapterOptions> = {},
    configure?: (app: FastifyInstance) => void,
  ): Promise<string> {
    const app = Fastify();
    closers.push(() => app.close());
    await app.register(gatehouseFastify, { auth: made.auth, ...options });
    configure?.(app);
    app.post('/api/orders/:id/pay', async () => {
      throw conflict();
    });
    app.post(
      '/api/orders',
      {
        schema: {
          body: {
            type: 'object',
            required: ['total'],
            properties: { total: { type: 'string' } },
          },
        },
      },
      async () => ({ success: true }),
    );
    app.get(
      '/api/users/:id',
      {
        preHandler: app.authorize('users:read', {
          resource: async (request) => {
            const { id } = request.params as { id: string };
            if (id === 'conflict') throw conflict();
            if (id === 'store-down') {
              throw new AuthError('SERVER_ERROR', undefined, {
                status: 503,
                cause: new Error('connect ECONNREFUSED 127.0.0.1:5432'),
              });
            }
            return made.auth.getUser(id);
          },
        }),
      },
      async (request) => ({ success: true, user: request.authResource }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  it('an app route that throws a 409 keeps 409 on Fastify (and its own message)', async () => {
    const url = await start(await signedIn());
    const response = await postJson(`${url}/api/orders/7/pay`, '{}');
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ statusCode: 409, message: 'order 7 is already paid' });
  });

  it("a route's own schema error keeps Fastify's message (not 400 VALIDATION_ERROR of the contract)", async () => {
    const url = await start(await signedIn());
    const response = await postJson(`${url}/api/orders`, '{}');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      statusCode: 400,
      code: 'FST_ERR_VALIDATION',
      message: "body must have required property 'total'",
    });
  });

  it("the app's own error handler receives non-gatehouse errors, status and message intact", async () => {
    const received: unknown[] = [];
    const url = await start(await signedIn(), {}, (app) => {
      app.setErrorHandler((error, _request, reply) => {
        received.push(error);
        return reply.code(422).send({ mine: true, message: (error as Error).message });
      });
    });
    const response = await postJson(`${url}/api/orders/7/pay`, '{}');
    expect(response).toEqual({
      status: 422,
      body: { mine: true, message: 'order 7 is already paid' },
    });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ statusCode: 409, message: 'order 7 is already paid' });
  });

  it('never calls setErrorHandler at the root: an app forbidding handler overrides can still set its own', async () => {
    const made = await signedIn();
    const app = Fastify({ allowErrorHandlerOverride: false });
    closers.push(() => app.close());
    await app.register(gatehouseFastify, { auth: made.auth });
    // Fastify throws FST_ERR_ERROR_HANDLER_ALREADY_SET here if the plugin had installed one.
    expect(() => app.setErrorHandler((_error, _request, reply) => reply.send())).not.toThrow();
    await app.ready();
  });

  it("a guard's AuthError still answers the contract body (401 without a token, 403 on another user's record)", async () => {
    const made = await signedIn();
    const url = await start(made);
    const anonymous = await get(`${url}/api/users/${made.user.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(anonymous.body).toEqual({
      success: false,
      error: new AuthError('UNAUTHENTICATED').message,
      code: 'UNAUTHENTICATED',
    });
    const other = await registerUser(made.auth, 'grace@example.com');
    const forbidden = await get(`${url}/api/users/${other.id}`, made.token);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ success: false, code: 'FORBIDDEN' });
    const own = await get(`${url}/api/users/${made.user.id}`, made.token);
    expect(own.status).toBe(200);
  });

  it("a guard's AuthError answers the contract body even when the app has its own error handler", async () => {
    const received: unknown[] = [];
    const made = await signedIn();
    const url = await start(made, {}, (app) => {
      app.setErrorHandler((error, _request, reply) => {
        received.push(error);
        return reply.code(418).send({ mine: true });
      });
    });
    const anonymous = await get(`${url}/api/users/${made.user.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });
    expect(received).toEqual([]);
  });

  it("with errorHandler: false a guard's AuthError reaches the app's handler, which can answer it with sendAuthError", async () => {
    const received: unknown[] = [];
    const made = await signedIn();
    const url = await start(made, { errorHandler: false }, (app) => {
      app.setErrorHandler((error, _request, reply) => {
        received.push(error);
        return app.sendAuthError(reply, error);
      });
    });
    const anonymous = await get(`${url}/api/users/${made.user.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });
    expect(received).toHaveLength(1);
    expect(received[0]).toBeInstanceOf(AuthError);
  });

  it('an app error thrown by the resource loader of authorize() keeps its 409', async () => {
    const made = await signedIn();
    const url = await start(made);
    const response = await get(`${url}/api/users/conflict`, made.token);
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ message: 'order 7 is already paid' });
  });

  it("a store failure inside a guard answers the contract's 503 and is logged with its cause", async () => {
    const made = await signedIn();
    const url = await start(made);
    const response = await get(`${url}/api/users/store-down`, made.token);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ success: false, code: 'SERVER_ERROR' });
    expect(response.text).not.toContain('ECONNREFUSED');
    const line = made.logs.find((l) => l.level === 'error');
    expect(JSON.stringify(line)).toContain('connect ECONNREFUSED 127.0.0.1:5432');
  });
});

describe('gatehouse/express leaves the app its errors', () => {
  async function start(
    made: Made,
    options: ExpressAdapterOptions = {},
    appHandler?: ErrorRequestHandler,
  ): Promise<string> {
    const gate = gatehouseExpress(made.auth, options);
    const app = express();
    app.use(gate.router);
    app.post('/api/orders/:id/pay', () => {
      throw conflict();
    });
    app.post('/api/echo', express.json(), (req, res) => {
      res.json(req.body);
    });
    app.get('/api/boom', () => {
      throw new Error('connection string postgres://app:hunter2@db/prod');
    });
    app.get(
      '/api/users/:id',
      gate.authorize('users:read', {
        resource: (req) => made.auth.getUser(String(req.params['id'])),
      }),
      (req, res) => {
        res.json({ success: true, user: req.authResource });
      },
    );
    app.use(gate.notFound);
    app.use(gate.errorHandler);
    if (appHandler) app.use(appHandler);
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("an app route that throws a 409 reaches the app's next error handler through gate.errorHandler", async () => {
    const received: unknown[] = [];
    const url = await start(await signedIn(), {}, (err, _req, res, _next) => {
      received.push(err);
      res.status((err as { status: number }).status).json({ mine: true, message: err.message });
    });
    const response = await postJson(`${url}/api/orders/7/pay`, '{}');
    expect(response).toEqual({
      status: 409,
      body: { mine: true, message: 'order 7 is already paid' },
    });
    expect(received).toHaveLength(1);
  });

  it("an app route that throws a 409 keeps 409 with Express's default handler after gate.errorHandler", async () => {
    const url = await start(await signedIn());
    const response = await fetch(`${url}/api/orders/7/pay`, { method: 'POST' });
    expect(response.status).toBe(409);
    expect(await response.text()).not.toContain('"code"');
  });

  it("a guard's AuthError still answers the contract body on Express", async () => {
    const made = await signedIn();
    const url = await start(made, {}, (_err, _req, res, _next) => {
      res.status(418).end();
    });
    const anonymous = await get(`${url}/api/users/${made.user.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(anonymous.body).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });
    const unknown = await get(`${url}/api/nowhere`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });

  it('a malformed body on an app route reaches the app, not the contract, without handleAll', async () => {
    const received: unknown[] = [];
    const url = await start(await signedIn(), {}, (err, _req, res, _next) => {
      received.push(err);
      res.status(400).json({ mine: true });
    });
    const response = await postJson(`${url}/api/echo`, '{');
    expect(response).toEqual({ status: 400, body: { mine: true } });
    expect(received).toHaveLength(1);
  });

  it('with errorHandler: { handleAll: true } an app bug answers the generic 500 body and is logged with its stack', async () => {
    const made = await signedIn();
    const url = await start(made, { errorHandler: { handleAll: true } });
    const response = await get(`${url}/api/boom`);
    expect(response.status).toBe(500);
    expect(response.body).toEqual({
      success: false,
      error: new AuthError('SERVER_ERROR').message,
      code: 'SERVER_ERROR',
    });
    const line = made.logs.find((l) => l.level === 'error');
    expect(line?.message).toBe('request failed');
    expect(String(line?.data?.['error'])).toContain('connection string');
    expect(String(line?.data?.['stack'])).toContain('app-errors.test.ts');
  });

  it('with errorHandler: { handleAll: true } a malformed body on an app route answers VALIDATION_ERROR', async () => {
    const url = await start(await signedIn(), { errorHandler: { handleAll: true } });
    const response = await postJson(`${url}/api/echo`, '{');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ success: false, code: 'VALIDATION_ERROR' });
  });
});
