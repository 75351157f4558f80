// Crash safety of the embedded default: the Express example on PGlite (its own DATA_DIR, no
// DATABASE_URL) is killed with SIGKILL in the middle of writes (registrations and orders),
// repeatedly, and restarted on the same directory each time. Every restart must open the
// database and answer again, and every write acknowledged (2xx) before any kill must be there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_ACCOUNTS } from '../../examples/common/seed.js';
import { type RunningExample, startExample } from '../e2e/example-process.js';
import { type Check, check } from './check.js';

/** Concurrent writers while the app is killed. */
const WRITERS = 4;
/** An owner lists at most 100 orders (GET /api/orders): a writer moves to a new owner before. */
const ORDERS_PER_OWNER = 80;
/** When the kill comes: at a random point in this range after the round's first acknowledged
 * order (so that writes are flowing), in milliseconds. */
const KILL_AFTER_MS = [300, 2000] as const;
/** A round whose writes do not start within this long fails. */
const FIRST_WRITE_WITHIN_MS = 30_000;
/** Registrations among the writes: one in this many. */
const REGISTRATION_EVERY = 6;

const ENV = {
  // Embedded PGlite: never the suite's PostgreSQL server.
  DATABASE_URL: '',
  AUTH_LOGIN_RATE_LIMIT: '10000/min',
  AUTH_REGISTER_RATE_LIMIT: '10000/min',
  HTTP_HEADERS_TIMEOUT: '5s',
  HTTP_REQUEST_TIMEOUT: '10s',
};

interface Owner {
  email: string;
  password: string;
  token: string;
  /** Acknowledged orders: id -> total. */
  orders: Map<string, string>;
}

interface Ledger {
  owners: Owner[];
  /** Acknowledged registrations: user id -> email. */
  users: Map<string, string>;
  ackedOrders: number;
  /** Writes that got no answer (the kill), or a non-2xx one: not acknowledged, not checked. */
  unacknowledged: number;
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: the status says enough.
  }
  return { status: res.status, json };
}

let sequence = 0;
const unique = () => `${Date.now().toString(36)}-${(sequence++).toString(36)}`;

async function register(
  base: string,
  ledger: Ledger,
): Promise<{ email: string; password: string } | null> {
  const email = `crash-${unique()}@example.com`;
  const password = `pebble harbor ${unique()} quartz`;
  const res = await call(base, 'POST', '/api/auth/register', { email, password, name: 'Crash' });
  if (res.status !== 201) return null;
  ledger.users.set(String((res.json['user'] as { id: string }).id), email);
  return { email, password };
}

async function login(base: string, email: string, password: string): Promise<string | null> {
  const res = await call(base, 'POST', '/api/auth/login', { email, password });
  return res.status === 200 ? String(res.json['token']) : null;
}

async function newOwner(base: string, ledger: Ledger): Promise<Owner | null> {
  const account = await register(base, ledger);
  if (!account) return null;
  const token = await login(base, account.email, account.password);
  if (!token) return null;
  const owner = { ...account, token, orders: new Map<string, string>() };
  ledger.owners.push(owner);
  return owner;
}

/**
 * One writer: orders as its owner (kept across rounds in `owners[id]`), now and then a
 * registration, until the app stops answering.
 */
async function writer(
  base: string,
  ledger: Ledger,
  round: number,
  id: number,
  owners: (Owner | null)[],
): Promise<void> {
  for (let n = 0; ; n++) {
    try {
      let owner = owners[id] ?? null;
      if (owner === null || owner.orders.size >= ORDERS_PER_OWNER) {
        owner = await newOwner(base, ledger);
        if (owner === null) throw new Error('no owner');
        owners[id] = owner;
        continue;
      }
      if (n % REGISTRATION_EVERY === 0) {
        if ((await register(base, ledger)) === null) ledger.unacknowledged++;
        continue;
      }
      // Unique per order: round, writer, sequence.
      const total = `${round}${id}${String(n).padStart(6, '0')}.${String(n % 100).padStart(2, '0')}`;
      const res = await call(base, 'POST', '/api/orders', { total }, owner.token);
      if (res.status === 201) {
        owner.orders.set(String((res.json['order'] as { id: string }).id), total);
        ledger.ackedOrders++;
      } else ledger.unacknowledged++;
    } catch {
      // The process was killed under this request: nothing was acknowledged.
      ledger.unacknowledged++;
      return;
    }
  }
}

