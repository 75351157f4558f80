// HTTP overhead of the adapters: a bare route vs the same route behind authenticate() (and
// authorize()), on Express and on Fastify, over real HTTP on 127.0.0.1 with keep-alive, beside
// the peers (express-jwt, @fastify/jwt) on the same token; then the middleware alone, in process,
// where HTTP does not drown the difference.
import type { AddressInfo } from 'node:net';
import fastifyJwt from '@fastify/jwt';
import express, { type RequestHandler } from 'express';
import { expressjwt } from 'express-jwt';
import Fastify from 'fastify';
import { gatehouseExpress } from '../../adapters/express/index.js';
import { gatehouseFastify } from '../../adapters/fastify/index.js';
import { createAuth, createAuthHttp, seedPolicy } from '../../src/index.js';
import { internalsOf } from '../../src/internal/handle.js';
import { CountingHasher } from '../helpers/fakes.js';
import { printTable, runCases } from './measure.js';

const PASSWORD = 'correct horse battery';
// One HS256 key for gatehouse and the peers, so every side verifies the same token.
const SECRET = 'bench-secret-0123456789-abcdefghijklmnop';
const ISSUER = 'bench';
const AUDIENCE = 'bench';
const peerExpressJwt = expressjwt({
  secret: SECRET,
  algorithms: ['HS256'],
  issuer: ISSUER,
  audience: AUDIENCE,
});

