// A benchmark server on Fastify, one per process: `BENCH_VARIANT` picks the guard of GET /
// (bare, @fastify/jwt, gatehouse authenticate, or authenticate + authorize(users:read, own
// record) on GET /users/:id). Prints `{"listening":true,"port":…}` on stdout once it listens.
import type { AddressInfo } from 'node:net';
import fastifyJwt from '@fastify/jwt';
import Fastify from 'fastify';
import { gatehouseFastify } from '../../../adapters/fastify/index.js';
import { announce, createBenchAuth, readConfig, stopOnSignals } from './common.js';

const config = readConfig();
const app = Fastify();
let closeAuth = async () => {};
let extra: Record<string, unknown> = {};

if (config.variant === 'bare') {
  app.get('/', async () => ({ ok: true }));
  // The route shape of the authorize case, for its baseline.
  app.get('/users/:id', async () => ({ ok: true }));
} else if (config.variant === 'peer') {
  await app.register(fastifyJwt, {
    secret: config.secret,
    verify: { allowedIss: config.issuer, allowedAud: config.audience, algorithms: ['HS256'] },
  });
  app.get(
    '/',
    {
      onRequest: async (request) => {
        await request.jwtVerify();
      },
    },
    async () => ({ ok: true }),
  );
} else {
  const bench = await createBenchAuth(config);
  closeAuth = bench.close;
  extra = {
    userId: bench.userId,
    cacheSize: bench.cacheSize,
    revocationCacheTtl: bench.revocationCacheTtl,
    revocationWatch: bench.revocationWatch,
    tokens: bench.tokenCount,
  };
  await app.register(gatehouseFastify, { auth: bench.auth });
  if (config.variant === 'authenticate') {
    app.get('/', { preHandler: app.authenticate }, async () => ({ ok: true }));
  } else {
    app.get<{ Params: { id: string } }>(
      '/users/:id',
      {
        preHandler: [
          app.authenticate,
          app.authorize<{ Params: { id: string } }>('users:read', {
            resource: (request) => ({ id: request.params.id }),
          }),
        ],
      },
      async () => ({ ok: true }),
    );
  }
}

await app.listen({ port: 0, host: '127.0.0.1' });
announce((app.server.address() as AddressInfo).port, { framework: 'fastify', ...extra });
stopOnSignals(async () => {
  await app.close();
  await closeAuth();
});
