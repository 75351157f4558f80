// Starts the benchmark servers (tests/bench/servers/*.ts) as child processes, one per server, and
// waits for each to print its port. A server stops when we close its stdin or send SIGTERM, and
// on its own when this process dies (its stdin ends).
import { type ChildProcess, spawn } from 'node:child_process';
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

export interface ServerSpec {
  framework: 'express' | 'fastify';
  variant: 'bare' | 'peer' | 'authenticate' | 'authorize';
  store?: 'memory' | 'postgres';
  /** Mint a fresh-token pool larger than the verified-token cache. */
  pool?: boolean;
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

/** Starts one server process; rejects with its stderr if it exits or stays silent. */
export async function startServer(
  spec: ServerSpec,
  { timeoutMs = 120_000 }: { timeoutMs?: number } = {},
): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const tokensFile = join(dir, 'tokens.txt');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'servers', `${spec.framework}.ts`)],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        BENCH_VARIANT: spec.variant,
        BENCH_STORE: spec.store ?? 'memory',
        BENCH_POOL: spec.pool ? '1' : '0',
        BENCH_TOKENS_FILE: tokensFile,
        BENCH_SECRET: SHARED.secret,
        BENCH_ISSUER: SHARED.issuer,
        BENCH_AUDIENCE: SHARED.audience,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
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
  return `${spec.framework}/${spec.variant}${spec.store === 'postgres' ? '/postgres' : ''}`;
}
