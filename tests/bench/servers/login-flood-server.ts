// The server of the login suite's event-loop figure (tests/bench/login.ts): Express with
// gatehouse's routes and real bcrypt (cost 10), GET /me behind authenticate(), and
// BENCH_ACCOUNTS accounts (flood-<i>@example.com) for the flood of wrong passwords to spread
// over. Per-IP rate limits are off and the lockout allows 1000 failures per account, so every
// login of the flood is a real bcrypt check (401), never a cheap 429 or 403.
// GET /bench/hashing says whether bcrypt is idle. BENCH_HASH_CONCURRENCY sets passwords.hashConcurrency ('default' keeps the derived default).
// Prints `{"listening":true,"port":…,"token":…,"hashConcurrency":…}` once it listens.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { gatehouseExpress } from '../../../adapters/express/index.js';
import { bcryptHasher, createAuth, type PasswordHasher } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';

const PASSWORD = 'correct horse battery staple';
const accounts = Number(process.env['BENCH_ACCOUNTS'] ?? '50');
const concurrency = process.env['BENCH_HASH_CONCURRENCY'] ?? 'default';

// bcrypt as gatehouse runs it by default, counted so the bench can wait until the logins left
// over from a flood have run (GET /bench/hashing) before it measures an idle server again.
let running = 0;
let lastDone = Date.now();
async function counted<T>(work: () => Promise<T>): Promise<T> {
  running++;
  try {
    return await work();
  } finally {
    running--;
    lastDone = Date.now();
  }
}
const passwordHasher: PasswordHasher = {
  ...bcryptHasher,
  hash: (password, cost) => counted(() => bcryptHasher.hash(password, cost)),
  verify: (password, hash) => counted(() => bcryptHasher.verify(password, hash)),
};

const auth = createAuth({
  passwordHasher,
  passwords: {
    cost: 10,
    ...(concurrency === 'default' ? {} : { hashConcurrency: Number(concurrency) }),
  },
  rateLimits: { login: false, register: false, refresh: false },
  lockout: { maxAttempts: 1000 },
  tokens: {
    keys: [{ kid: 'bench', alg: 'HS256', key: 'bench-secret-0123456789-abcdefghijklmnop' }],
  },
});
for (let i = 0; i < accounts; i++) {
  await auth.register({ email: `flood-${i}@example.com`, password: PASSWORD, name: 'Flood' });
}
await auth.register({ email: 'reader@example.com', password: PASSWORD, name: 'Reader' });
const { token } = await auth.login({ email: 'reader@example.com', password: PASSWORD });

const gate = gatehouseExpress(auth);
const app = express();
app.use(gate.router);
app.get('/bench/hashing', gate.publicRoute, (_req, res) => {
  res.json({ running, idleMs: running > 0 ? 0 : Date.now() - lastDone });
});
app.get('/me', gate.authenticate(), (_req, res) => {
  res.json({ ok: true });
});
app.use(gate.errorHandler);

const server = app.listen(0, '127.0.0.1');
await new Promise<void>((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
process.stdout.write(
  `${JSON.stringify({
    listening: true,
    port: (server.address() as AddressInfo).port,
    token,
    hashConcurrency: internalsOf(auth).config.passwords.hashConcurrency,
  })}\n`,
);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
