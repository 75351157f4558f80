// Suite `login`: what a password login costs beyond bcrypt, whether an unknown email takes as
// long as a wrong password, and whether a login flood starves the other requests of a server.
//
// (a) and (b) run in this process: both compare two kinds of login that each spend ~99 % of
// their time in one bcrypt verify on the libuv pool, so the quantity of interest is a few
// hundred microseconds against ~60 ms. Over HTTP the client, the sockets and the other process's
// scheduling would add jitter far larger than that; in process, alternating the two kinds call
// by call (A B A B …) puts them under the same machine noise, and the median of per-round
// ratios discards the rounds a neighbour disturbed.
//
// (c) needs a real server: tests/bench/servers/login-flood-server.ts as a separate process,
// once with the default passwords.hashConcurrency and once with the queue wide open (1024), so
// the difference the queue makes is measured in the same run.
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import autocannon from 'autocannon';
import { createAuth } from '../../src/index.js';
import {
  type BenchContext,
  type Figure,
  figureOf,
  median,
  type SuiteResult,
  type Target,
  target,
} from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const COST = 10;
const PASSWORD = 'correct horse battery staple';
const WRONG = 'not the password at all';

/** Milliseconds of one call. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn().catch(() => {});
  return Number(process.hrtime.bigint() - start) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// (a) and (b): in process

async function inProcess(ctx: BenchContext, rounds: number, perRound: number) {
  const auth = createAuth({
    passwords: { cost: COST },
    lockout: { maxAttempts: 1000 },
    tokens: {
      keys: [{ kid: 'bench', alg: 'HS256', key: 'bench-secret-0123456789-abcdefghijklmnop' }],
    },
  });
  await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
  const raw = await bcryptHash(PASSWORD, { cost: COST, version: '2b' });
  const login = () => auth.login({ email: 'ada@example.com', password: PASSWORD });
  let unknownSeq = 0;
  const unknown = () =>
    auth.login({ email: `nobody-${unknownSeq++ % 500}@example.com`, password: WRONG });
  const wrong = () => auth.login({ email: 'ada@example.com', password: WRONG });

  // Warm-up: JIT, the dummy hash, the session and user stores.
  for (let i = 0; i < 3; i++) {
    await login();
    await bcryptVerify(PASSWORD, raw);
    await unknown().catch(() => {});
  }

  const loginMs: number[] = [];
  const rawMs: number[] = [];
  const overhead: number[] = [];
  const unknownMs: number[] = [];
  const wrongMs: number[] = [];
  const enumeration: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const a: number[] = [];
    const b: number[] = [];
    const u: number[] = [];
    const w: number[] = [];
    for (let i = 0; i < perRound; i++) {
      // Alternate which goes first too, so neither always follows the other.
      if (i % 2 === 0) {
        a.push(await timed(login));
        b.push(await timed(() => bcryptVerify(PASSWORD, raw)));
        u.push(await timed(unknown));
        w.push(await timed(wrong));
      } else {
        b.push(await timed(() => bcryptVerify(PASSWORD, raw)));
        a.push(await timed(login));
        w.push(await timed(wrong));
        u.push(await timed(unknown));
      }
    }
    // The successful logins reset ada's failure counter, so `wrong` never locks.
    loginMs.push(median(a));
    rawMs.push(median(b));
    overhead.push(median(a) / median(b));
    unknownMs.push(median(u));
    wrongMs.push(median(w));
    enumeration.push(median(u) / median(w));
    ctx.log(
      `login round ${round + 1}/${rounds}: login ${median(a).toFixed(2)} ms, raw verify ${median(b).toFixed(2)} ms, unknown ${median(u).toFixed(2)} ms, wrong ${median(w).toFixed(2)} ms`,
    );
  }
  await auth.close();
  return {
    figures: [
      figureOf(`gatehouse login, right password (cost ${COST})`, 'ms', loginMs),
      figureOf(`raw @node-rs/bcrypt verify (cost ${COST})`, 'ms', rawMs),
      figureOf('login / raw verify (per-round ratio of medians)', 'x', overhead),
      figureOf('login, unknown email', 'ms', unknownMs),
      figureOf('login, wrong password', 'ms', wrongMs),
      figureOf('unknown email / wrong password (per-round ratio of medians)', 'x', enumeration),
    ],
    overhead,
    enumeration,
  };
}

// ---------------------------------------------------------------------------------------------
// (c): a separate server process under a login flood

interface FloodServer {
  label: string;
  url: string;
  token: string;
  hashConcurrency: number;
  stop(): Promise<void>;
}

async function startFloodServer(
  label: string,
  hashConcurrency: number | 'default',
  accounts: number,
): Promise<FloodServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'servers', 'login-flood-server.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        BENCH_ACCOUNTS: String(accounts),
        BENCH_HASH_CONCURRENCY: String(hashConcurrency),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error('no port within 120 s')), 120_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const end = stdout.indexOf('\n');
        if (end !== -1) {
          clearTimeout(timer);
          resolve(stdout.slice(0, end));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited (${signal ?? code}) before listening`));
      });
    });
    const info = JSON.parse(line) as { port: number; token: string; hashConcurrency: number };
    return {
      label,
      url: `http://127.0.0.1:${info.port}`,
      token: info.token,
      hashConcurrency: info.hashConcurrency,
      stop,
    };
  } catch (err) {
    await stop();
    throw new Error(`login flood server (${label}): ${(err as Error).message}\n${stderr.trim()}`);
  }
}

const READ_CONNECTIONS = 10;
/** Offered read load: well under what the server can serve, so p99 is latency, not a backlog. */
const READ_RATE = 500;
const FLOOD_CONNECTIONS = 50;

