// A benchmark server on Express, one per process: `BENCH_VARIANT` picks the guard of GET /
// (bare, express-jwt, gatehouse authenticate(), or authenticate() + authorize(users:read, own
// record) on GET /users/:id). Prints `{"listening":true,"port":…}` on stdout once it listens.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressjwt } from 'express-jwt';
import { gatehouseExpress } from '../../../adapters/express/index.js';
import { announce, createBenchAuth, readConfig, stopOnSignals } from './common.js';

const config = readConfig();
const app = express();
const ok = (_req: express.Request, res: express.Response) => {
  res.json({ ok: true });
};
let closeAuth = async () => {};
let extra: Record<string, unknown> = {};

if (config.variant === 'bare') {
  app.get('/', ok);
  // The route shape of the authorize case, for its baseline.
  app.get('/users/:id', ok);
} else if (config.variant === 'peer') {
  app.get(
    '/',
    expressjwt({
      secret: config.secret,
      algorithms: ['HS256'],
      issuer: config.issuer,
      audience: config.audience,
    }),
    ok,
  );
  // express-jwt's rejections: 401 without a stack in the body.
  app.use(
    (
      err: { status?: number },
      _req: express.Request,
      res: express.Response,
      next: express.NextFunction,
    ) => {
      if (err.status === 401) res.status(401).json({ error: 'unauthorized' });
      else next(err);
    },
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
  const gate = gatehouseExpress(bench.auth);
  if (config.variant === 'authenticate') {
    app.get('/', gate.authenticate(), ok);
  } else {
    app.get(
      '/users/:id',
      gate.authenticate(),
      gate.authorize('users:read', { resource: (req) => ({ id: req.params.id }) }),
      ok,
    );
  }
  app.use(gate.errorHandler);
}

const server = app.listen(0, '127.0.0.1');
await new Promise<void>((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
announce((server.address() as AddressInfo).port, { framework: 'express', ...extra });
stopOnSignals(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await closeAuth();
});
