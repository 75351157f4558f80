// The Express adapter on Express 4 (the `express4` dev dependency, npm:express@4.x). Express 4
// ignores the promise a middleware returns: a guard that rejects would leave the request
// hanging and the process with an unhandled rejection. The adapter settles its own promises and
// calls next(err). The whole contract (tests/contract/apps.ts `adapters`) also runs on Express 4;
// this file pins the failure paths that only Express 4 could get wrong.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorRequestHandler } from 'express';
import express4 from 'express4';
import { afterEach, describe, expect, it } from 'vitest';
import { gatehouseExpress } from '../../adapters/express/index.js';
import { AuthError, seedPolicy } from '../../src/index.js';
import { makeAuth, PASSWORD, registerUser } from '../helpers/auth.js';

let closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  closers = [];
});

/** Collects the process's unhandled rejections while a test runs. */
function watchUnhandledRejections(): unknown[] {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', listener);
  closers.push(async () => process.off('unhandledRejection', listener));
  return seen;
}

async function get(url: string, token?: string) {
  // A hanging request (a rejection Express 4 never saw) fails here, not by the test's timeout.
  const response = await fetch(url, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(3000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body };
}

async function startExpress4() {
  const made = makeAuth({ policy: seedPolicy });
  const user = await registerUser(made.auth);
  const { token } = await made.auth.login({ email: user.email, password: PASSWORD });
  const gate = gatehouseExpress(made.auth);
  const app = express4();
  const reachedApp: unknown[] = [];
  app.use(gate.router);
  app.get(
    '/api/users/:id',
    gate.authenticate(),
    gate.authorize('users:read', {
      resource: async (req) => {
        if (req.params.id === 'conflict') {
          throw Object.assign(new Error('order 7 is already paid'), { status: 409 });
        }
        if (req.params.id === 'store-down') {
          throw new AuthError('SERVER_ERROR', undefined, { status: 503 });
        }
        return made.auth.getUser(req.params.id);
      },
    }),
    (req, res) => {
      res.json({ success: true, user: req.authResource });
    },
  );
  app.get('/api/orders', gate.authorize('orders:create'), (_req, res) => {
    res.json({ success: true });
  });
  app.use(gate.errorHandler);
  // The app's own handler, after gatehouse's: it gets every error that is not an AuthError.
  const appHandler: ErrorRequestHandler = (err, _req, res, _next) => {
    reachedApp.push(err);
    res.status((err as { status?: number }).status ?? 500).json({ appError: String(err) });
  };
  app.use(appHandler);
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  closers.push(() => made.auth.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { ...made, user, token, url, reachedApp };
}

describe('gatehouse/express on Express 4', () => {
  it("an async guard's rejection reaches the error handler on Express 4 (no unhandled rejection)", async () => {
    const rejections = watchUnhandledRejections();
    const app = await startExpress4();

    // authenticate() rejects with UNAUTHENTICATED: gatehouse's error handler answers it.
    const anonymous = await get(`${app.url}/api/users/${app.user.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });

    // authorize() alone (authenticating first) rejects with an expired/forged token's 401.
    const forged = await get(`${app.url}/api/orders`, 'not.a.jwt');
    expect(forged.status).toBe(401);

    // authorize() refuses another user's record: 403 from the rejected guard.
    const other = await registerUser(app.auth, 'grace@example.com');
    const foreign = await get(`${app.url}/api/users/${other.id}`, app.token);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ code: 'FORBIDDEN' });

    // A store failure thrown inside the guard: the contract's 503.
    const storeDown = await get(`${app.url}/api/users/store-down`, app.token);
    expect(storeDown.status).toBe(503);
    expect(storeDown.body).toMatchObject({ success: false, code: 'SERVER_ERROR' });

    // The app's own error from the resource loader goes on to the app's handler, 409 intact.
    const conflict = await get(`${app.url}/api/users/conflict`, app.token);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({ appError: 'Error: order 7 is already paid' });
    expect(app.reachedApp).toHaveLength(1);

    // The happy path still goes on to the handler.
    const own = await get(`${app.url}/api/users/${app.user.id}`, app.token);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ success: true, user: { id: app.user.id } });

    // Let any stray rejection surface before looking.
    await new Promise((resolve) => setImmediate(resolve));
    expect(rejections).toEqual([]);
  });

  it('a guard that fails calls next(err) once: the handler after it never runs', async () => {
    const app = await startExpress4();
    let handlerRuns = 0;
    const gate = gatehouseExpress(app.auth);
    const server4 = express4();
    server4.get('/x', gate.authenticate(), (_req, res) => {
      handlerRuns += 1;
      res.json({ ran: true });
    });
    server4.use(gate.errorHandler);
    const server: Server = server4.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const response = await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    expect(response.status).toBe(401);
    expect(handlerRuns).toBe(0);
  });
});
