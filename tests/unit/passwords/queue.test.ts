// The bounded bcrypt queue (passwords.hashConcurrency, passwords.hashQueueLimit): a login flood
// may not take every libuv pool thread and every core, and may not queue without bound.
import { stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { gatehouseExpress } from '../../../adapters/express/index.js';
import {
  AuthError,
  type AuthOptions,
  bcryptHasher,
  createAuth,
  type PasswordHasher,
} from '../../../src/index.js';
import {
  DEFAULT_HASH_QUEUE_LIMIT,
  defaultHashConcurrency,
  threadPoolSizeOf,
} from '../../../src/passwords/queue.js';
import { collectingLogger, PASSWORD, registerUser } from '../../helpers/auth.js';
import { configError } from '../../helpers/config-errors.js';
import { settle } from '../../helpers/fake-timers.js';
import { ManualClock } from '../../helpers/fakes.js';

type Kind = 'hash' | 'verify';

interface Pending {
  kind: Kind;
  password: string;
  release(): void;
  fail(err: Error): void;
}

/**
 * A fake hasher (`$fake$<cost>$<password>`) whose gated operations wait until the test releases
 * them, so the test sees exactly what runs at once and in which order. Ungated operations finish
 * after one turn of the event loop.
 */
class GatedHasher implements PasswordHasher {
  running = 0;
  maxRunning = 0;
  /** Passwords of the operations in the order they started. */
  readonly started: string[] = [];
  readonly pending: Pending[] = [];
  /** Called as each operation finishes (lets a test move a clock by the operation's cost). */
  onFinish: () => void = () => {};

  constructor(private readonly gated: ReadonlySet<Kind> = new Set(['verify'])) {}

  hash(password: string, cost: number): Promise<string> {
    return this.#run('hash', password, () => `$fake$${cost}$${password}`);
  }

  verify(password: string, hash: string): Promise<boolean> {
    return this.#run('verify', password, () => hash === `$fake$${this.costOf(hash)}$${password}`);
  }

  costOf(hash: string): number | null {
    const m = /^\$fake\$(\d+)\$/.exec(hash);
    return m ? Number(m[1]) : null;
  }

  needsRehash(hash: string, cost: number): boolean {
    return this.costOf(hash) !== cost;
  }

  /** Lets the oldest waiting operation finish, then lets the promises settle. */
  async releaseNext(): Promise<void> {
    const next = this.pending.shift();
    if (!next) throw new Error('no gated operation is running');
    next.release();
    await settle();
  }

  async #run<T>(kind: Kind, password: string, result: () => T): Promise<T> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.started.push(password);
    try {
      if (this.gated.has(kind)) {
        await new Promise<void>((release, fail) =>
          this.pending.push({ kind, password, release, fail }),
        );
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
      return result();
    } finally {
      this.running--;
      this.onFinish();
    }
  }
}

/** createAuth over a gated hasher, with limits high enough that only the queue refuses. */
async function gatedAuth(
  options: AuthOptions & { gated?: ReadonlySet<Kind>; checkMs?: number } = {},
) {
  const { gated, checkMs = 0, ...rest } = options;
  const hasher = new GatedHasher(gated);
  const clock = new ManualClock();
  hasher.onFinish = () => clock.advance(checkMs);
  const auth = createAuth({
    clock,
    passwordHasher: hasher,
    logger: collectingLogger(),
    auditEmailKey: 'test-audit-key-0123456789',
    lockout: { maxAttempts: 1000 },
    ...rest,
  });
  await settle(); // the dummy hash, prepared at start-up
  while (hasher.pending.length > 0) await hasher.releaseNext();
  hasher.started.length = 0;
  return { auth, hasher, clock };
}

/** The outcome of a login: 'ok', or the AuthError (any other error is returned as is). */
function attempt(
  auth: ReturnType<typeof createAuth>,
  email: string,
  password: string,
): Promise<'ok' | AuthError> {
  return auth.login({ email, password }).then(
    () => 'ok' as const,
    (err: AuthError) => err,
  );
}

describe('bounded bcrypt concurrency (passwords.hashConcurrency)', () => {
  it('a login flood runs at most hashConcurrency bcrypt operations at once', async () => {
    const { auth, hasher } = await gatedAuth({ passwords: { hashConcurrency: 2 } });
    const flood = Array.from({ length: 20 }, (_, i) =>
      attempt(auth, `nobody-${i}@example.com`, `guess-${i}`),
    );
    await settle();
    expect(hasher.running).toBe(2);
    while (hasher.pending.length > 0) {
      expect(hasher.running).toBeLessThanOrEqual(2);
      await hasher.releaseNext();
    }
    const results = await Promise.all(flood);
    expect(results.map((r) => (r === 'ok' ? r : r.code))).toEqual(
      Array(20).fill('INVALID_CREDENTIALS'),
    );
    expect(hasher.maxRunning).toBe(2);
    expect(hasher.started).toHaveLength(20);
  });

  it('queued logins are served in arrival order, and a late arrival does not overtake them', async () => {
    const { auth, hasher } = await gatedAuth({ passwords: { hashConcurrency: 1 } });
    const first = Array.from({ length: 5 }, (_, i) =>
      attempt(auth, `nobody-${i}@example.com`, `guess-${i}`),
    );
    await settle();
    expect(hasher.started).toEqual(['guess-0']);
    // The slot frees while guess-1..4 wait: the newcomer must go behind them.
    await hasher.releaseNext();
    const late = attempt(auth, 'late@example.com', 'guess-late');
    while (hasher.pending.length > 0) await hasher.releaseNext();
    await Promise.all([...first, late]);
    expect(hasher.started).toEqual([
      'guess-0',
      'guess-1',
      'guess-2',
      'guess-3',
      'guess-4',
      'guess-late',
    ]);
  });

  it('registrations and password hashing wait in the same queue as logins', async () => {
    const { auth, hasher } = await gatedAuth({
      passwords: { hashConcurrency: 1 },
      gated: new Set(['hash', 'verify']),
    });
    const login = attempt(auth, 'nobody@example.com', 'guess-0');
    await settle();
    const registration = registerUser(auth, 'grace@example.com', 'a quite long new password');
    await settle();
    expect(hasher.started).toEqual(['guess-0']);
    await hasher.releaseNext();
    expect(hasher.started).toEqual(['guess-0', 'a quite long new password']);
    expect(hasher.maxRunning).toBe(1);
    await hasher.releaseNext();
    await expect(registration).resolves.toMatchObject({ email: 'grace@example.com' });
    expect(await login).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('a hasher that throws releases its slot (a synchronous throw and a rejection alike)', async () => {
    let failures = 2;
    const base = new GatedHasher(new Set());
    const hasher: PasswordHasher = {
      hash: (password, cost) => base.hash(password, cost),
      verify(password, hash) {
        if (failures === 2) {
          failures--;
          throw new Error('native binding exploded');
        }
        if (failures === 1) {
          failures--;
          return Promise.reject(new Error('native binding rejected'));
        }
        return base.verify(password, hash);
      },
      costOf: (hash) => base.costOf(hash),
      needsRehash: (hash, cost) => base.needsRehash(hash, cost),
    };
    const auth = createAuth({
      passwordHasher: hasher,
      logger: collectingLogger(),
      passwords: { hashConcurrency: 1, hashQueueLimit: 0 },
    });
    await settle(); // the dummy hash, prepared at start-up, holds the one slot until then
    await registerUser(auth);
    await expect(auth.login({ email: 'ada@example.com', password: PASSWORD })).rejects.toThrow(
      'native binding exploded',
    );
    await expect(auth.login({ email: 'ada@example.com', password: PASSWORD })).rejects.toThrow(
      'native binding rejected',
    );
    // With one slot and no waiting room, a leaked slot would refuse this login with a 503.
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toMatchObject({ user: { email: 'ada@example.com' } });
  });
});

describe('a full queue (passwords.hashQueueLimit)', () => {
  it('a full queue answers SERVER_ERROR 503 with Retry-After instead of growing without bound', async () => {
    const { auth, hasher } = await gatedAuth({
      passwords: { hashConcurrency: 1, hashQueueLimit: 3 },
    });
    const admitted = Array.from({ length: 4 }, (_, i) =>
      attempt(auth, `nobody-${i}@example.com`, `guess-${i}`),
    );
    await settle();
    const refused = await attempt(auth, 'one-too-many@example.com', 'guess-4');
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused).toMatchObject({
      code: 'SERVER_ERROR',
      status: 503,
      retryAfter: expect.any(Number),
      details: { reason: 'hash_queue_full' },
    });
    expect((refused as AuthError).retryAfter).toBeGreaterThanOrEqual(1);
    // The refused login never reached the hasher; the admitted ones all finish.
    while (hasher.pending.length > 0) await hasher.releaseNext();
    const results = await Promise.all(admitted);
    expect(results.map((r) => (r === 'ok' ? r : r.code))).toEqual(
      Array(4).fill('INVALID_CREDENTIALS'),
    );
    expect(hasher.started).toEqual(['guess-0', 'guess-1', 'guess-2', 'guess-3']);
    // Room again: the next login is served.
    const after = attempt(auth, 'later@example.com', 'guess-5');
    await settle();
    await hasher.releaseNext();
    expect(await after).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it("a full queue's Retry-After is about the time the waiting checks need to drain", async () => {
    const { auth, hasher } = await gatedAuth({
      passwords: { hashConcurrency: 1, hashQueueLimit: 2 },
      checkMs: 4_000, // every hash and check takes 4 s by the clock
    });
    const admitted = Array.from({ length: 3 }, (_, i) =>
      attempt(auth, `nobody-${i}@example.com`, `guess-${i}`),
    );
    await settle();
    // 2 waiting + this one, one slot, 4 s each: 12 s.
    expect(await attempt(auth, 'refused@example.com', 'guess')).toMatchObject({
      code: 'SERVER_ERROR',
      retryAfter: 12,
    });
    while (hasher.pending.length > 0) await hasher.releaseNext();
    await Promise.all(admitted);
  });

  it('a login refused by a full queue does not count toward the lockout of its account', async () => {
    const { auth, hasher } = await gatedAuth({
      passwords: { hashConcurrency: 1, hashQueueLimit: 1 },
      lockout: { maxAttempts: 3 },
    });
    await registerUser(auth);
    const busy = [
      attempt(auth, 'nobody-0@example.com', 'guess-0'),
      attempt(auth, 'nobody-1@example.com', 'guess-1'),
    ];
    await settle();
    // The victim retries five times while the queue is full: every try is a 503, none a lock.
    for (let i = 0; i < 5; i++) {
      expect(await attempt(auth, 'ada@example.com', PASSWORD)).toMatchObject({
        code: 'SERVER_ERROR',
        status: 503,
      });
    }
    while (hasher.pending.length > 0) await hasher.releaseNext();
    await Promise.all(busy);
    const login = attempt(auth, 'ada@example.com', PASSWORD);
    await settle();
    await hasher.releaseNext();
    expect(await login).toBe('ok');
  });

  it('hashQueueLimit 0 refuses whenever every slot is busy, and never more than that', async () => {
    const { auth, hasher } = await gatedAuth({
      passwords: { hashConcurrency: 2, hashQueueLimit: 0 },
    });
    const running = [attempt(auth, 'a@example.com', 'g-a'), attempt(auth, 'b@example.com', 'g-b')];
    await settle();
    expect(await attempt(auth, 'c@example.com', 'g-c')).toMatchObject({ status: 503 });
    while (hasher.pending.length > 0) await hasher.releaseNext();
    expect((await Promise.all(running)).map((r) => (r === 'ok' ? r : r.code))).toEqual([
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
    ]);
  });

  it('over HTTP a full queue answers 503 SERVER_ERROR with the generic message and a Retry-After (no 500, no hang)', async () => {
    const { auth, hasher } = await gatedAuth({
      passwords: { hashConcurrency: 1, hashQueueLimit: 0 },
      rateLimits: { login: false },
    });
    const gate = gatehouseExpress(auth);
    const app = express();
    app.use(gate.router);
    app.use(gate.errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/auth/login`;
    const post = (email: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'a wrong password' }),
      });
    try {
      const busy = post('nobody-0@example.com');
      while (hasher.pending.length === 0) await new Promise((r) => setTimeout(r, 5));
      const refused = await post('nobody-1@example.com');
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toEqual({
        success: false,
        error: "We're experiencing technical difficulties. Please try again in a few moments.",
        code: 'SERVER_ERROR',
      });
      await hasher.releaseNext();
      expect((await busy).status).toBe(401);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('the queue keeps unknown emails and wrong passwords alike (enumeration)', () => {
  it('an unknown email waits in the same queue as a known one (no timing oracle)', async () => {
    const { auth, hasher } = await gatedAuth({ passwords: { hashConcurrency: 1 } });
    await registerUser(auth);
    hasher.started.length = 0;
    const blocker = attempt(auth, 'nobody-0@example.com', 'blocker');
    await settle();
    const known = attempt(auth, 'ada@example.com', 'wrong-for-ada');
    const unknown = attempt(auth, 'nobody@example.com', 'wrong-for-nobody');
    await settle();
    // Neither jumps the queue: both wait behind the blocker, and then run in arrival order.
    expect(hasher.started).toEqual(['blocker']);
    await hasher.releaseNext();
    expect(hasher.started).toEqual(['blocker', 'wrong-for-ada']);
    await hasher.releaseNext();
    expect(hasher.started).toEqual(['blocker', 'wrong-for-ada', 'wrong-for-nobody']);
    await hasher.releaseNext();
    const [, a, b] = await Promise.all([blocker, known, unknown]);
    expect((a as AuthError).toJSON()).toEqual((b as AuthError).toJSON());
  });

  it('a full queue refuses an unknown email and a known one with the same answer', async () => {
    const { auth, hasher } = await gatedAuth({
      passwords: { hashConcurrency: 1, hashQueueLimit: 0 },
    });
    await registerUser(auth);
    const blocker = attempt(auth, 'nobody-0@example.com', 'blocker');
    await settle();
    const known = (await attempt(auth, 'ada@example.com', 'wrong')) as AuthError;
    const unknown = (await attempt(auth, 'nobody@example.com', 'wrong')) as AuthError;
    expect(known.toJSON()).toEqual(unknown.toJSON());
    expect([known.status, known.retryAfter]).toEqual([unknown.status, unknown.retryAfter]);
    await hasher.releaseNext();
    await blocker;
  });
});

describe('with the real bcrypt hasher', () => {
  /** bcryptHasher, counting the verifies in flight and the finished ones. */
  function countingBcrypt() {
    const counts = { inFlight: 0, maxInFlight: 0, started: 0, finished: 0 };
    const hasher: PasswordHasher = {
      ...bcryptHasher,
      async verify(password, hash) {
        counts.inFlight++;
        counts.started++;
        counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
        try {
          return await bcryptHasher.verify(password, hash);
        } finally {
          counts.inFlight--;
          counts.finished++;
        }
      },
    };
    return { hasher, counts };
  }

  // Twice the libuv pool (4 threads unless UV_THREADPOOL_SIZE says otherwise).
  const FLOOD = 2 * threadPoolSizeOf(process.env);

  async function floodWithFileRead(hashConcurrency: number) {
    const { hasher, counts } = countingBcrypt();
    const auth = createAuth({
      passwordHasher: hasher,
      logger: collectingLogger(),
      passwords: { cost: 10, hashConcurrency },
    });
    await registerUser(auth); // after the dummy hash (FIFO): both are ready
    const flood = Array.from({ length: FLOOD }, (_, i) =>
      attempt(auth, `nobody-${i}@example.com`, `guess-${i}`),
    );
    while (counts.started < Math.min(FLOOD, hashConcurrency)) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    // fs goes through the same libuv pool as bcrypt (one trip for a stat).
    await stat(new URL(import.meta.url));
    const finishedBeforeRead = counts.finished;
    const results = await Promise.all(flood);
    expect(results.map((r) => (r === 'ok' ? r : r.code))).toEqual(
      Array(FLOOD).fill('INVALID_CREDENTIALS'),
    );
    return { finishedBeforeRead, maxInFlight: counts.maxInFlight, auth };
  }

  it('a real bcrypt login flood runs one verify at a time at hashConcurrency 1, and the right password still logs in', async () => {
    const { maxInFlight, auth } = await floodWithFileRead(1);
    expect(maxInFlight).toBe(1);
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toMatchObject({ user: { email: 'ada@example.com' } });
  });

  it('a login flood leaves the libuv pool to fs: a file stat finishes before the first queued login, where without the queue it waits behind bcrypt', async () => {
    const queued = await floodWithFileRead(1);
    expect(queued.finishedBeforeRead).toBe(0);
    // The control: with the queue wide open the verifies take every pool thread, and the stat
    // waits in libuv's queue behind the rest until some of them are done.
    const open = await floodWithFileRead(1024);
    expect(open.maxInFlight).toBe(FLOOD);
    expect(open.finishedBeforeRead).toBeGreaterThanOrEqual(1);
  }, 20_000);
});

describe('options', () => {
  it('the default hashConcurrency leaves a core and a libuv pool thread free, and is at least 1', () => {
    expect(defaultHashConcurrency(4, 2)).toBe(1);
    expect(defaultHashConcurrency(4, 1)).toBe(1);
    expect(defaultHashConcurrency(4, 8)).toBe(3);
    expect(defaultHashConcurrency(16, 8)).toBe(7);
    expect(defaultHashConcurrency(1, 64)).toBe(1);
  });

  it('reads UV_THREADPOOL_SIZE the way libuv does', () => {
    expect(threadPoolSizeOf({})).toBe(4);
    expect(threadPoolSizeOf({ UV_THREADPOOL_SIZE: '8' })).toBe(8);
    expect(threadPoolSizeOf({ UV_THREADPOOL_SIZE: ' 12abc' })).toBe(12);
    expect(threadPoolSizeOf({ UV_THREADPOOL_SIZE: '0' })).toBe(1);
    expect(threadPoolSizeOf({ UV_THREADPOOL_SIZE: 'many' })).toBe(1);
    expect(threadPoolSizeOf({ UV_THREADPOOL_SIZE: '5000' })).toBe(1024);
  });

  it('the default queue limit refuses the next login only once that many wait', async () => {
    const { auth, hasher } = await gatedAuth({ passwords: { hashConcurrency: 1 } });
    const admitted = Array.from({ length: DEFAULT_HASH_QUEUE_LIMIT + 1 }, (_, i) =>
      attempt(auth, `nobody-${i}@example.com`, `guess-${i}`),
    );
    await settle(30);
    expect(await attempt(auth, 'refused@example.com', 'guess')).toMatchObject({ status: 503 });
    while (hasher.pending.length > 0) await hasher.releaseNext();
    expect(await Promise.all(admitted)).toHaveLength(DEFAULT_HASH_QUEUE_LIMIT + 1);
  });

  it.each([
    [{ hashConcurrency: 0 }, /passwords\.hashConcurrency: must be at least 1/],
    [{ hashConcurrency: 2.5 }, /passwords\.hashConcurrency: must be a whole number/],
    [{ hashConcurrency: '4' }, /passwords\.hashConcurrency: must be a whole number/],
    [{ hashConcurrency: 4096 }, /passwords\.hashConcurrency: must be at most 1024/],
    [{ hashQueueLimit: -1 }, /passwords\.hashQueueLimit: must be 0/],
    [{ hashQueueLimit: 1e9 }, /passwords\.hashQueueLimit: must be at most 100000/],
    [{ hashQueueLimit: Number.NaN }, /passwords\.hashQueueLimit: must be a whole number/],
  ])('a wrong queue option %o is INVALID_CONFIG naming it', (passwords, message) => {
    expect(configError({ passwords })).toMatch(message);
  });
});
