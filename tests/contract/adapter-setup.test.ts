import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { gatehouseExpress } from '../../adapters/express/index.js';
import { gatehouseFastify } from '../../adapters/fastify/index.js';
import { seedPolicy } from '../../src/index.js';
import { makeAuth, PASSWORD } from '../helpers/auth.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function listenExpress(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const postJson = (url: string, body: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('gatehouse/express in an app', () => {
  it('works behind an app-wide express.json(): the parsed body is used', async () => {
    const { auth } = makeAuth();
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    const gate = gatehouseExpress(auth);
    const app = express();
    app.use(express.json());
    app.use(gate.router);
    app.use(gate.errorHandler);
    const url = await listenExpress(app);
    const ok = await postJson(
      `${url}/api/auth/login`,
      JSON.stringify({ email: 'ada@example.com', password: PASSWORD }),
    );
    expect(ok.status).toBe(200);
    const bad = await postJson(`${url}/api/auth/login`, '{');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ success: false, code: 'VALIDATION_ERROR' });
  });

  it('mounts the routes under another prefix, with the refresh cookie path following it', async () => {
    const { auth } = makeAuth({ cookies: { trustedOrigins: ['https://app.example.com'] } });
    const gate = gatehouseExpress(auth, { prefix: '/v2/auth/' });
    expect(gate.http.routes.map((r) => r.path)).toContain('/v2/auth/login');
    expect(gate.http.routes.map((r) => r.path)).toContain('/.well-known/jwks.json');
  });
});

describe('gatehouse/fastify in an app', () => {
  it('is marked as a non-encapsulated plugin named gatehouse for Fastify 5', () => {
    const plugin = gatehouseFastify as unknown as Record<symbol, unknown>;
    expect(plugin[Symbol.for('skip-override')]).toBe(true);
    expect(plugin[Symbol.for('fastify.display-name')]).toBe('gatehouse');
    expect(plugin[Symbol.for('plugin-meta')]).toEqual({ name: 'gatehouse', fastify: '5.x' });
  });

  it('decorates the app and request.auth up front', async () => {
    const app = Fastify();
    close = () => app.close();
    await app.register(gatehouseFastify, { auth: makeAuth({ policy: seedPolicy }).auth });
    await app.ready();
    expect(typeof app.authenticate).toBe('function');
    expect(typeof app.authorize('users:read')).toBe('function');
    expect(app.hasRequestDecorator('auth')).toBe(true);
  });

  it("keeps the app's own error handler with errorHandler: false; the auth routes still answer the contract", async () => {
    const app = Fastify();
    close = () => app.close();
    await app.register(gatehouseFastify, { auth: makeAuth().auth, errorHandler: false });
    app.setErrorHandler((_error, _request, reply) => reply.code(418).send({ mine: true }));
    app.get('/teapot', async () => {
      throw new Error('x');
    });
    expect((await app.inject({ url: '/teapot' })).statusCode).toBe(418);
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    expect(login.statusCode).toBe(400);
    expect(login.json()).toMatchObject({ success: false, code: 'VALIDATION_ERROR' });
    const tooLarge = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(20_000) }),
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toMatchObject({ success: false, code: 'PAYLOAD_TOO_LARGE' });
  });

  it("leaves the app's own JSON parser and body limit for its other routes", async () => {
    const app = Fastify();
    close = () => app.close();
    await app.register(gatehouseFastify, { auth: makeAuth().auth });
    app.post('/echo', async (request) => request.body);
    const big = { text: 'x'.repeat(64 * 1024) };
    const response = await app.inject({ method: 'POST', url: '/echo', payload: big });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(big);
  });
});
