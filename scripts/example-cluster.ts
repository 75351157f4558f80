// `npm run example:cluster`: two instances of the Express example on one PostgreSQL and one
// Redis, all on 127.0.0.1, to watch the counters and revocations shared across instances.
//
// 1. PostgreSQL and Redis come from scripts/with-postgres.sh and scripts/with-redis.sh (nested,
//    in a process group of their own): throwaway servers on free ports of 127.0.0.1 in temporary
//    folders, installed with apt-get by those scripts when missing. A small holder process under
//    them prints DATABASE_URL and REDIS_URL and lives until its stdin closes; then the scripts
//    stop their server and remove its folder. If this process dies, even by SIGKILL, the pipe
//    closes and the servers still go.
// 2. The schema is migrated and the demo accounts seeded once, here.
// 3. Two instances of examples/express-api/server.ts start as separate processes (PORT unset:
//    free ports; PORT=3000: 3000 and 3001) with one JWT_SECRET and AUTH_IDENTIFIER_KEY.
// 4. Ctrl+C (SIGINT) or SIGTERM: the instances stop first (SIGTERM, unless the terminal's
//    SIGINT reached them already), then Redis and PostgreSQL, then the temporary folders go.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NAMES = ['a', 'b'] as const;

// The holder: prints where the servers are, then waits for its stdin to end (or a signal).
const HOLDER = `
process.stdout.write(JSON.stringify({ databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL }) + '\\n');
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => {});
`;

const say = (line: string) => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`example:cluster: ${line}\n`);

interface Instance {
  name: string;
  child: ChildProcess;
  port: number;
  shuttingDown: boolean;
  exited: Promise<void>;
}

const exitOf = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));

const within = (promise: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref()),
  ]);

/** Starts the servers under the two scripts; resolves with their URLs. */
async function startServers(): Promise<{
  holder: ChildProcess;
  databaseUrl: string;
  redisUrl: string;
}> {
  const holder = spawn(
    'bash',
    [
      join(ROOT, 'scripts', 'with-postgres.sh'),
      'bash',
      join(ROOT, 'scripts', 'with-redis.sh'),
      process.execPath,
      '-e',
      HOLDER,
    ],
    // A process group of its own: the terminal's Ctrl+C reaches only us, and we stop the servers
    // after the instances, not under them.
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'], detached: true },
  );
  const line = await new Promise<string | null>((resolve) => {
    const lines = createInterface({ input: holder.stdout! });
    lines.once('line', (text) => resolve(text));
    holder.once('exit', () => resolve(null));
  });
  if (line === null) {
    throw new Error(
      'could not start PostgreSQL and Redis (scripts/with-postgres.sh, scripts/with-redis.sh: see above)',
    );
  }
  holder.stdout!.resume();
  const { databaseUrl, redisUrl } = JSON.parse(line) as { databaseUrl: string; redisUrl: string };
  return { holder, databaseUrl, redisUrl };
}

/** The pids of the servers themselves (printed, so that one can check they are gone). */
async function serverPids(databaseUrl: string, redisUrl: string): Promise<string[]> {
  const out: string[] = [];
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const info = String(await redis.info('server'));
    const pid = /process_id:(\d+)/.exec(info)?.[1];
    if (pid) out.push(`redis ${pid}`);
  } catch {
  } finally {
    redis.disconnect();
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    const dir = rows[0]?.data_directory;
    const pid = dir ? readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0] : '';
    if (pid) out.push(`postgres ${pid}`);
  } catch {
  } finally {
    await client.end().catch(() => {});
  }
  return out;
}

/** Migrates and seeds once, before the instances start (they find the schema up to date). */
async function migrateAndSeed(env: NodeJS.ProcessEnv): Promise<void> {
  const { loadConfig } = await import('../examples/common/env.js');
  const { createExampleContext } = await import('../examples/common/context.js');
  const { createLogger } = await import('../examples/common/logger.js');
  const config = loadConfig(env);
  const ctx = await createExampleContext(config, { logger: createLogger('warn'), demo: true });
  await ctx.close();
}

/** Starts one instance (listed in `into` at once) and waits for its "listening" line. */
async function startInstance(
  into: Instance[],
  name: string,
  env: NodeJS.ProcessEnv,
  port: string,
  dataDir: string,
): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'examples', 'express-api', 'server.ts')],
    {
      cwd: ROOT,
      env: { ...env, PORT: port, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const instance: Instance = {
    name,
    child,
    port: 0,
    shuttingDown: false,
    exited: exitOf(child),
  };
  into.push(instance);
  const listening = new Promise<number>((resolve, reject) => {
    // The instance's JSON log, each line marked with its name; its own banner of next steps
    // (plain lines on stdout) is left out: ours below covers both instances.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      say(`[${name}] ${line}`);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port);
        if (entry.msg === 'shutting down') instance.shuttingDown = true;
      } catch {}
    });
    createInterface({ input: child.stderr! }).on('line', (line) =>
      process.stderr.write(`[${name}] ${line}\n`),
    );
    child.once('exit', (code, signal) =>
      reject(new Error(`instance ${name} exited at start (${signal ?? `code ${code}`})`)),
    );
  });
  instance.port = await listening;
  return instance;
}

