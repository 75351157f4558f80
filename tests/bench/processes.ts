// Starts the benchmark servers (tests/bench/servers/*.ts) as child processes, one per server, and
// waits for each to print its port. A server stops when we close its stdin or send SIGTERM, and
// on its own when this process dies (its stdin ends).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

/** One HS256 key, issuer and audience for gatehouse and the peers: they verify the same tokens. */
export const SHARED = {
  secret: 'bench-secret-0123456789-abcdefghijklmnop',
  issuer: 'bench',
  audience: 'bench',
} as const;

/**
 * Where the processes of a load test run. On Linux with two CPUs or more and util-linux's
 * `taskset`, every server process is pinned to one CPU and the load generator (this process,
 * autocannon) to another, so a server never shares its CPU with its own load and the figures
 * measure the server, not the scheduler. `BENCH_PIN=0` turns it off.
 */
export interface Placement {
  pinned: boolean;
  /** The CPU of every server process (when pinned). */
  serverCpu: number | null;
  /** The CPU of the bench process while it loads a server (when pinned). */
  loadCpu: number | null;
  /** This process's CPU list before any pinning, as taskset prints it (restored after a load). */
  initialCpus: string | null;
  /** One line for the report: what was pinned, or why nothing was. */
  description: string;
}

/** Parses a CPU list as taskset prints it (`0,1`, `0-3`, `0-1,4`). */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const [from, to = from] = part.split('-').map((n) => Number(n));
    if (!Number.isInteger(from) || !Number.isInteger(to)) return [];
    for (let cpu = from!; cpu <= to!; cpu++) cpus.push(cpu);
  }
  return cpus;
}

let placementOnce: Placement | undefined;

/** The placement of this run (decided once: taskset present, two CPUs allowed, BENCH_PIN). */
export function placement(): Placement {
  if (placementOnce) return placementOnce;
  const off = (why: string): Placement => ({
    pinned: false,
    serverCpu: null,
    loadCpu: null,
    initialCpus: null,
    description: `no CPU pinning (${why}): servers and autocannon share the CPUs as the scheduler decides`,
  });
  let decided: Placement;
  if (process.env['BENCH_PIN'] === '0') decided = off('BENCH_PIN=0');
  else if (process.platform !== 'linux') decided = off(`not on Linux`);
  else {
    const probe = spawnSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' });
    const list = probe.status === 0 ? /:\s*([0-9,-]+)\s*$/.exec(probe.stdout)?.[1] : undefined;
    const cpus = list ? parseCpuList(list) : [];
    if (probe.error || probe.status !== 0 || !list) decided = off('taskset (util-linux) not found');
    else if (cpus.length < 2) decided = off(`only CPU ${list} allowed`);
    else {
      const serverCpu = cpus[0]!;
      const loadCpu = cpus.at(-1)!;
      decided = {
        pinned: true,
        serverCpu,
        loadCpu,
        initialCpus: list,
        description: `CPU pinning with taskset: every server process on CPU ${serverCpu}, autocannon (the bench process, all its threads) on CPU ${loadCpu} while it loads`,
      };
    }
  }
  placementOnce = decided;
  return decided;
}

/**
 * Runs `load` with this process (every thread) pinned to the placement's load CPU, and puts
 * its CPU list back afterwards (the later suites' child processes inherit it otherwise).
 */
export async function withLoadPinned<T>(load: () => Promise<T>): Promise<T> {
  const where = placement();
  if (!where.pinned) return load();
  const pin = (cpus: string) =>
    spawnSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { encoding: 'utf8' });
  pin(String(where.loadCpu));
  try {
    return await load();
  } finally {
    pin(where.initialCpus!);
  }
}

let ticksPerSecond: number | undefined;

/**
 * CPU time (user + system, every thread) a process has used, in seconds, from
 * /proc/<pid>/stat; NaN where that cannot be read (not Linux, the process is gone).
 */
