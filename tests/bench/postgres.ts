// On PostgreSQL: authenticated req/s of gatehouse's Express authenticate() with the Postgres
// stores (DATABASE_URL) against the same server on the memory stores, interleaved in one run,
// one warm token each (a verified-token cache hit: what is left is the session-state read).
import { checkServer, type Measured, measureCases, planOf, startAll } from './http.js';
import type { RunningServer } from './processes.js';
import { type BenchContext, figureOf, type SuiteResult } from './report.js';

export const POSTGRES_SERVERS = {
  memory: { framework: 'express', variant: 'authenticate', store: 'memory' },
  postgres: { framework: 'express', variant: 'authenticate', store: 'postgres' },
} as const;

const TITLE = 'PostgreSQL token store vs memory store (Express authenticate(), warm token)';

/** A summary of where the database is (never its password). */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

export async function run(ctx: BenchContext): Promise<SuiteResult> {
  const url = process.env['DATABASE_URL'];
  if (!url) {
    return {
      suite: 'postgres',
      title: TITLE,
      figures: [],
      targets: [],
      notes: [
        'skipped: DATABASE_URL is not set and no PostgreSQL server binaries were found (npm run bench starts a throwaway server with scripts/with-postgres.sh when /usr/lib/postgresql/*/bin/initdb exists).',
      ],
    };
  }
  const plan = planOf(ctx.quick);
  const notes: string[] = [
    `PostgreSQL at ${describeUrl(url)}; each server its own process and its own schema; pg.Pool of 10; ${plan.connections} connections, ${plan.rounds} interleaved rounds of ${plan.seconds} s.`,
  ];
  ctx.log('starting the memory and PostgreSQL servers');
  const servers = await startAll(POSTGRES_SERVERS);
  try {
    for (const server of Object.values(servers)) await checkServer(server, server.tokens);
    const describe = (server: RunningServer) =>
      `revocationCacheTtl ${server.revocationCacheTtl == null ? "unset (the store's default)" : JSON.stringify(server.revocationCacheTtl)}, revocation watch ${server.revocationWatch ? 'yes' : 'no'}`;
    notes.push(
      `default options: memory store ${describe(servers.memory)}; Postgres store ${describe(servers.postgres)}.`,
    );
    const cases: Measured[] = [
      {
        name: 'memory store',
        server: servers.memory,
        feed: () => ({ mode: 'warm', token: servers.memory.tokens[0]! }),
      },
      {
        name: 'Postgres store',
        server: servers.postgres,
        feed: () => ({ mode: 'warm', token: servers.postgres.tokens[0]! }),
      },
    ];
    const figures = await measureCases(ctx, cases, plan, notes);
    const memory = figures.find((f) => f.name === 'memory store')!;
    const postgres = figures.find((f) => f.name === 'Postgres store')!;
    // Per round: the two cases ran back to back, so their ratio shares the round's load.
    const ratios = postgres.samples
      .map((p, i) => p / (memory.samples[i] ?? Number.NaN))
      .filter((r) => Number.isFinite(r));
    if (postgres.samples.length === memory.samples.length) {
      figures.push(figureOf('Postgres / memory (per round)', 'x', ratios));
    }
    return { suite: 'postgres', title: TITLE, figures, targets: [], notes };
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}