function banner(
  instances: Instance[],
  databaseUrl: string,
  redisUrl: string,
  envFile: string,
  pids: string[],
): void {
  const [a, b] = instances as [Instance, Instance];
  const url = (i: Instance) => `http://127.0.0.1:${i.port}`;
  const masked = new URL(databaseUrl);
  masked.password = '***';
  const json = "-H 'content-type: application/json'";
  const { email, password } = { email: 'user@example.com', password: 'velvet otter tangerine' };
  say(
    [
      '',
      'gatehouse cluster: two Express instances on one PostgreSQL and one Redis',
      ...instances.map((i) => `  instance ${i.name}: ${url(i)}  (pid ${i.child.pid})`),
      `  PostgreSQL: ${masked.toString()}  (users, sessions, tokens, outbox, audit)`,
      `  Redis:      ${redisUrl}  (lockout and rate-limit counters)`,
      `  processes:  ${[...instances.map((i) => `instance ${i.name} ${i.child.pid}`), ...pids].join(', ')}`,
      '',
      'Demo accounts:  user@example.com / velvet otter tangerine,  admin@example.com / granite lantern orbit',
      '',
      'Next steps:',
      `  A=${url(a)}; B=${url(b)}`,
      `  curl -s -X POST $A/api/auth/login ${json} -d '{"email":"${email}","password":"${password}"}'`,
      '  TOKEN=<the "token" from that response>; REFRESH=<its "refreshToken">',
      '  curl -s $B/api/auth/me -H "authorization: Bearer $TOKEN"          # a token from a works on b',
      `  curl -s -X POST $B/api/auth/logout -H "authorization: Bearer $TOKEN" ${json} -d "{\\"refreshToken\\":\\"$REFRESH\\"}"`,
      '  curl -s $A/api/auth/me -H "authorization: Bearer $TOKEN"          # 401 on a: the logout reached it',
      '  Wrong passwords on a and b in turn: the lockout counts them together (Redis), and so does',
      '  the per-IP login rate limit.',
      '',
      `A third instance on the same servers: (set -a; . ${envFile}; PORT=0 npm run example)`,
      'Stop with Ctrl+C: stops both instances, Redis and PostgreSQL, and removes their folders.',
      '',
    ].join('\n'),
  );
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
  let holder: ChildProcess | undefined;
  const instances: Instance[] = [];
  let stopping: Promise<number> | undefined;

  const stop = (code: number): Promise<number> => {
    stopping ??= (async () => {
      // The terminal's Ctrl+C reached the instances too: let them finish, signal the others.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const i of instances) {
        if (!i.shuttingDown && i.child.exitCode === null) i.child.kill('SIGTERM');
      }
      for (const i of instances) {
        if (!(await within(i.exited, 15_000))) i.child.kill('SIGKILL');
        await i.exited;
      }
      if (holder && holder.exitCode === null && holder.signalCode === null) {
        const gone = exitOf(holder);
        holder.stdin?.end();
        if (!(await within(gone, 30_000)) && holder.pid) process.kill(-holder.pid, 'SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
      say(
        'example:cluster: stopped (instances, Redis, PostgreSQL) and removed the temporary folders',
      );
      return code;
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    say(`example:cluster: ${signal}: stopping`);
    void stop(0).then((code) => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const servers = await startServers();
    holder = servers.holder;
    holder.once('exit', () => {
      if (!stopping) {
        warn('PostgreSQL or Redis stopped: stopping the instances');
        void stop(1).then((code) => process.exit(code));
      }
    });
    const secret = (bytes: number) => randomBytes(bytes).toString('base64url');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOST: '127.0.0.1',
      DATABASE_URL: servers.databaseUrl,
      REDIS_URL: servers.redisUrl,
      // One signing key and identifier key for both: a token of one verifies on the other, and
      // both hash login identifiers into the same lockout keys.
      JWT_SECRET: process.env.JWT_SECRET || secret(36),
      AUTH_IDENTIFIER_KEY: process.env.AUTH_IDENTIFIER_KEY || secret(36),
    };
    const envFile = join(dir, 'cluster.env');
    writeFileSync(
      envFile,
      ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'AUTH_IDENTIFIER_KEY']
        .map((k) => `${k}='${env[k]}'\n`)
        .join(''),
      { mode: 0o600 },
    );
    await migrateAndSeed(env);
    const basePort = process.env.PORT ? Number(process.env.PORT) : 0;
    for (const [n, name] of NAMES.entries()) {
      if (stopping) break;
      const dataDir = join(dir, name);
      mkdirSync(dataDir);
      const port = basePort > 0 ? String(basePort + n) : '0';
      const instance = await startInstance(instances, name, env, port, dataDir);
      instance.exited.then(() => {
        if (!stopping) {
          warn(`instance ${name} exited: stopping the cluster`);
          void stop(1).then((code) => process.exit(code));
        }
      });
    }
    if (stopping) return await stopping;
    banner(
      instances,
      servers.databaseUrl,
      servers.redisUrl,
      envFile,
      await serverPids(servers.databaseUrl, servers.redisUrl),
    );
    return await new Promise<number>(() => {});
  } catch (err) {
    if (!stopping) warn((err as Error).message);
    return stop(1);
  }
}

process.exit(await main());
