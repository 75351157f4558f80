// The fault check of one app: a 30 s load during which PostgreSQL is killed (`pg_ctl stop -m
// immediate`) at about 10 s and started again at about 20 s.
import pg from 'pg';
import type { AppUnderTest } from './app-process.js';
import { type Check, check } from './check.js';
import { checkChains, checkOrders, checkUsers } from './db-checks.js';
import { type Answer, Stats } from './http-client.js';
import type { PostgresServer } from './postgres.js';
import { isGeneric503, type Ledger, runPhase } from './workload.js';

export interface FaultOptions {
  quick: boolean;
  /** First of the two address blocks (127.<net>.x.y) of this phase. */
  net: number;
}

/** The routes of the fault workload, each of which needs the database. */
const DATABASE_ROUTES = new Set([
  'POST /api/auth/register',
  'POST /api/auth/login',
  'POST /api/auth/refresh',
  'POST /api/orders',
  'GET /api/orders',
  'GET /api/auth/me',
  'GET /api/users/:id',
]);

/**
 * Log lines written for one outage may not exceed this, whatever the number of failed requests.
 * Six parts of the app log an outage (the database tracker, the 503s of the HTTP layer, the pool's
 * dropped connections, the revocation watch, and the mail workers of the app's two gatehouse
 * instances), each a first line, at most one summary per 10 s interval and a last line (see
 * src/http/outage-log.ts): for a 10 s outage about 3 each, 18 in all; the bound leaves room for
 * one more interval of each.
 */
export const OUTAGE_LOG_LINES_MAX = 24;

/** Lines written per request whatever the database does: the access line, audit events, and
 * the development mailer's "mail (not sent: no SMTP_URL)" for each registration's mail. */
const NOT_OUTAGE = /^(request|security event|mail \(not sent: no SMTP_URL\))$/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const show = (a: Answer) => `${a.route} -> ${a.status || a.error} ${a.text.slice(0, 120)}`;

interface LogLine {
  time?: string;
  level?: string;
  msg?: string;
}