/** p99 (ms) of authenticated GET /me over `seconds`, and how many were not 2xx. */
async function reads(server: FloodServer, seconds: number) {
  const result = await autocannon({
    url: `${server.url}/me`,
    connections: READ_CONNECTIONS,
    overallRate: READ_RATE,
    // Raw latencies: at a fixed rate autocannon would otherwise add synthetic samples.
    ignoreCoordinatedOmission: true,
    pipelining: 1,
    duration: seconds,
    headers: { authorization: `Bearer ${server.token}` },
  });
  return { p99: result.latency.p99, rps: result['2xx'] / result.duration, bad: result.non2xx };
}

/** A flood of wrong-password logins spread over the accounts, until `stop()`. */
function flood(server: FloodServer, accounts: number) {
  let n = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const instance = autocannon(
    {
      url: `${server.url}/api/auth/login`,
      connections: FLOOD_CONNECTIONS,
      pipelining: 1,
      duration: 3600,
      timeout: 30,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({ email: `flood-${n++ % accounts}@example.com`, password: WRONG }),
          }),
        },
      ],
    },
    () => finished(),
  );
  const statuses = new Map<number, number>();
  instance.on('response', (_client, statusCode) => {
    statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
  });
  const started = Date.now();
  return {
    async stop() {
      instance.stop();
      await done;
      return { statuses, seconds: (Date.now() - started) / 1000 };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the server ran no bcrypt for 500 ms: the logins queued by a flood are done. */
async function drained(server: FloodServer): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const state = (await (await fetch(`${server.url}/bench/hashing`)).json()) as { idleMs: number };
    if (state.idleMs >= 500) return;
    await sleep(250);
  }
  throw new Error(`${server.label}: bcrypt still busy 3 minutes after the flood stopped`);
}

