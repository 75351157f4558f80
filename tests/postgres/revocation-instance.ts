// One app instance for tests/postgres/revocation-fanout.test.ts, run as its own Node process:
// its own pg.Pool (application_name = INSTANCE_NAME, so the test can find its LISTEN backend),
// its own createAuth on the Postgres stores, driven over IPC. Every query the stores send is
// counted, so the test can tell whether a verify reached the database.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createPostgresStores } from '../../adapters/postgres/index.js';
import { createAuth, type Logger } from '../../src/index.js';

const { DATABASE_URL, SCHEMA, INSTANCE_NAME, RECONNECT_MS, JWT_SECRET } = process.env;
if (!DATABASE_URL || !SCHEMA || !INSTANCE_NAME || !JWT_SECRET) {
  throw new Error('revocation-instance: DATABASE_URL, SCHEMA, INSTANCE_NAME, JWT_SECRET required');
}

const pool = new pg.Pool({
  connectionString: DATABASE_URL,
  max: 5,
  application_name: INSTANCE_NAME,
});
pool.on('error', () => {});
let queries = 0;
const counting = {
  query(text: string, params?: unknown[]) {
    queries++;
    return pool.query(text, params);
  },
};
const logs: string[] = [];
const at = (level: string) => (message: string) => void logs.push(`${level}: ${message}`);
const logger: Logger = { debug() {}, info: at('info'), warn: at('warn'), error: at('error') };
const db = createPostgresStores(counting, {
  schema: SCHEMA,
  revocations: { listen: pool, reconnect: { initialDelayMs: Number(RECONNECT_MS ?? 100) } },
});
const auth = createAuth({
  stores: db.stores,
  tokens: { keys: [{ kid: 'hs-1', alg: 'HS256', key: JWT_SECRET }] },
  passwords: { cost: 10 },
  rateLimits: { login: false, register: false },
  logger,
});
// A second watch on the store (it shares the store's LISTEN connection) reports whether the
// channel is live.
const status = db.stores.tokens.watchRevocations!({ onRevoked() {}, onLiveChange() {} });

const stamp = () => performance.timeOrigin + performance.now();

async function timed(fn: () => Promise<unknown>) {
  const startedAt = stamp();
  await fn();
  return { startedAt, committedAt: stamp() };
}

async function verify(token: string) {
  const before = queries;
  try {
    await auth.verifyAccessToken(token);
    return { ok: true, queries: queries - before };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code, queries: queries - before };
  }
}

/** Verifies in a loop (yielding to I/O between calls) until the token is refused. */
async function pollUntilRefused(token: string, timeoutMs: number) {
  const deadline = stamp() + timeoutMs;
  const before = queries;
  let verifies = 0;
  while (stamp() < deadline) {
    verifies++;
    const result = await verify(token);
    if (!result.ok) {
      return { refusedAt: stamp(), code: result.code, verifies, queries: queries - before };
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { refusedAt: null, verifies, queries: queries - before };
}

type Op = { id: number; op: string; args: unknown[] };
const ops: Record<string, (...args: never[]) => Promise<unknown>> = {
  register: (email: string, password: string) => auth.register({ email, password, name: 'T' }),
  login: async (email: string, password: string) => {
    const login = await auth.login({ email, password });
    const { sessionId, userId } = await auth.verifyAccessToken(login.token);
    return { token: login.token, sessionId, userId };
  },
  verify,
  verifyMany: async (token: string, count: number) => {
    const before = queries;
    let refused = 0;
    for (let i = 0; i < count; i++) if (!(await verify(token)).ok) refused++;
    return { refused, queries: queries - before };
  },
  pollUntilRefused,
  logout: (sessionId: string) => timed(() => auth.logout(sessionId)),
  logoutAll: (userId: string) => timed(() => auth.logoutAll(userId)),
  changePassword: (userId: string, currentPassword: string, newPassword: string) =>
    timed(() => auth.changePassword(userId, { currentPassword, newPassword })),
  setRole: (userId: string, role: string) => timed(() => auth.setRole(userId, role)),
  disableUser: (userId: string) => timed(() => auth.disableUser(userId)),
  status: async () => ({ live: status.live, queries, logs: [...logs] }),
  close: async () => {
    await status.close();
    await auth.close();
    await pool.end();
    return { closed: true };
  },
};

process.on('message', (message: Op) => {
  const fn = ops[message.op];
  const run = fn ? fn(...(message.args as never[])) : Promise.reject(new Error('unknown op'));
  run.then(
    (result) => process.send!({ id: message.id, result }),
    (err: unknown) => process.send!({ id: message.id, error: String((err as Error)?.message) }),
  );
});
process.send!({ ready: true });