export async function runFault(
  app: AppUnderTest,
  server: PostgresServer,
  ledger: Ledger,
  options: FaultOptions,
): Promise<Check[]> {
  const name = `${app.name}: fault`;
  const total = options.quick ? 15_000 : 30_000;
  const killAt = options.quick ? 5_000 : 10_000;
  const startAt = options.quick ? 10_000 : 20_000;
  const stats = new Stats(true);
  const unexpectedBefore = ledger.unexpectedCount;
  const chainsBefore = ledger.chains.length;
  const outputBefore = app.process.output().length;
  const t = { killing: 0, killed: 0, starting: 0, up: 0 };
  const phaseStart = Date.now();
  const controller = (async () => {
    await sleep(killAt);
    t.killing = Date.now();
    await server.kill();
    t.killed = Date.now();
    await sleep(Math.max(0, startAt - (Date.now() - phaseStart)));
    t.starting = Date.now();
    await server.start();
    t.up = Date.now();
  })();
  await Promise.all([
    runPhase({
      baseUrl: app.baseUrl,
      stats,
      ledger,
      net: options.net,
      tag: `${app.name}-fault`,
      durationMs: total,
      users: 20,
      attackers: 0,
      spammers: 0,
      countRates: false,
      tolerate503: true,
      churn: true,
    }),
    controller,
  ]);
  await controller;
  const answers = stats.answers;
  const checks: Check[] = [];

  // While down: sent after the kill completed, answered before the start began.
  const down = answers.filter((a) => a.sentAt >= t.killed && a.receivedAt <= t.starting);
  const downBad = down.filter((a) => !DATABASE_ROUTES.has(a.route) || !isGeneric503(a));
  checks.push(
    check(
      `${name}: while PostgreSQL is down every request answers 503 SERVER_ERROR with the generic body`,
      down.length > 0 && downBad.length === 0,
      downBad.length > 0
        ? `${downBad.length} of ${down.length}: ${show(downBad[0]!)}`
        : `${down.length} requests in ${((t.starting - t.killed) / 1000).toFixed(1)} s, all 503 generic, none authorized`,
    ),
  );

  const serverErrors = answers.filter(
    (a) => a.status === 0 || (a.status >= 500 && !isGeneric503(a)),
  );
  // The examples have no health route: the JWKS route answers without the database.
  const health = await fetch(`${app.baseUrl}/.well-known/jwks.json`).then(
    (r) => r.status,
    () => 0,
  );
  checks.push(
    check(
      `${name}: nothing answers 500 and the process stays up`,
      serverErrors.length === 0 && app.alive() && health === 200,
      serverErrors.length > 0
        ? `${serverErrors.length} answers: ${show(serverErrors[0]!)}`
        : `${answers.length} requests, ${answers.filter((a) => a.status === 503).length} 503s, then the JWKS route ${health}, process ${app.alive() ? 'up' : 'gone'}`,
    ),
  );

  const firstOk = answers
    .filter((a) => a.receivedAt >= t.up && a.status >= 200 && a.status < 300)
    .sort((a, b) => a.receivedAt - b.receivedAt)[0];
  const recovery = firstOk ? firstOk.receivedAt - t.up : Number.POSITIVE_INFINITY;
  checks.push(
    check(
      `${name}: first 2xx within 2 s of PostgreSQL accepting connections again`,
      recovery <= 2000,
      firstOk
        ? `first 2xx ${Math.round(recovery)} ms after (${firstOk.route})`
        : 'no 2xx after the restart',
    ),
  );

  const unexpected = ledger.unexpectedCount - unexpectedBefore;
  checks.push(
    check(
      `${name}: every other answer is the expected one (no 401 for a valid token, no refused write)`,
      unexpected === 0,
      unexpected === 0
        ? `${answers.length} answers`
        : `${unexpected}: ${ledger.unexpected.slice(-3).join(' | ')}`,
    ),
  );

  const db = new pg.Client({ connectionString: server.url });
  await db.connect();
  try {
    const orders = await checkOrders(db, ledger);
    const users = await checkUsers(db, ledger);
    const chains = await checkChains(app.baseUrl, ledger, options.net + 1, new Stats());
    const newChains = ledger.chains.length - chainsBefore;
    checks.push(
      check(
        `${name}: every write acknowledged before, during and after the outage is in the database once`,
        orders.ok && users.ok && chains.ok,
        `${orders.detail}; ${users.detail}; ${newChains} sessions started in the phase, ${chains.detail}`,
      ),
    );
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM sessions WHERE revoked_reason IS NOT NULL AND revoked_reason <> 'logout'",
    );
    const { rows: reasons } = await db.query<{ reason: string; n: number }>(
      'SELECT revoked_reason AS reason, count(*)::int AS n FROM sessions WHERE revoked_reason IS NOT NULL GROUP BY 1',
    );
    checks.push(
      check(
        `${name}: no refresh family revoked by the outage`,
        rows[0]!.n === 0 && chains.ok,
        `revoked sessions by reason: ${reasons.map((r) => `${r.reason} ${r.n}`).join(', ') || 'none'}; ${chains.detail}`,
      ),
    );
  } finally {
    await db.end();
  }

  // The log: lines other than the per-request access line and the audit events, written from
  // the kill until the phase ended (the "back" lines included).
  await sleep(1000);
  const lines = app.process
    .output()
    .slice(outputBefore)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as LogLine;
      } catch {
        return {} as LogLine;
      }
    });
  const outage = lines.filter((l) => {
    const time = l.time ? Date.parse(l.time) : 0;
    return time >= t.killing && !NOT_OUTAGE.test(l.msg ?? '');
  });
  const failures = answers.filter((a) => a.status === 503).length;
  const plain = app.process
    .output()
    .slice(outputBefore)
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('{')).length;
  checks.push(
    check(
      `${name}: the log holds a bounded number of lines for the outage (at most ${OUTAGE_LOG_LINES_MAX})`,
      outage.length + plain <= OUTAGE_LOG_LINES_MAX && outage.length > 0,
      `${outage.length + plain} lines for ${failures} failed requests: ${summarize(outage)}${plain ? `, ${plain} non-JSON` : ''}`,
    ),
  );
  return checks;
}

function summarize(lines: LogLine[]): string {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(`${l.msg}`, (counts.get(`${l.msg}`) ?? 0) + 1);
  return [...counts].map(([msg, n]) => `${n}× "${msg}"`).join(', ');
}