async function expressApp(auth: ReturnType<typeof createAuth>) {
  const gate = gatehouseExpress(auth);
  const app = express();
  app.get('/bare', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/authenticated', gate.authenticate(), (_req, res) => {
    res.json({ ok: true });
  });
  app.get(
    '/authorized/:id',
    gate.authorize('users:read', { resource: (req) => ({ id: req.params['id'] }) }),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  app.get('/express-jwt', peerExpressJwt, (_req, res) => {
    res.json({ ok: true });
  });
  app.use(gate.errorHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function fastifyApp(auth: ReturnType<typeof createAuth>) {
  const app = Fastify();
  await app.register(gatehouseFastify, { auth });
  await app.register(fastifyJwt, {
    secret: SECRET,
    verify: { allowedIss: ISSUER, allowedAud: AUDIENCE, algorithms: ['HS256'] },
  });
  app.get(
    '/fastify-jwt',
    {
      onRequest: async (request) => {
        await request.jwtVerify();
      },
    },
    async () => ({ ok: true }),
  );
  app.get('/bare', async () => ({ ok: true }));
  app.get('/authenticated', { preHandler: app.authenticate }, async () => ({ ok: true }));
  app.get(
    '/authorized/:id',
    {
      preHandler: app.authorize('users:read', {
        resource: (request) => ({ id: (request.params as { id: string }).id }),
      }),
    },
    async () => ({ ok: true }),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: () => app.close(),
  };
}

export async function run(): Promise<void> {
  const auth = createAuth({
    policy: seedPolicy,
    passwordHasher: new CountingHasher(),
    rateLimits: { login: false },
    tokens: {
      keys: [{ kid: 'bench', alg: 'HS256', key: SECRET }],
      issuer: ISSUER,
      audience: AUDIENCE,
    },
  });
  const user = await auth.register({
    email: 'bench@example.com',
    password: PASSWORD,
    name: 'Bench',
  });
  const { token } = await auth.login({ email: 'bench@example.com', password: PASSWORD });
  const headers = { authorization: `Bearer ${token}` };
  const apps = { express: await expressApp(auth), fastify: await fastifyApp(auth) };
  const get = async (url: string, withToken: boolean) => {
    const response = await fetch(url, withToken ? { headers } : {});
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
    await response.arrayBuffer();
  };
  const neutral = createAuthHttp(auth);
  const request = {
    method: 'GET',
    headers,
    rawHeaders: Object.entries(headers).flat(),
    ip: '127.0.0.1',
  };
  // The middleware alone: each called with the smallest request object it reads.
  const fakeRequest = () =>
    ({
      method: 'GET',
      headers,
      rawHeaders: Object.entries(headers).flat(),
      ip: '127.0.0.1',
    }) as never;
  const callMiddleware = (middleware: RequestHandler) =>
    new Promise<void>((resolve, reject) => {
      const result = middleware(fakeRequest(), {} as never, (err?: unknown) =>
        err ? reject(err) : resolve(),
      ) as unknown;
      if (result instanceof Promise) result.catch(reject);
    });
  const gate = gatehouseExpress(auth);
  const gatehouseAuthenticate = gate.authenticate();
  // The same sessions and key without the verified-token cache: every verify checks the signature.
  const uncached = createAuth({
    stores: { users: internalsOf(auth).stores.users, tokens: internalsOf(auth).stores.tokens },
    tokens: {
      keys: [{ kid: 'bench', alg: 'HS256', key: SECRET }],
      issuer: ISSUER,
      audience: AUDIENCE,
      verifiedCacheSize: 0,
    },
  });
  const fastifyPeer = Fastify();
  await fastifyPeer.register(fastifyJwt, {
    secret: SECRET,
    verify: { allowedIss: ISSUER, allowedAud: AUDIENCE, algorithms: ['HS256'] },
  });
  await fastifyPeer.ready();
  try {
    const http = [
      { name: 'core authenticate() (no HTTP)', fn: () => neutral.authenticate(request) },
      ...Object.entries(apps).flatMap(([name, app]) => [
        { name: `${name}: bare route`, fn: () => get(`${app.url}/bare`, false) },
        { name: `${name}: authenticate()`, fn: () => get(`${app.url}/authenticated`, true) },
        {
          name: `${name}: authorize(users:read, own)`,
          fn: () => get(`${app.url}/authorized/${user.id}`, true),
        },
      ]),
      { name: 'express: express-jwt', fn: () => get(`${apps.express.url}/express-jwt`, true) },
      { name: 'fastify: @fastify/jwt', fn: () => get(`${apps.fastify.url}/fastify-jwt`, true) },
    ];
    const results = await runCases(http, { rounds: 5, roundSeconds: 0.2 });
    printTable(
      'HTTP: a route with and without gatehouse guards (sequential keep-alive requests)',
      results,
      [
        { name: 'core authenticate() (no HTTP)' },
        { name: 'express: bare route' },
        { name: 'express: authenticate()', baseline: 'express: bare route' },
        { name: 'express: authorize(users:read, own)', baseline: 'express: bare route' },
        { name: 'express: express-jwt', baseline: 'express: bare route' },
        { name: 'fastify: bare route' },
        { name: 'fastify: authenticate()', baseline: 'fastify: bare route' },
        { name: 'fastify: authorize(users:read, own)', baseline: 'fastify: bare route' },
        { name: 'fastify: @fastify/jwt', baseline: 'fastify: bare route' },
      ],
    );

    const inProcess = [
      {
        name: 'express-jwt middleware',
        fn: () => callMiddleware(peerExpressJwt as RequestHandler),
      },
      { name: 'gatehouse express authenticate()', fn: () => callMiddleware(gatehouseAuthenticate) },
      { name: '@fastify/jwt app.jwt.verify', fn: () => fastifyPeer.jwt.verify(token) },
      { name: 'gatehouse verifyAccessToken (cache hit)', fn: () => auth.verifyAccessToken(token) },
      {
        name: 'gatehouse verifyAccessToken (cache off)',
        fn: () => uncached.verifyAccessToken(token),
      },
    ];
    const middleware = await runCases(inProcess, { rounds: 7, roundSeconds: 0.15 });
    printTable('Token middleware in process (same HS256 token, no HTTP)', middleware, [
      { name: 'express-jwt middleware' },
      { name: 'gatehouse express authenticate()', baseline: 'express-jwt middleware' },
      { name: '@fastify/jwt app.jwt.verify' },
      { name: 'gatehouse verifyAccessToken (cache hit)', baseline: '@fastify/jwt app.jwt.verify' },
      { name: 'gatehouse verifyAccessToken (cache off)', baseline: '@fastify/jwt app.jwt.verify' },
    ]);
  } finally {
    await apps.express.close();
    await apps.fastify.close();
    await fastifyPeer.close();
  }
}
