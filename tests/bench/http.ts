// HTTP overhead of the adapters: a bare route vs the same route behind authenticate() (and
// authorize()), on Express and on Fastify, over real HTTP on 127.0.0.1 with keep-alive; plus
// the framework-neutral authenticate() alone, without HTTP.
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { gatehouseExpress } from '../../adapters/express/index.js';
import { gatehouseFastify } from '../../adapters/fastify/index.js';
import { createAuth, createAuthHttp, seedPolicy } from '../../src/index.js';
import { CountingHasher } from '../helpers/fakes.js';
import { printTable, runCases } from './measure.js';

const PASSWORD = 'correct horse battery';

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
  try {
    const cases = [
      { name: 'core authenticate() (no HTTP)', fn: () => neutral.authenticate(request) },
      ...Object.entries(apps).flatMap(([name, app]) => [
        { name: `${name}: bare route`, fn: () => get(`${app.url}/bare`, false) },
        { name: `${name}: authenticate()`, fn: () => get(`${app.url}/authenticated`, true) },
        {
          name: `${name}: authorize(users:read, own)`,
          fn: () => get(`${app.url}/authorized/${user.id}`, true),
        },
      ]),
    ];
    const results = await runCases(cases, { rounds: 5, roundSeconds: 0.2 });
    printTable(
      'HTTP: a route with and without gatehouse guards (sequential keep-alive requests)',
      results,
      [
        { name: 'core authenticate() (no HTTP)' },
        { name: 'express: bare route' },
        { name: 'express: authenticate()', baseline: 'express: bare route' },
        { name: 'express: authorize(users:read, own)', baseline: 'express: bare route' },
        { name: 'fastify: bare route' },
        { name: 'fastify: authenticate()', baseline: 'fastify: bare route' },
        { name: 'fastify: authorize(users:read, own)', baseline: 'fastify: bare route' },
      ],
    );
  } finally {
    await apps.express.close();
    await apps.fastify.close();
  }
}
