// Revocation fan-out on a real PostgreSQL server: two app instances, each its own Node process
// with its own pg.Pool and createAuth, on one database. Instance 2 caches session states (no
// query per verify) and hears instance 1's revocations through LISTEN/NOTIFY within 1 s; when
// its LISTEN connection is killed it reads the store on every verify until it is back.
// Needs DATABASE_URL: `bash scripts/with-postgres.sh npx vitest run tests/postgres/revocation-fanout.test.ts`
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../adapters/postgres/index.js';
import { DATABASE_URL, freshSchema, openPool } from './databases.js';

const CHILD = fileURLToPath(new URL('./revocation-instance.ts', import.meta.url));
const PASSWORD = 'correct horse battery';
/** Instance 2 waits this long before reconnecting a dropped LISTEN, so the outage is visible. */
const RECONNECT_MS = 1_500;

interface Instance {
  name: string;
  child: ChildProcess;
  call<T = Record<string, unknown>>(op: string, ...args: unknown[]): Promise<T>;
}

function startInstance(name: string, schema: string, secret: string): Promise<Instance> {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      SCHEMA: schema,
      INSTANCE_NAME: name,
      JWT_SECRET: secret,
      RECONNECT_MS: String(RECONNECT_MS),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before ready`)));
    child.on(
      'message',
      (message: { ready?: true; id?: number; result?: unknown; error?: string }) => {
        if (message.ready) {
          resolve({
            name,
            child,
            call: (op, ...args) =>
              new Promise((res, rej) => {
                const id = next++;
                waiting.set(id, { resolve: res as (v: unknown) => void, reject: rej });
                child.send({ id, op, args });
              }),
          });
          return;
        }
        const pending = waiting.get(message.id!);
        waiting.delete(message.id!);
        if (message.error !== undefined) pending?.reject(new Error(`${name}: ${message.error}`));
        else pending?.resolve(message.result);
      },
    );
  });
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Cross-instance latencies measured in this run, printed at the end. */
const latencies: { action: string; afterCommitMs: number; fromCallMs: number }[] = [];

describe.skipIf(DATABASE_URL === undefined)('revocation fan-out across two processes', () => {
  const schema = freshSchema();
  const admin = DATABASE_URL === undefined ? null : openPool({ max: 2 });
  let one: Instance;
  let two: Instance;
  let users = 0;

  beforeAll(async () => {
    await migrate(admin!, { schema, roles: ['user', 'admin'] });
    const secret = randomBytes(32).toString('base64url');
    [one, two] = await Promise.all([
      startInstance('gh-fanout-1', schema, secret),
      startInstance('gh-fanout-2', schema, secret),
    ]);
  }, 60_000);

  afterAll(async () => {
    // Each instance closes auth (its LISTEN connection goes back) and ends its pool; a process
    // that then exits on its own proves nothing was left holding it open.
    const exits = [one, two].filter(Boolean).map(async (instance) => {
      const exited = new Promise<number | null>((resolve) => instance.child.once('exit', resolve));
      await instance.call('close');
      instance.child.disconnect();
      const timer = setTimeout(() => instance.child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    });
    const codes = await Promise.all(exits);
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
    if (latencies.length > 0) {
      console.log(
        'cross-instance revocation latency (ms):\n' +
          latencies
            .map(
              (l) =>
                `  ${l.action.padEnd(16)} after commit ${l.afterCommitMs.toFixed(1)}, from the call ${l.fromCallMs.toFixed(1)}`,
            )
            .join('\n'),
      );
    }
    expect(codes).toEqual([0, 0]);
  }, 60_000);

  /** A fresh user logged in on instance 1, its token verified (and cached) on instance 2. */
  async function sessionOnBoth() {
    const email = `user-${users++}-${randomBytes(3).toString('hex')}@example.com`;
    await one.call('register', email, PASSWORD);
    const login = await one.call<{ token: string; sessionId: string; userId: string }>(
      'login',
      email,
      PASSWORD,
    );
    await until(async () => (await two.call<{ live: boolean }>('status')).live, 'instance 2 live');
    const warm = await two.call<{ ok: boolean }>('verify', login.token);
    expect(warm.ok).toBe(true);
    return { email, ...login };
  }

  /** Revokes on instance 1 while instance 2 verifies in a loop; returns the latency. */
  async function refusedOnTwo(
    action: string,
    revoke: () => Promise<{ startedAt: number; committedAt: number }>,
    token: string,
  ) {
    const polling = two.call<{
      refusedAt: number | null;
      code?: string;
      verifies: number;
      queries: number;
    }>('pollUntilRefused', token, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { startedAt, committedAt } = await revoke();
    const poll = await polling;
    expect(poll.refusedAt, `${action}: refused on instance 2`).not.toBeNull();
    expect(poll.code).toBe('TOKEN_INVALID');
    const afterCommitMs = Math.max(0, poll.refusedAt! - committedAt);
    const fromCallMs = poll.refusedAt! - startedAt;
    latencies.push({ action, afterCommitMs, fromCallMs });
    // The revocation is durable at commit: from then on instance 2 must refuse within 1 s (the
    // time from the call also counts bcrypt for a password change).
    expect(afterCommitMs, `${action}: within 1 s of the commit`).toBeLessThan(1_000);
    // Hundreds of verifies ran before the revocation; only the one after the event read the store.
    expect(poll.verifies).toBeGreaterThan(10);
    expect(poll.queries).toBeLessThanOrEqual(2);
    return poll;
  }

  it('in steady state a verify on instance 2 sends no query to the database (1000 verifies, 0 queries)', async () => {
    const { token } = await sessionOnBoth();
    const result = await two.call<{ refused: number; queries: number }>('verifyMany', token, 1_000);
    expect(result).toEqual({ refused: 0, queries: 0 });
  });

  it('a logout on instance 1 is refused by instance 2 within 1 s', async () => {
    const { token, sessionId } = await sessionOnBoth();
    await refusedOnTwo('logout', () => one.call('logout', sessionId), token);
  });

  it('a logout-all on instance 1 is refused by instance 2 within 1 s', async () => {
    const { token, userId } = await sessionOnBoth();
    await refusedOnTwo('logout-all', () => one.call('logoutAll', userId), token);
  });

  it('a password change on instance 1 is refused by instance 2 within 1 s', async () => {
    const { token, userId } = await sessionOnBoth();
    await refusedOnTwo(
      'password change',
      () => one.call('changePassword', userId, PASSWORD, 'another long passphrase'),
      token,
    );
  });

  it('a role change on instance 1 is refused by instance 2 within 1 s', async () => {
    const { token, userId } = await sessionOnBoth();
    await refusedOnTwo('role change', () => one.call('setRole', userId, 'admin'), token);
  });

  it('a user disabled on instance 1 is refused by instance 2 within 1 s', async () => {
    const { token, userId } = await sessionOnBoth();
    await refusedOnTwo('user disabled', () => one.call('disableUser', userId), token);
  });

  it('a killed LISTEN connection: instance 2 reads the store on every verify until it is back, and honours a revocation made during the outage at once', async () => {
    const during = await sessionOnBoth();
    const after = await sessionOnBoth();
    const { rows } = await admin!.query(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'`,
      [two.name],
    );
    expect(rows).toHaveLength(1);
    await admin!.query('SELECT pg_terminate_backend($1)', [(rows[0] as { pid: number }).pid]);
    await until(async () => !(await two.call<{ live: boolean }>('status')).live, 'instance 2 down');

    // Down: every verify is a store read, nothing is served from the cache.
    const reads = await two.call<{ refused: number; queries: number }>(
      'verifyMany',
      during.token,
      20,
    );
    expect(reads).toEqual({ refused: 0, queries: 20 });
    // A revocation made now is not announced to instance 2, yet refused by its very next verify.
    await one.call('logout', during.sessionId);
    const refused = await two.call<{ ok: boolean; code?: string; queries: number }>(
      'verify',
      during.token,
    );
    expect(refused).toMatchObject({ ok: false, code: 'TOKEN_INVALID', queries: 1 });
    expect((await two.call<{ live: boolean }>('status')).live).toBe(false);

    // Back (after the reconnect delay): one warning and one info line, and caching again.
    await until(async () => (await two.call<{ live: boolean }>('status')).live, 'instance 2 back');
    await two.call('verify', after.token);
    expect(await two.call('verifyMany', after.token, 100)).toEqual({ refused: 0, queries: 0 });
    const { logs } = await two.call<{ logs: string[] }>('status');
    expect(logs.filter((l) => l.startsWith('warn: revocation watch is down'))).toHaveLength(1);
    expect(logs.filter((l) => l.startsWith('info: revocation watch is back'))).toHaveLength(1);
    // And fan-out works again on the new connection.
    await refusedOnTwo(
      'logout (after reconnect)',
      () => one.call('logout', after.sessionId),
      after.token,
    );
  }, 30_000);
});
