// The load check of one app (and the memory check, measured around it): a warm-up, then the
// mixed workload at 30+ requests in flight from many client addresses, then the database checks.
import pg from 'pg';
import type { AppUnderTest } from './app-process.js';
import { type Check, check } from './check.js';
import { checkChains, checkLockout, checkOrders, checkRates, checkUsers } from './db-checks.js';
import { quantile, Stats } from './http-client.js';
import { type Ledger, runPhase } from './workload.js';

export interface LoadOptions {
  quick: boolean;
  /** First of the address blocks (127.<net>.x.y) this app's load phases use (4 in all). */
  net: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

/**
 * RSS after the load may exceed the warm-up level by at most this fraction of it plus a fixed
 * allowance. The warm-up runs the same mix of routes, so V8 has compiled them and sized its young
 * generation; what remains is old-generation growth that a full GC (which the app is not made
 * to run) has not yet reclaimed, and malloc arenas. A store or cache growing per request (the
 * load sends ~10 000+ requests, creating thousands of sessions and orders) would exceed it.
 */
export const MEMORY_MARGIN = { fraction: 0.25, fixedBytes: 24 * MiB };

function ms(n: number): string {
  return `${Math.round(n)} ms`;
}

/** Runs the warm-up, the load and its checks, and the memory check. */
export async function runLoad(
  app: AppUnderTest,
  databaseUrl: string,
  ledger: Ledger,
  options: LoadOptions,
): Promise<{ checks: Check[]; memory: Check; info: string[] }> {
  const name = `${app.name}: load`;
  const checks: Check[] = [];
  const durationMs = options.quick ? 12_000 : 60_000;

  // Warm-up: the same mix, shorter, from its own addresses. Its RSS is sampled throughout: the
  // peak is the level the heap reaches under this load before any collection brings it down.
  const warmSamples: number[] = [];
  const sampler = setInterval(() => warmSamples.push(app.rss()), 250);
  await runPhase({
    baseUrl: app.baseUrl,
    stats: new Stats(),
    ledger,
    net: options.net,
    tag: `${app.name}-warm`,
    durationMs: options.quick ? 4_000 : 12_000,
    users: 24,
    attackers: 3,
    spammers: 1,
    countRates: true,
    tolerate503: false,
  });
  await sleep(3000);
  clearInterval(sampler);
  const warmRss = Math.max(...warmSamples, app.rss());

  const stats = new Stats();
  const started = Date.now();
  stats.startSampling();
  await runPhase({
    baseUrl: app.baseUrl,
    stats,
    ledger,
    net: options.net + 1,
    tag: `${app.name}-load`,
    durationMs,
    users: 24,
    attackers: 6,
    spammers: 3,
    burstAtMs: Math.round(durationMs / 3),
    countRates: true,
    tolerate503: false,
  });
  const seconds = (Date.now() - started) / 1000;
  const inFlight = stats.stopSampling();
  const all = stats.all();
  const fivexx = stats.countStatus(500, 599);
  const failed = stats.countStatus(0, 0);
  checks.push(
    check(
      `${name}: zero 5xx`,
      fivexx === 0 && failed === 0 && stats.count > 0,
      `${stats.count} requests in ${seconds.toFixed(0)} s, ${Math.round(stats.count / seconds)} rps, p50 ${ms(quantile(all, 0.5))}, p99 ${ms(quantile(all, 0.99))}, ${inFlight.toFixed(1)} in flight on average; 5xx ${fivexx}, unanswered ${failed}`,
    ),
  );
  checks.push(
    check(
      `${name}: every answer is the expected one (users never refused; attackers 401, then 403 locked, then 429)`,
      ledger.unexpectedCount === 0,
      ledger.unexpectedCount === 0
        ? `${stats.count} answers`
        : `${ledger.unexpectedCount} unexpected: ${ledger.unexpected.slice(0, 3).join(' | ')}`,
    ),
  );
  // Figures per route, printed under the checks (latency depends on the machine: not a check).
  const routes = [...stats.latencies.entries()].sort((a, b) => b[1].length - a[1].length);
  const info = routes.map(
    ([route, l]) =>
      `${app.name}: load: ${route}: ${l.length} requests, ${(l.length / seconds).toFixed(1)} rps, p50 ${ms(quantile(l, 0.5))}, p99 ${ms(quantile(l, 0.99))}`,
  );

  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const orders = await checkOrders(db, ledger);
    checks.push(
      check(
        `${name}: every order answered 201 exists exactly once, and no other`,
        orders.ok,
        orders.detail,
      ),
    );
    const users = await checkUsers(db, ledger);
    checks.push(check(`${name}: every registration answered 201 exists`, users.ok, users.detail));
    const lockout = await checkLockout(db, ledger, app.identifierKey);
    checks.push(
      check(
        `${name}: lockout counters and locks equal what the failed logins imply`,
        lockout.ok,
        lockout.detail,
      ),
    );
    const rates = await checkRates(db, ledger, [options.net, options.net + 1]);
    checks.push(
      check(
        `${name}: rate-limit counters equal the requests sent per address`,
        rates.ok,
        rates.detail,
      ),
    );
    const chains = await checkChains(app.baseUrl, ledger, options.net + 2, new Stats());
    checks.push(
      check(
        `${name}: every live refresh chain refreshes, every logged-out one is refused`,
        chains.ok,
        chains.detail,
      ),
    );
  } finally {
    await db.end();
  }

  // After a short idle: the lowest of a few samples (what the process holds, not a GC in flight).
  const afterSamples: number[] = [];
  for (let i = 0; i < 12; i++) {
    await sleep(250);
    afterSamples.push(app.rss());
  }
  const afterRss = Math.min(...afterSamples);
  const limit = warmRss * (1 + MEMORY_MARGIN.fraction) + MEMORY_MARGIN.fixedBytes;
  const memory = check(
    `${app.name}: memory: RSS after the load within 25% + 24 MiB of the warm-up peak`,
    warmRss > 0 && afterRss > 0 && afterRss <= limit,
    `warm-up peak ${(warmRss / MiB).toFixed(1)} MiB, after ${stats.count} requests ${(afterRss / MiB).toFixed(1)} MiB (${afterRss >= warmRss ? '+' : ''}${(((afterRss - warmRss) / warmRss) * 100).toFixed(1)}%), limit ${(limit / MiB).toFixed(1)} MiB`,
  );
  return { checks, memory, info };
}
