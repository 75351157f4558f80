// What the load and fault checks verify afterwards, in the database directly (a pg client of its
// own) and through the app: orders, registrations, refresh chains, lockout counters, rate limits.
import { lockoutKeyHasher, secretBytes } from '../../src/credentials/identifier-key.js';
import { address, Client, type Stats } from './http-client.js';
import { type Ledger, LIMITS } from './workload.js';

export interface Db {
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface Verdict {
  ok: boolean;
  detail: string;
}

const list = (items: string[], max = 3) =>
  items.slice(0, max).join('; ') + (items.length > max ? `; … ${items.length - max} more` : '');

/**
 * Every order the app answered 201 exists exactly once, with its user; an order whose answer was
 * lost (503, transport failure) exists at most once; no other order exists.
 */
export async function checkOrders(db: Db, ledger: Ledger): Promise<Verdict> {
  const { rows } = await db.query<{ total: string; user_id: string; id: string; n: number }>(
    'SELECT total::text AS total, min(user_id::text) AS user_id, min(id::text) AS id, count(*)::int AS n FROM orders GROUP BY total',
  );
  const problems: string[] = [];
  const found = new Map(rows.map((r) => [r.total, r]));
  let acked = 0;
  let lost = 0;
  let lostSaved = 0;
  for (const [total, order] of ledger.orders) {
    const row = found.get(total);
    if (order.acked) {
      acked++;
      if (!row) problems.push(`acknowledged order ${total} is missing`);
      else if (row.n !== 1) problems.push(`order ${total} exists ${row.n} times`);
      else if (row.user_id !== order.userId || (order.id && row.id !== order.id)) {
        problems.push(`order ${total} belongs to ${row.user_id}, not ${order.userId}`);
      }
    } else {
      lost++;
      if (row && row.n > 1) problems.push(`unacknowledged order ${total} exists ${row.n} times`);
      if (row) lostSaved++;
    }
  }
  for (const row of rows) {
    if (!ledger.orders.has(row.total)) problems.push(`order ${row.total} was never sent`);
  }
  return {
    ok: problems.length === 0 && acked > 0,
    detail:
      problems.length > 0
        ? list(problems)
        : `${acked} acknowledged orders each once, ${rows.length} rows${lost ? `, ${lost} unanswered (${lostSaved} saved)` : ''}`,
  };
}

/** Every registration answered 201 is a user in the database, once. */
export async function checkUsers(db: Db, ledger: Ledger): Promise<Verdict> {
  const { rows } = await db.query<{ email: string; id: string }>(
    'SELECT email, id::text AS id FROM users',
  );
  const byEmail = new Map(rows.map((r) => [r.email.toLowerCase(), r.id]));
  const problems: string[] = [];
  let acked = 0;
  for (const [email, id] of ledger.users) {
    if (id === null) continue;
    acked++;
    if (byEmail.get(email) !== id) problems.push(`registered ${email} (${id}) is missing`);
  }
  return {
    ok: problems.length === 0 && acked > 0,
    detail: problems.length > 0 ? list(problems) : `${acked} acknowledged registrations present`,
  };
}

/**
 * Every live refresh chain still refreshes (and the chain moves on to the new token); every
 * logged-out one is refused, with its access token. Sent from addresses of their own (`net`),
 * at most 20 per address, so the refresh limit is never reached.
 */
export async function checkChains(
  baseUrl: string,
  ledger: Ledger,
  net: number,
  stats: Stats,
): Promise<Verdict> {
  const problems: string[] = [];
  let live = 0;
  let refused = 0;
  const clients: Client[] = [];
  const clientFor = (n: number) => {
    const index = Math.floor(n / 20);
    clients[index] ??= new Client(
      address(net, 1 + Math.floor(index / 250), (index % 250) + 1),
      baseUrl,
      stats,
      4,
    );
    return clients[index]!;
  };
  let n = 0;
  const work = ledger.chains.map((chain) => ({ chain, client: clientFor(n++) }));
  // Eight at a time.
  for (let i = 0; i < work.length; i += 8) {
    await Promise.all(
      work.slice(i, i + 8).map(async ({ chain, client }) => {
        const answer = await client.send('POST', '/api/auth/refresh', {
          body: { refreshToken: chain.refresh },
          route: 'verify refresh',
        });
        if (chain.state === 'live') {
          if (answer.status === 200) {
            live++;
            chain.access = answer.body.token;
            chain.refresh = answer.body.refreshToken;
          } else {
            problems.push(
              `live chain of ${chain.email}: refresh answered ${answer.status} ${answer.text.slice(0, 100)}`,
            );
          }
        } else {
          const me = await client.send('GET', '/api/auth/me', {
            token: chain.access,
            route: 'verify logged out',
          });
          if (answer.status === 401 && me.status === 401) refused++;
          else
            problems.push(
              `logged-out chain of ${chain.email}: refresh ${answer.status}, access ${me.status}`,
            );
        }
      }),
    );
  }
  for (const c of clients) c?.close();
  return {
    ok: problems.length === 0 && live > 0,
    detail:
      problems.length > 0
        ? list(problems)
        : `${live} live chains refreshed, ${refused} logged-out chains refused`,
  };
}

/**
 * The lockout counters equal what the failed logins imply. Per identifier with F logins that
 * reached the password check or the lock (F = 401s + 403s): exactly min(F, threshold) answered
 * 401 (never more password checks than the threshold); at the threshold the row holds one lock
 * (`lockouts` 1, `locked_until` in the future) and `attempts` counts the refusals since (403s),
 * less the one refused reservation that took the lock in a concurrent burst; below it, `attempts`
 * is F and there is no lock. 429s (the per-address limit) never reach the counter. Every other
 * row would be a counter that a successful login did not clear: there must be none.
 */
export async function checkLockout(
  db: Db,
  ledger: Ledger,
  identifierKey: string,
): Promise<Verdict> {
  const keyOf = lockoutKeyHasher(secretBytes(identifierKey));
  const { rows } = await db.query<{
    key: string;
    attempts: number;
    locked: boolean;
    lockouts: number;
  }>(
    'SELECT key, attempts, (locked_until IS NOT NULL AND locked_until > now()) AS locked, lockouts FROM login_attempts',
  );
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const problems: string[] = [];
  let locked = 0;
  const expectedKeys = new Set<string>();
  for (const a of ledger.attacks.values()) {
    const key = keyOf(a.email);
    const row = byKey.get(key);
    const reached = a.n401 + a.n403;
    const T = LIMITS.lockout;
    if (a.n401 + a.n403 + a.n429 !== a.sent) problems.push(`${a.email}: unexpected answers`);
    if (!a.concurrent && a.n429 !== Math.max(0, a.sent - LIMITS.login)) {
      problems.push(
        `${a.email}: ${a.n429} answers 429, expected ${Math.max(0, a.sent - LIMITS.login)}`,
      );
    }
    if (a.n401 !== Math.min(reached, T))
      problems.push(
        `${a.email}: ${a.n401} password checks failed, expected ${Math.min(reached, T)}`,
      );
    if (reached === 0) continue;
    expectedKeys.add(key);
    if (!row) {
      problems.push(`${a.email}: no counter row`);
    } else if (reached >= T) {
      const attemptsOk =
        row.attempts === a.n403 || (a.concurrent && a.n403 > 0 && row.attempts === a.n403 - 1);
      if (!row.locked || row.lockouts !== 1 || !attemptsOk) {
        problems.push(
          `${a.email}: locked ${row.locked}, lockouts ${row.lockouts}, attempts ${row.attempts} (401 ${a.n401}, 403 ${a.n403})`,
        );
      } else locked++;
    } else if (row.locked || row.lockouts !== 0 || row.attempts !== reached) {
      problems.push(
        `${a.email}: locked ${row.locked}, lockouts ${row.lockouts}, attempts ${row.attempts}, expected ${reached} attempts and no lock`,
      );
    }
  }
  const stray = rows.filter((r) => !expectedKeys.has(r.key));
  if (stray.length > 0)
    problems.push(
      `${stray.length} counter rows no failure explains (attempts ${stray.map((r) => r.attempts).join(',')})`,
    );
  return {
    ok: problems.length === 0 && locked > 0,
    detail:
      problems.length > 0
        ? list(problems)
        : `${ledger.attacks.size} identifiers attacked, ${locked} locked, ${rows.length} counter rows, none stray`,
  };
}

/**
 * The rate-limit counters equal the requests sent per address and route (login, register,
 * refresh), for every address in the ledger; no other counter exists for the phases' addresses.
 */
export async function checkRates(db: Db, ledger: Ledger, nets: number[]): Promise<Verdict> {
  const { rows } = await db.query<{ key: string; hits: number }>(
    'SELECT key, hits FROM rate_limits',
  );
  const byKey = new Map(rows.map((r) => [r.key, r.hits]));
  const problems: string[] = [];
  let limited = 0;
  for (const [key, sent] of ledger.rate) {
    const hits = byKey.get(key);
    if (hits !== sent) problems.push(`${key}: counter ${hits ?? 'missing'}, sent ${sent}`);
    const route = key.split(':')[0] as 'login' | 'register' | 'refresh';
    if (sent > LIMITS[route]) limited++;
  }
  const ours = (key: string) => nets.some((net) => key.split(':')[1]?.startsWith(`127.${net}.`));
  for (const row of rows) {
    if (ours(row.key) && !ledger.rate.has(row.key))
      problems.push(`${row.key}: counter ${row.hits}, nothing sent`);
  }
  return {
    ok: problems.length === 0 && limited > 0,
    detail:
      problems.length > 0
        ? list(problems)
        : `${ledger.rate.size} counters (login, register, refresh per address) equal requests sent; ${limited} addresses over their limit`,
  };
}