async function eventLoop(ctx: BenchContext, rounds: number, seconds: number) {
  const accounts = 50;
  const servers = [
    await startFloodServer('queue (default hashConcurrency)', 'default', accounts),
    await startFloodServer('queue wide open (hashConcurrency 1024)', 1024, accounts),
  ];
  const idle = servers.map(() => [] as number[]);
  const busy = servers.map(() => [] as number[]);
  const ratio = servers.map(() => [] as number[]);
  const loginRate = servers.map(() => [] as number[]);
  const notes: string[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [i, server] of servers.entries()) {
        await drained(server);
        const quiet = await reads(server, seconds);
        const f = flood(server, accounts);
        await sleep(1000); // the queue fills
        const loud = await reads(server, seconds);
        const { statuses, seconds: floodSeconds } = await f.stop();
        const rejected = [...statuses.entries()].filter(([status]) => status !== 401);
        if (quiet.bad > 0 || loud.bad > 0 || rejected.length > 0) {
          notes.push(
            `${server.label}, round ${round + 1}: reads not 2xx idle ${quiet.bad}, under flood ${loud.bad}; flood answers other than 401: ${JSON.stringify(Object.fromEntries(rejected))}`,
          );
        }
        idle[i]!.push(quiet.p99);
        busy[i]!.push(loud.p99);
        ratio[i]!.push(loud.p99 / quiet.p99);
        loginRate[i]!.push((statuses.get(401) ?? 0) / floodSeconds);
        ctx.log(
          `event loop round ${round + 1}/${rounds}, ${server.label}: read p99 idle ${quiet.p99} ms (${quiet.rps.toFixed(0)} req/s), under flood ${loud.p99} ms (${loud.rps.toFixed(0)} req/s), ${((statuses.get(401) ?? 0) / floodSeconds).toFixed(1)} logins/s`,
        );
        // The logins already queued when the flood stopped still run: let them drain.
        await drained(server);
      }
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  const figures: Figure[] = [];
  for (const [i, server] of servers.entries()) {
    figures.push(
      figureOf(`${server.label}: read p99, idle`, 'ms', idle[i]!),
      figureOf(`${server.label}: read p99, login flood`, 'ms', busy[i]!),
      figureOf(`${server.label}: flood / idle p99`, 'x', ratio[i]!),
      figureOf(`${server.label}: wrong-password logins served`, 'ops/s', loginRate[i]!),
    );
  }
  notes.push(
    `event loop: authenticated GET /me offered at ${READ_RATE} req/s over ${READ_CONNECTIONS} autocannon connections, ${seconds} s idle then ${seconds} s while ${FLOOD_CONNECTIONS} more connections POST wrong passwords to /api/auth/login (real bcrypt, cost ${COST}), spread over ${accounts} accounts; per-IP login limits off and lockout at 1000 failures, so every flood login is a bcrypt check answered 401, not a cheap 429/403. Default hashConcurrency here: ${servers[0]!.hashConcurrency} (${availableParallelism()} CPUs, UV_THREADPOOL_SIZE ${process.env['UV_THREADPOOL_SIZE'] ?? 'unset (4)'}). Both clients run in the bench process, on the same machine as the server.`,
  );
  return { figures, ratio, notes };
}

// ---------------------------------------------------------------------------------------------

export async function run(ctx: BenchContext): Promise<SuiteResult> {
  const rounds = ctx.quick ? 3 : 9;
  const perRound = ctx.quick ? 6 : 16;
  const a = await inProcess(ctx, rounds, perRound);
  const c = await eventLoop(ctx, ctx.quick ? 1 : 3, ctx.quick ? 3 : 6);
  const targets: Target[] = [
    target('login overhead over a raw bcrypt verify (ratio)', median(a.overhead), '<=', 1.03),
    target('unknown email / wrong password (ratio)', median(a.enumeration), 'within', [0.95, 1.05]),
    target('read p99 under a login flood / idle (queue on)', median(c.ratio[0]!), '<=', 2),
  ];
  return {
    suite: 'login',
    title: 'Login: bcrypt overhead, enumeration timing, event loop under a login flood',
    figures: [...a.figures, ...c.figures],
    targets,
    notes: [
      `login overhead and enumeration timing: in process, ${rounds} rounds of ${perRound} calls of each kind alternated call by call; each figure is the per-round median, the targets take the median of the per-round ratios. In process because the difference is ~0.1–1 ms against a ~60 ms bcrypt verify, below the jitter of a socket and a second process.`,
      ...c.notes,
      'The queue-wide-open server is the control (no target): it shows what the queue changes on this machine.',
    ],
  };
}