export function cpuSecondsOf(pid: number): number {
  if (ticksPerSecond === undefined) {
    const getconf = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(getconf.stdout?.trim());
    ticksPerSecond = getconf.status === 0 && value > 0 ? value : 100;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces), from field 3 (state) on.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

export interface ServerSpec {
  framework: 'express' | 'fastify';
  variant: 'bare' | 'peer' | 'authenticate' | 'authorize';
  store?: 'memory' | 'postgres';
  /** Mint a fresh-token pool larger than the verified-token cache. */
  pool?: boolean;
  /** Register the OpenTelemetry SDK's providers before createAuth (the telemetry suite). */
  telemetry?: boolean;
}

export interface RunningServer {
  spec: ServerSpec;
  url: string;
  pid: number;
  /** gatehouse servers: the user the tokens belong to. */
  userId?: string;
  /** gatehouse servers: the verified-token cache size in force there. */
  cacheSize?: number;
  /** gatehouse servers: `tokens.revocationCacheTtl` as resolved there (null: unset). */
  revocationCacheTtl?: unknown;
  /** gatehouse servers: whether the token store delivers revocation events. */
  revocationWatch?: boolean;
  /** gatehouse servers: the tokens minted there (one, or the pool). */
  tokens: string[];
  stop(): Promise<void>;
}

/** The preload that keeps nextTick's entry maps alive (servers/tick-map-pin.cjs). */
export const TICK_MAP_PIN = join(HERE, 'servers', 'tick-map-pin.cjs');

/**
 * The node options every server process starts with, bare ones included: the tick-map pin,
 * unless `BENCH_TICK_PIN=0` (see servers/tick-map-pin.cjs for the V8 behaviour it works around).
 */
export function serverPreloads(): string[] {
  return process.env['BENCH_TICK_PIN'] === '0' ? [] : ['--require', TICK_MAP_PIN];
}

/** Starts one server process; rejects with its stderr if it exits or stays silent. */
export async function startServer(
  spec: ServerSpec,
  { timeoutMs = 120_000 }: { timeoutMs?: number } = {},
): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const tokensFile = join(dir, 'tokens.txt');
  const where = placement();
  const node = [
    process.execPath,
    ...serverPreloads(),
    '--import',
    'tsx',
    join(HERE, 'servers', `${spec.framework}.ts`),
  ];
  // taskset execs node in its own process: child.pid is the server's pid either way.
  const [command, ...args] = where.pinned
    ? ['taskset', '-c', String(where.serverCpu), ...node]
    : node;
  const child: ChildProcess = spawn(command!, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      BENCH_VARIANT: spec.variant,
      BENCH_STORE: spec.store ?? 'memory',
      BENCH_POOL: spec.pool ? '1' : '0',
      BENCH_TELEMETRY: spec.telemetry ? '1' : '0',
      BENCH_TOKENS_FILE: tokensFile,
      BENCH_SECRET: SHARED.secret,
      BENCH_ISSUER: SHARED.issuer,
      BENCH_AUDIENCE: SHARED.audience,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    cleanup();
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(
        () => reject(new Error(`no port within ${timeoutMs} ms`)),
        timeoutMs,
      );
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
    const info = JSON.parse(line) as {
      port: number;
      userId?: string;
      cacheSize?: number;
      revocationCacheTtl?: unknown;
      revocationWatch?: boolean;
    };
    const gatehouse = spec.variant === 'authenticate' || spec.variant === 'authorize';
    const tokens = gatehouse
      ? readFileSync(tokensFile, 'utf8')
          .split('\n')
          .filter((t) => t.length > 0)
      : [];
    return {
      spec,
      url: `http://127.0.0.1:${info.port}`,
      pid: child.pid!,
      ...(info.userId ? { userId: info.userId } : {}),
      ...(info.cacheSize !== undefined ? { cacheSize: info.cacheSize } : {}),
      ...('revocationCacheTtl' in info ? { revocationCacheTtl: info.revocationCacheTtl } : {}),
      ...(info.revocationWatch !== undefined ? { revocationWatch: info.revocationWatch } : {}),
      tokens,
      stop,
    };
  } catch (err) {
    await stop();
    throw new Error(
      `bench server ${describeSpec(spec)}: ${(err as Error).message}\n${stderr.trim()}`,
    );
  }
}

export function describeSpec(spec: ServerSpec): string {
  return `${spec.framework}/${spec.variant}${spec.store === 'postgres' ? '/postgres' : ''}${spec.telemetry ? '/telemetry' : ''}`;
}
