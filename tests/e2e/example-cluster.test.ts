// `npm run example:cluster` (scripts/example-cluster.ts) as a user runs it: it starts PostgreSQL,
// Redis and two Express instances, prints their URLs; both instances serve one set of users and
// sessions; Ctrl+C stops every process it started and removes every temporary folder.
//
// Runs the real script, which needs PostgreSQL's and Redis' server binaries (it installs them
// with apt-get through scripts/with-postgres.sh and scripts/with-redis.sh otherwise, which a test
// must not do): skipped when they are missing. Each case gives the script a TMPDIR of its own,
// so the folders it creates and the processes it starts (they inherit that TMPDIR) can be found.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from './example-process.js';

const hasPostgres = (() => {
  try {
    return readdirSync('/usr/lib/postgresql').some((v) =>
      existsSync(`/usr/lib/postgresql/${v}/bin/initdb`),
    );
  } catch {
    return false;
  }
})();
const hasRedis = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some(existsSync);
const SKIP = !hasPostgres || !hasRedis;

interface Cluster {
  child: ChildProcess;
  tmp: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Cluster[] = [];

afterEach(async () => {
  // A failed case must not leave a cluster behind.
  for (const cluster of running.splice(0)) {
    if (cluster.child.exitCode === null && cluster.child.signalCode === null) {
      process.kill(-cluster.child.pid!, 'SIGINT');
      await Promise.race([cluster.exited, new Promise((r) => setTimeout(r, 30_000))]);
    }
    rmSync(cluster.tmp, { recursive: true, force: true });
  }
}, 60_000);

async function startCluster(): Promise<Cluster> {
  const tmp = mkdtempSync(`${tmpdir()}/gatehouse-cluster-test-`);
  // The PostgreSQL server runs as the `postgres` user when we are root: it must enter the folder.
  chmodSync(tmp, 0o755);
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/example-cluster.ts'], {
    env: { PATH: process.env.PATH ?? '', TMPDIR: tmp, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as in a terminal: Ctrl+C is a SIGINT to the whole group.
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const cluster: Cluster = { child, tmp, output: () => output, exited };
  running.push(cluster);
  const deadline = Date.now() + 150_000;
  while (!output.includes('Stop with Ctrl+C')) {
    if (child.exitCode !== null) throw new Error(`example:cluster exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`example:cluster did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return cluster;
}

/** What the banner printed: the instances' URLs, the pids of everything, the servers' ports. */
function parseBanner(output: string) {
  const urls = [...output.matchAll(/^ {2}instance ([ab]): (http:\/\/127\.0\.0\.1:\d+)/gm)].map(
    (m) => m[2]!,
  );
  const processes = /^ {2}processes: +(.+)$/m.exec(output)?.[1] ?? '';
  const pids = [...processes.matchAll(/(\d+)(?:,|$)/g)].map((m) => Number(m[1]));
  const redisUrl = /^ {2}Redis: +(redis:\/\/\S+)/m.exec(output)?.[1];
  const pgPort = Number(
    /^ {2}PostgreSQL: +postgres:\/\/\S*@127\.0\.0\.1:(\d+)\//m.exec(output)?.[1],
  );
  return { urls, pids, redisUrl, pgPort, processes };
}

/** Running: it exists and is no zombie (an exited daemon whose parent, pid 1, has not reaped it). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** Every process that inherited this TMPDIR: the script's whole tree, servers included. */
function processesWithTmpdir(tmp: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (environ.split('\0').includes(`TMPDIR=${tmp}`) && alive(Number(entry))) {
        found.push(Number(entry));
      }
    } catch {}
  }
  return found;
}

const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

/** Exercises both instances: a session from a works on b, and b's logout ends it on a. */
async function exerciseBothInstances(urls: string[], redisUrl: string) {
  const [a, b] = urls as [string, string];
  const session = await request(`${a}/api/auth/login`, {
    body: { email: 'user@example.com', password: 'velvet otter tangerine' },
  });
  expect(session.status, JSON.stringify(session.body)).toBe(200);
  const token = session.body.token as string;
  expect((await request(`${b}/api/auth/me`, { token })).body.user.email).toBe('user@example.com');
  expect((await request(`${a}/api/auth/me`, { token })).status).toBe(200);
  const out = await request(`${b}/api/auth/logout`, {
    token,
    body: { refreshToken: session.body.refreshToken },
  });
  expect(out.status).toBe(200);
  const deadline = Date.now() + 1_000;
  let status = 200;
  while (status !== 401 && Date.now() < deadline) {
    status = (await request(`${a}/api/auth/me`, { token })).status;
  }
  expect(status).toBe(401);
  // The login's rate-limit window lives in the printed Redis.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    expect(await redis.keys('gatehouse-example:ratelimit:*')).not.toHaveLength(0);
  } finally {
    redis.disconnect();
  }
}

async function expectEverythingGone(cluster: Cluster, pids: number[], ports: number[]) {
  expect(pids.filter(alive), 'pids printed by the script still running').toEqual([]);
  expect(processesWithTmpdir(cluster.tmp), 'processes of the cluster still running').toEqual([]);
  for (const port of ports) expect(await refuses(port), `port ${port} still open`).toBe(true);
  const left = readdirSync(cluster.tmp).filter((name) => name.startsWith('gatehouse-'));
  expect(left, 'temporary folders left behind').toEqual([]);
}

describe.skipIf(SKIP)('npm run example:cluster', () => {
  it('prints two instance URLs that share users and sessions; Ctrl+C (SIGINT to the process group) stops both instances, Redis and PostgreSQL and removes the temporary folders', async () => {
    const cluster = await startCluster();
    const { urls, pids, redisUrl, pgPort, processes } = parseBanner(cluster.output());
    expect(urls).toHaveLength(2);
    expect(processes).toMatch(/instance a \d+, instance b \d+, redis \d+, postgres \d+/);
    expect(pids).toHaveLength(4);
    await exerciseBothInstances(urls, redisUrl!);
    expect(processesWithTmpdir(cluster.tmp).length).toBeGreaterThanOrEqual(4);

    process.kill(-cluster.child.pid!, 'SIGINT');
    const exit = await cluster.exited;
    expect(exit.code, cluster.output()).toBe(0);
    expect(cluster.output()).toContain('example:cluster: stopped');
    // The instances shut down cleanly, once each (no second signal cut them short).
    expect(cluster.output().match(/"msg":"stopped"/g)).toHaveLength(2);
    const ports = [
      ...urls.map((u) => Number(new URL(u).port)),
      Number(new URL(redisUrl!).port),
      pgPort,
    ];
    await expectEverythingGone(cluster, pids, ports);
  }, 240_000);

  it('SIGTERM to the script alone (not its group) still stops every process it started and removes the temporary folders', async () => {
    const cluster = await startCluster();
    const { urls, pids, redisUrl, pgPort } = parseBanner(cluster.output());
    expect(pids).toHaveLength(4);
    expect((await request(`${urls[1]}/.well-known/jwks.json`)).status).toBe(200);

    cluster.child.kill('SIGTERM');
    const exit = await cluster.exited;
    expect(exit.code, cluster.output()).toBe(0);
    expect(cluster.output().match(/"msg":"stopped"/g)).toHaveLength(2);
    const ports = [
      ...urls.map((u) => Number(new URL(u).port)),
      Number(new URL(redisUrl!).port),
      pgPort,
    ];
    await expectEverythingGone(cluster, pids, ports);
  }, 240_000);
});
