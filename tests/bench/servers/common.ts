// What every benchmark server process shares: its configuration (from the environment, set by
// tests/bench/servers.ts), the gatehouse instance with its user and token pool, and the line it
// prints on stdout once it listens. A server process serves one route, GET /, guarded or not.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type Auth, type AuthOptions, createAuth, seedPolicy } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { CountingHasher } from '../../helpers/fakes.js';

/** The guard in front of GET / (and GET /users/:id for `authorize`). */
export type Variant = 'bare' | 'peer' | 'authenticate' | 'authorize';

export interface ServerConfig {
  variant: Variant;
  store: 'memory' | 'postgres';
  secret: string;
  issuer: string;
  audience: string;
  /** Where a gatehouse server writes its token pool, one token a line. */
  tokensFile: string | undefined;
  /** Tokens to mint beyond the verified-token cache size (a fresh-token pool), 0 for one token. */
  pool: boolean;
  /** Register the OpenTelemetry SDK's global providers before createAuth (./telemetry-sdk.ts). */
  telemetry: boolean;
}

const VARIANTS: readonly Variant[] = ['bare', 'peer', 'authenticate', 'authorize'];

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`bench server: ${name} is not set`);
  return value;
}

export function readConfig(): ServerConfig {
  const variant = required('BENCH_VARIANT') as Variant;
  if (!VARIANTS.includes(variant))
    throw new Error(`bench server: unknown BENCH_VARIANT ${variant}`);
  const store = process.env['BENCH_STORE'] === 'postgres' ? 'postgres' : 'memory';
  return {
    variant,
    store,
    secret: required('BENCH_SECRET'),
    issuer: required('BENCH_ISSUER'),
    audience: required('BENCH_AUDIENCE'),
    tokensFile: process.env['BENCH_TOKENS_FILE'],
    pool: process.env['BENCH_POOL'] === '1',
    telemetry: process.env['BENCH_TELEMETRY'] === '1',
  };
}

export interface BenchAuth {
  auth: Auth<typeof seedPolicy>;
  userId: string;
  /** The verified-token cache size in force (the pool is larger). */
  cacheSize: number;
  /** `tokens.revocationCacheTtl` as resolved (unset: the store's default rule), for the report. */
  revocationCacheTtl: unknown;
  /** Whether the token store delivers revocation events (`watchRevocations`). */
  revocationWatch: boolean;
  tokenCount: number;
  close(): Promise<void>;
}

/**
 * The gatehouse instance of a server: HS256 with the shared secret, issuer and audience, the
 * memory stores or the Postgres stores on DATABASE_URL, every other option at its default.
 * Registers one user, logs in and mints the token pool by refreshing the session (each refresh
 * signs a new access token of the same session: distinct strings, all valid), then writes the
 * pool to the tokens file.
 */
export async function createBenchAuth(config: ServerConfig): Promise<BenchAuth> {
  let closeDb = async () => {};
  let stores: AuthOptions['stores'];
  if (config.store === 'postgres') {
    const url = required('DATABASE_URL');
    const pg = await import('pg');
    const { createPostgresStores, migrate } = await import('../../../adapters/postgres/index.js');
    const pool = new pg.default.Pool({ connectionString: url, max: 10 });
    pool.on('error', () => {});
    // A fresh schema of its own: several runs may share one database.
    const where = { schema: `gh_bench_${randomBytes(6).toString('hex')}` };
    await migrate(pool, { ...where, roles: ['user', 'admin'] });
    stores = createPostgresStores(pool, where).stores;
    closeDb = async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${where.schema}" CASCADE`).catch(() => {});
      await pool.end();
    };
  } else {
    stores = undefined;
  }
  if (config.telemetry) {
    const sdk = (await import('./telemetry-sdk.js')).registerBenchTelemetry();
    const closeStores = closeDb;
    closeDb = async () => {
      await sdk.shutdown();
      await closeStores();
    };
  }
  const auth = createAuth({
    policy: seedPolicy,
    // Logins are not measured here: a fake hasher keeps the start fast.
    passwordHasher: new CountingHasher(),
    rateLimits: { login: false, refresh: false, register: false },
    ...(stores ? { stores } : {}),
    // Required in production with a shared attempt store; the same on every bench server.
    identifierKey: 'bench-identifier-key-0123456789',
    tokens: {
      keys: [{ kid: 'bench', alg: 'HS256', key: config.secret }],
      issuer: config.issuer,
      audience: config.audience,
      // The pool must outlive a full run (about 15 minutes).
      accessTtl: '1h',
    },
  });
  const email = `bench-${process.pid}@example.com`;
  const password = 'correct horse battery staple';
  const user = await auth.register({ email, password, name: 'Bench' });
  const login = await auth.login({ email, password });
  // The comparison means nothing unless telemetry really is on (or off) as asked.
  const telemetry = (internalsOf(auth) as { telemetry?: { enabled?: unknown } }).telemetry;
  if ((telemetry?.enabled === true) !== config.telemetry) {
    throw new Error(
      `bench server: telemetry is ${telemetry?.enabled ? 'on' : 'off'}, not as asked`,
    );
  }
  const resolved = internalsOf(auth).config.tokens;
  const cacheSize = resolved.verifiedCacheSize;
  const tokens = [login.token];
  if (config.pool) {
    // A quarter more than the cache holds: taken in turn, each token was last seen more than
    // cacheSize requests ago, so the LRU cache has dropped it and every request is a miss.
    const size = Math.ceil(cacheSize * 1.25) + 1000;
    let refreshToken = login.refreshToken;
    while (tokens.length < size) {
      const issued = await auth.refresh(refreshToken);
      tokens.push(issued.token);
      refreshToken = issued.refreshToken;
    }
  }
  if (config.tokensFile) writeFileSync(config.tokensFile, `${tokens.join('\n')}\n`);
  return {
    auth,
    userId: user.id,
    cacheSize,
    revocationCacheTtl: resolved.revocationCacheTtl ?? null,
    revocationWatch:
      typeof (internalsOf(auth).stores.tokens as { watchRevocations?: unknown })
        .watchRevocations === 'function',
    tokenCount: tokens.length,
    close: async () => {
      await auth.close();
      await closeDb();
    },
  };
}

/** The one line on stdout the bench waits for. */
export function announce(port: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ listening: true, port, ...extra })}\n`);
}

/** Stops on SIGTERM/SIGINT or when the bench process (our stdin) goes away. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const exit = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', exit);
  process.once('SIGINT', exit);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
  process.stdin.resume();
}