/** Every acknowledged write is there: the orders through their owners, the users through admin. */
async function verify(base: string, ledger: Ledger): Promise<string[]> {
  const missing: string[] = [];
  for (const owner of ledger.owners) {
    let res = await call(base, 'GET', '/api/orders', undefined, owner.token);
    if (res.status === 401) {
      const token = await login(base, owner.email, owner.password);
      if (token) {
        owner.token = token;
        res = await call(base, 'GET', '/api/orders', undefined, token);
      }
    }
    if (res.status !== 200) {
      missing.push(`orders of ${owner.email}: ${res.status} ${String(res.json['code'])}`);
      continue;
    }
    const listed = res.json['orders'] as { id: string; total: string }[];
    const byId = new Map(listed.map((o) => [o.id, o.total]));
    const totals = listed.map((o) => o.total);
    if (new Set(totals).size !== totals.length)
      missing.push(`a duplicated order of ${owner.email}`);
    for (const [id, total] of owner.orders) {
      const found = byId.get(id);
      if (found === undefined || Number(found) !== Number(total)) {
        missing.push(`order ${id} (${total}) of ${owner.email}`);
      }
    }
  }
  const admin = DEMO_ACCOUNTS.find((a) => a.role === 'admin')!;
  const adminToken = await login(base, admin.email, admin.password);
  if (!adminToken) return [...missing, 'the demo admin cannot log in'];
  for (const [id, email] of ledger.users) {
    const res = await call(base, 'GET', `/api/users/${id}`, undefined, adminToken);
    if (res.status !== 200) missing.push(`user ${email}: ${res.status}`);
  }
  return missing;
}

async function start(dataDir: string): Promise<{ app: RunningExample; ms: number }> {
  const started = Date.now();
  const app = await startExample('express-api', ENV, { dataDir });
  return { app, ms: Date.now() - started };
}

async function kill(app: RunningExample): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  const exited = new Promise((resolve) => app.child.once('exit', resolve));
  app.child.kill('SIGKILL');
  await exited;
}

/**
 * Kills the Express example on PGlite with SIGKILL in the middle of writes, `quick ? 2 : 5`
 * times, restarting it on the same DATA_DIR each time; returns two checks: every restart opened
 * the database, and every acknowledged write survived every kill.
 */
export async function runCrashSafety(opts: { quick: boolean }): Promise<Check[]> {
  const rounds = opts.quick ? 2 : 5;
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'));
  const ledger: Ledger = { owners: [], users: new Map(), ackedOrders: 0, unacknowledged: 0 };
  const restarts: number[] = [];
  const problems: string[] = [];
  const missing = new Set<string>();
  let killed = 0;
  const owners: (Owner | null)[] = Array.from({ length: WRITERS }, () => null);
  let app: RunningExample | null = null;
  try {
    let first = await start(dataDir);
    app = first.app;
    const firstStartMs = first.ms;
    for (let round = 1; round <= rounds; round++) {
      const base = app.url;
      const before = ledger.ackedOrders;
      const writers = Array.from({ length: WRITERS }, (_, id) =>
        writer(base, ledger, round, id, owners),
      );
      const waitUntil = Date.now() + FIRST_WRITE_WITHIN_MS;
      while (ledger.ackedOrders === before && Date.now() < waitUntil) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (ledger.ackedOrders === before) {
        problems.push(`round ${round}: no order acknowledged within ${FIRST_WRITE_WITHIN_MS} ms`);
      }
      const delay = KILL_AFTER_MS[0] + Math.random() * (KILL_AFTER_MS[1] - KILL_AFTER_MS[0]);
      await new Promise((r) => setTimeout(r, delay));
      await kill(app);
      killed++;
      await Promise.all(writers);
      try {
        first = await start(dataDir);
        app = first.app;
        restarts.push(first.ms);
      } catch (err) {
        problems.push(
          `restart ${round} failed: ${(err as Error).message.split('\n').slice(0, 4).join(' / ')}`,
        );
        app = null;
        break;
      }
      for (const m of await verify(app.url, ledger)) missing.add(`after kill ${round}: ${m}`);
    }
    const opened = problems.length === 0 && restarts.length === rounds;
    const orders = ledger.owners.reduce((sum, o) => sum + o.orders.size, 0);
    return [
      check(
        `crash safety: ${rounds} kill -9 of the Express example on PGlite during writes; every restart opens the database`,
        opened,
        `${killed} kills; first start ${(firstStartMs / 1000).toFixed(1)} s, restarts ${restarts.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}` +
          (problems.length ? `; ${problems.join('; ')}` : ''),
      ),
      check(
        'crash safety: every write acknowledged before a kill is there after the restarts',
        opened && missing.size === 0 && orders > 0,
        `${orders} orders and ${ledger.users.size} registrations acknowledged, ${ledger.unacknowledged} writes cut off by the kills` +
          (missing.size
            ? `; missing: ${[...missing].slice(0, 5).join('; ')}${missing.size > 5 ? ` (+${missing.size - 5})` : ''}`
            : ''),
      ),
    ];
  } finally {
    if (app) await kill(app);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
