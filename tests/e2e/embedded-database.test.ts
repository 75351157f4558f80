import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS } from '../../examples/common/seed.js';
import { request, runExampleToExit, startExample } from './example-process.js';

// The embedded database only: an empty DATABASE_URL counts as unset, also when the suite runs
// against a real PostgreSQL server.
const EMBEDDED = { DATABASE_URL: '' };
const LOCK = 'pglite.lock';

/** Runs a TypeScript file in a child process; resolves with its exit and everything it wrote. */
function runScript(file: string, args: string[], env: Record<string, string>, timeoutMs: number) {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise<{ code: number | null; signal: string | null; output: string; ms: number }>(
    (resolve) =>
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, output, ms: Date.now() - started });
      }),
  );
}

/** The pid of a process that has exited: a lock naming it is stale. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('the embedded database (PGlite in DATA_DIR) of the example apps', () => {
  let root: string;
  /** A database created by the express example and stopped cleanly; each test copies it. */
  let template: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'gatehouse-embedded-'));
    template = join(root, 'template');
    const app = await startExample('express-api', EMBEDDED, { dataDir: template });
    expect(await app.stop()).toBe(0);
    expect(existsSync(join(template, LOCK))).toBe(false);
  }, 120_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const copyOf = (name: string) => {
    const dir = join(root, name);
    cpSync(template, dir, { recursive: true });
    return dir;
  };

  it('a second process on the same DATA_DIR is refused at start (exit 1 within seconds, naming the directory and the first pid) and the first still answers', async () => {
    const dir = copyOf('shared');
    const first = await startExample('express-api', EMBEDDED, { dataDir: dir });
    try {
      const second = await runExampleToExit('fastify-api', { ...EMBEDDED, DATA_DIR: dir }, 45_000);
      expect(second.timedOut, second.output).toBe(false);
      expect(second.code, second.output).toBe(1);
      expect(second.ms).toBeLessThan(20_000);
      expect(second.output).not.toContain('"msg":"listening"');
      expect(second.output).toContain(dir);
      expect(second.output).toContain(`pid ${first.child.pid}`);
      // The refused process left the first one's lock alone.
      expect(JSON.parse(readFileSync(join(dir, LOCK), 'utf8')).pid).toBe(first.child.pid);

      // The first process still works on its database, writes included (a login starts a session).
      const demo = DEMO_ACCOUNTS[0];
      const login = await request(`${first.url}/api/auth/login`, {
        body: { email: demo.email, password: demo.password },
      });
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      expect(first.child.exitCode).toBeNull();
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(existsSync(join(dir, LOCK))).toBe(false);
  }, 120_000);

  const damages: [string, (pglite: string) => void][] = [
    [
      'pg_control truncated to 0 bytes',
      (pglite) => truncateSync(join(pglite, 'global/pg_control')),
    ],
    [
      'the WAL segment truncated to 0 bytes',
      (pglite) => {
        const wal = join(pglite, 'pg_wal');
        for (const f of readdirSync(wal).filter((n) => /^[0-9A-F]{24}$/.test(n)))
          truncateSync(join(wal, f));
      },
    ],
    [
      "the first page of every table and index of the app's database overwritten",
      (pglite) => {
        // User relations get file numbers from 16384 on; 0xAB bytes are no valid page header.
        for (const db of readdirSync(join(pglite, 'base'))) {
          for (const f of readdirSync(join(pglite, 'base', db))) {
            const file = join(pglite, 'base', db, f);
            if (/^\d+$/.test(f) && Number(f) >= 16384 && statSync(file).size >= 8192) {
              const content = readFileSync(file);
              content.fill(0xab, 0, 8192);
              writeFileSync(file, content);
            }
          }
        }
      },
    ],
  ];

  it.each(damages)(
    'a damaged DATA_DIR (%s) ends the start with exit 1 within 30 s and a fatal message naming the directory and "move it away", never listening',
    async (name, damage) => {
      const dir = copyOf(`damaged-${damages.findIndex(([n]) => n === name)}`);
      damage(join(dir, 'pglite'));
      const run = await runExampleToExit('express-api', { ...EMBEDDED, DATA_DIR: dir }, 60_000);
      expect(run.timedOut, run.output).toBe(false);
      expect(run.code, run.output).toBe(1);
      expect(run.ms).toBeLessThan(30_000);
      expect(run.output).not.toContain('"msg":"listening"');
      expect(run.output).toContain(`fatal: the embedded database in ${join(dir, 'pglite')}`);
      expect(run.output).toContain('move it away');
      // It released its lock on the way out, so the next start is not refused for that reason.
      expect(existsSync(join(dir, LOCK))).toBe(false);
    },
    90_000,
  );

  it('PGlite spinning forever in WebAssembly on the main thread is killed by the watchdog with the fatal message within seconds, not left hung', async () => {
    const dir = copyOf('spinning');
    const run = await runScript(
      'tests/e2e/fixtures/pglite-spin.ts',
      [],
      { DATA_DIR: dir, SERVE_STALL_MS: '2000' },
      60_000,
    );
    expect(run.output).toContain('spinning');
    expect(run.output).not.toContain('unreachable');
    expect(run.signal, run.output).toBe('SIGKILL');
    expect(run.output).toContain(`fatal: the embedded database in ${join(dir, 'pglite')}`);
    expect(run.output).toContain('no progress while serving requests: PGlite is hung');
    expect(run.output).toContain('move it away');
    // Killed ~2 s after the query started, far before the 60 s of the test's own kill.
    expect(run.ms).toBeLessThan(30_000);
  }, 90_000);

  it('a stale lock (its pid is gone) is taken over: the app starts, logs the takeover and the lock names the new process', async () => {
    const dir = copyOf('stale');
    const gone = await deadPid();
    writeFileSync(
      join(dir, LOCK),
      JSON.stringify({ pid: gone, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }),
    );
    const app = await startExample('fastify-api', EMBEDDED, { dataDir: dir });
    try {
      const takeover = app.logs().find((l) => String(l.msg).startsWith('took over the lock'));
      expect(takeover, app.output()).toMatchObject({ pid: gone });
      expect(JSON.parse(readFileSync(join(dir, LOCK), 'utf8'))).toMatchObject({
        pid: app.child.pid,
        hostname: hostname(),
      });
    } finally {
      expect(await app.stop()).toBe(0);
    }
  }, 90_000);
});
