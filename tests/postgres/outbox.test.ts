// The Postgres mail outbox and one-time tokens beyond the conformance suites: a crash between
// enqueue and delivery, several instances sharing the work (FOR UPDATE SKIP LOCKED), the
// all-or-nothing issue statement, and what the tables keep.
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  migrate,
  PostgresMailOutbox,
  PostgresOneTimeTokenStore,
  type Queryable,
} from '../../adapters/postgres/index.js';
import { resolveTables } from '../../adapters/postgres/tables.js';
import { AuditEmitter } from '../../src/audit/emitter.js';
import { isAuthError } from '../../src/errors.js';
import type { MailMessage } from '../../src/mail/message.js';
import { createMailWorker } from '../../src/mail/worker.js';
import type { Logger } from '../../src/runtime.js';
import type { OutboxMessage } from '../../src/stores/types.js';
import { newMail, newRecord } from '../../src/testing/one-time-token-store.js';
import { openPool, server, type TestDatabase, targets } from './databases.js';

const NOW = 1_700_000_000_000;
const MINUTE = 60_000;
const LEASE = MINUTE;
const CHILD = join(import.meta.dirname, 'outbox-crash-child.ts');

const tokenHash = () => createHash('sha256').update(randomUUID()).digest('base64url');

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

/** A logger that keeps what it is given. */
function memoryLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * Runs tests/postgres/outbox-crash-child.ts until it reports `done`, then kills it with SIGKILL
 * (no close, no cleanup: a crash) and resolves with its report once the process is gone.
 */
function crashAfter(args: string[]): Promise<unknown> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const report = () => /^done (.*)$/m.exec(out)?.[1];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (report() !== undefined) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const done = report();
      if (done !== undefined && signal === 'SIGKILL') resolve(JSON.parse(done));
      else reject(new Error(`crash child ended (${code}, ${signal}) without its report: ${err}`));
    });
  });
}

describe('a crash on PGlite (a data directory)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'gatehouse-outbox-'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('a message enqueued before a crash (SIGKILL, no clean close) is still delivered after it', async () => {
    const dir = join(root, 'killed');
    const token = newRecord('user-1');
    const message = newMail();
    expect(
      await crashAfter(['pglite', dir, 'issue', JSON.stringify({ record: token, mail: message })]),
    ).toEqual({
      issued: token.tokenHash,
    });
    // The next start of the app: the same folder, a new process's stores.
    const db = new PGlite(dir);
    try {
      await migrate(db);
      const outbox = new PostgresMailOutbox(db);
      expect(await outbox.pending()).toBe(1);
      expect(await outbox.claim(NOW, 10, LEASE)).toEqual([{ ...message, attempts: 1 }]);
      expect(
        await new PostgresOneTimeTokenStore(db).find(token.tokenHash, 'password_reset', NOW),
      ).toEqual(token);
      await outbox.markDelivered(message.id, NOW + 1);
      expect(await outbox.pending()).toBe(0);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('a message claimed by an instance that stopped mid-delivery is claimed again when its lease ends (at-least-once)', async () => {
    const dir = join(root, 'reopened');
    const message = newMail({ expiresAt: null });
    const first = new PGlite(dir);
    await migrate(first);
    await new PostgresMailOutbox(first).enqueue(message);
    expect(await new PostgresMailOutbox(first).claim(NOW, 10, LEASE)).toHaveLength(1);
    await first.close(); // stopped before markDelivered
    const second = new PGlite(dir);
    try {
      const outbox = new PostgresMailOutbox(second);
      expect(await outbox.claim(NOW + LEASE - 1, 10, LEASE)).toEqual([]);
      expect(await outbox.claim(NOW + LEASE, 10, LEASE)).toEqual([{ ...message, attempts: 2 }]);
    } finally {
      await second.close();
    }
  }, 120_000);
});

describe('an unavailable database (a closed PGlite)', () => {
  let db: PGlite;
  let tokens: PostgresOneTimeTokenStore;
  let outbox: PostgresMailOutbox;
  beforeAll(async () => {
    db = new PGlite();
    await migrate(db);
    tokens = new PostgresOneTimeTokenStore(db);
    outbox = new PostgresMailOutbox(db);
    await db.close();
  });

  it('every operation of both stores fails with SERVER_ERROR 503 (never a raw driver error)', async () => {
    const hash = tokenHash();
    const id = randomUUID();
    const calls: [string, () => Promise<unknown>][] = [
      ['issue', () => tokens.issue(newRecord('u'), newMail())],
      ['find', () => tokens.find(hash, 'password_reset', NOW)],
      ['consume', () => tokens.consume(hash, 'password_reset', NOW)],
      ['revokeUserTokens', () => tokens.revokeUserTokens('u')],
      ['tokens.prune', () => tokens.prune(NOW)],
      ['enqueue', () => outbox.enqueue(newMail())],
      ['claim', () => outbox.claim(NOW, 10, LEASE)],
      ['markDelivered', () => outbox.markDelivered(id, NOW)],
      ['markFailed', () => outbox.markFailed(id, { retryAt: null, error: 'x', now: NOW })],
      ['pending', () => outbox.pending()],
      ['outbox.prune', () => outbox.prune(NOW)],
    ];
    for (const [name, call] of calls) {
      const err = await rejection(call());
      expect(isAuthError(err) && [err.code, err.status], name).toEqual(['SERVER_ERROR', 503]);
    }
  });

  it('a malformed token hash, purpose or message id never reaches the database (null or no-op, not an error)', async () => {
    // The database is closed: any query would fail, so these answers were given without one.
    expect(await tokens.find('not a hash', 'password_reset', NOW)).toBeNull();
    expect(await tokens.consume(`${tokenHash()}\u0000`, 'password_reset', NOW)).toBeNull();
    expect(await tokens.consume(tokenHash(), 'admin' as never, NOW)).toBeNull();
    expect(await tokens.revokeUserTokens('u\u0000')).toBe(0);
    await outbox.markDelivered("1' OR '1'='1", NOW);
    await outbox.markFailed('not-a-uuid', { retryAt: null, error: 'x', now: NOW });
  });
});

for (const target of targets) {
  describe.skipIf(target.skip)(`one-time tokens and their mail on ${target.name}`, () => {
    let db: TestDatabase;
    let tokens: PostgresOneTimeTokenStore;
    let outbox: PostgresMailOutbox;
    let tables: ReturnType<typeof resolveTables>;
    beforeAll(async () => {
      db = await target.open();
      tokens = new PostgresOneTimeTokenStore(db.client, db.options);
      outbox = new PostgresMailOutbox(db.client, db.options);
      tables = resolveTables(db.options);
    });
    afterAll(async () => {
      await db?.close();
    });

    const liveTokens = async (userId: string) => {
      const { rows } = await db.client.query(
        `SELECT count(*)::int AS n FROM ${tables.oneTimeTokens}
         WHERE user_id = $1 AND consumed_at IS NULL AND superseded_at IS NULL`,
        [userId],
      );
      return (rows[0] as { n: number }).n;
    };

    it('issue with a mail whose id is already in the outbox stores nothing: no new token, the earlier one still usable (all-or-nothing)', async () => {
      await db.truncate();
      const earlier = newRecord('u-dup');
      await tokens.issue(earlier);
      const queued = newMail({ subject: 'queued first' });
      await outbox.enqueue(queued);
      const newer = newRecord('u-dup', { createdAt: NOW + 1 });
      const err = await rejection(tokens.issue(newer, { ...newMail(), id: queued.id }));
      expect(isAuthError(err) && err.code).toBe('SERVER_ERROR');
      expect(await tokens.find(newer.tokenHash, 'password_reset', NOW + 1)).toBeNull();
      // The supersede of the same statement was rolled back with it.
      expect(await tokens.find(earlier.tokenHash, 'password_reset', NOW + 1)).toEqual(earlier);
      expect(await outbox.pending()).toBe(1);
      expect((await outbox.claim(NOW, 10, LEASE)).map((m) => m.subject)).toEqual(['queued first']);
    });

    it('issue with a mail the table refuses (empty recipient) stores neither the token nor the mail', async () => {
      await db.truncate();
      const token = newRecord('u-bad-mail');
      const err = await rejection(tokens.issue(token, newMail({ to: '' })));
      expect(isAuthError(err) && err.code).toBe('SERVER_ERROR');
      expect(await tokens.find(token.tokenHash, 'password_reset', NOW)).toBeNull();
      expect(await outbox.pending()).toBe(0);
    });

    it('the database itself refuses a second live token for one user and purpose (unique partial index)', async () => {
      await db.truncate();
      await tokens.issue(newRecord('u-index'));
      const err = await rejection(
        db.client.query(
          `INSERT INTO ${tables.oneTimeTokens} (token_hash, user_id, purpose, created_at, expires_at)
           VALUES ($1, 'u-index', 'password_reset', now(), now() + interval '1 hour')`,
          [tokenHash()],
        ),
      );
      expect((err as { code?: string }).code).toBe('23505');
      expect(await liveTokens('u-index')).toBe(1);
    });

    it('20 concurrent issues for one user, each with its mail, leave one live token and all 20 mails', async () => {
      await db.truncate();
      const records = Array.from({ length: 20 }, (_, i) =>
        newRecord('u-race', { createdAt: NOW + i }),
      );
      await Promise.all(records.map((r) => tokens.issue(r, newMail())));
      expect(await liveTokens('u-race')).toBe(1);
      expect(await outbox.pending()).toBe(20);
    });

    it('NUL bytes in a mail are dropped instead of failing the issue (a name cannot block a reset)', async () => {
      await db.truncate();
      const token = newRecord('u-nul');
      const message = newMail({ subject: 'Hi A\u0000da', text: 'x\u0000y', html: '<p>\u0000</p>' });
      await tokens.issue(token, message);
      expect(await outbox.claim(NOW, 10, LEASE)).toEqual([
        { ...message, subject: 'Hi Ada', text: 'xy', html: '<p></p>', attempts: 1 },
      ]);
      expect(await tokens.find(token.tokenHash, 'password_reset', NOW)).toEqual(token);
    });

    it('a failed attempt keeps a short cause (clipped, without NUL) and the content; giving up keeps the cause only', async () => {
      await db.truncate();
      const message = newMail({ expiresAt: null });
      await outbox.enqueue(message);
      await outbox.claim(NOW, 10, LEASE);
      await outbox.markFailed(message.id, {
        retryAt: NOW + 1000,
        error: `550 rejected\u0000${'x'.repeat(2000)}`,
        now: NOW,
      });
      const row = async () =>
        (
          await db.client.query(
            `SELECT subject, body_text, last_error, failed_at IS NOT NULL AS failed
             FROM ${tables.mailOutbox} WHERE id = $1`,
            [message.id],
          )
        ).rows[0] as { subject: string; body_text: string; last_error: string; failed: boolean };
      const retrying = await row();
      expect(retrying).toMatchObject({
        subject: message.subject,
        body_text: message.text,
        failed: false,
      });
      expect(retrying.last_error).toHaveLength(500);
      expect(retrying.last_error.startsWith('550 rejectedxxx')).toBe(true);
      await outbox.claim(NOW + 1000, 10, LEASE);
      await outbox.markFailed(message.id, {
        retryAt: null,
        error: 'ECONNREFUSED',
        now: NOW + 1000,
      });
      expect(await row()).toEqual({
        subject: '',
        body_text: '',
        last_error: 'ECONNREFUSED',
        failed: true,
      });
    });
  });
}

describe.skipIf(server.skip)('several instances on one PostgreSQL server (DATABASE_URL)', () => {
  let db: TestDatabase;
  const pools: { end(): Promise<void> }[] = [];
  beforeAll(async () => {
    db = await server.open();
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db?.close();
  });

  function instance(): {
    pool: Queryable & { connect: ReturnType<typeof openPool>['connect'] };
    outbox: PostgresMailOutbox;
  } {
    const pool = openPool({ max: 4 });
    pools.push(pool);
    return { pool, outbox: new PostgresMailOutbox(pool, db.options) };
  }

  async function enqueueAll(outbox: PostgresMailOutbox, count: number): Promise<OutboxMessage[]> {
    const messages = Array.from({ length: count }, (_, i) =>
      newMail({
        to: `m${i}@example.com`,
        createdAt: NOW - (count - i),
        nextAttemptAt: NOW - count,
      }),
    );
    for (const message of messages) await outbox.enqueue(message);
    return messages;
  }

  it('a message enqueued before a crash (SIGKILL) is delivered by the next instance', async () => {
    await db.truncate();
    const token = newRecord('user-1');
    const message = newMail();
    await crashAfter([
      'server',
      db.options.schema!,
      'issue',
      JSON.stringify({ record: token, mail: message }),
    ]);
    const { outbox } = instance();
    expect(await outbox.claim(NOW, 10, LEASE)).toEqual([{ ...message, attempts: 1 }]);
  }, 120_000);

  it('a message claimed by an instance that crashed mid-delivery goes to another instance when its lease ends', async () => {
    await db.truncate();
    const { outbox } = instance();
    const [message] = await enqueueAll(outbox, 1);
    expect(
      await crashAfter([
        'server',
        db.options.schema!,
        'claim',
        JSON.stringify({ now: NOW, leaseMs: LEASE }),
      ]),
    ).toEqual({ claimed: [message!.id] });
    expect(await outbox.claim(NOW + LEASE - 1, 10, LEASE)).toEqual([]);
    expect((await outbox.claim(NOW + LEASE, 10, LEASE)).map((m) => [m.id, m.attempts])).toEqual([
      [message!.id, 2],
    ]);
  }, 120_000);

  it('a claim does not wait for messages another instance holds locked: it takes the next ones (SKIP LOCKED)', async () => {
    await db.truncate();
    const a = instance();
    const b = instance();
    const messages = await enqueueAll(a.outbox, 4);
    const holder = await a.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `SELECT id FROM ${resolveTables(db.options).mailOutbox} WHERE id = ANY($1::uuid[]) FOR UPDATE`,
        [[messages[0]!.id, messages[1]!.id]],
      );
      let timer: NodeJS.Timeout | undefined;
      const claimed = await Promise.race([
        b.outbox.claim(NOW, 10, LEASE),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('claim waited for a row lock')), 5_000);
        }),
      ]).finally(() => clearTimeout(timer));
      expect(claimed.map((m) => m.id)).toEqual([messages[2]!.id, messages[3]!.id]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect((await b.outbox.claim(NOW, 10, LEASE)).map((m) => m.id)).toEqual([
      messages[0]!.id,
      messages[1]!.id,
    ]);
  });

  it('4 claimers on two pools share 100 messages: disjoint claims, each message delivered once', async () => {
    await db.truncate();
    const instances = [instance(), instance()];
    const messages = await enqueueAll(instances[0]!.outbox, 100);
    const delivered: string[][] = [[], [], [], []];
    await Promise.all(
      delivered.map(async (mine, claimer) => {
        const { outbox } = instances[claimer % 2]!;
        for (;;) {
          const batch = await outbox.claim(NOW, 5, LEASE);
          if (batch.length === 0) return;
          for (const message of batch) {
            expect(message.attempts).toBe(1);
            mine.push(message.id);
            await outbox.markDelivered(message.id, NOW);
          }
        }
      }),
    );
    const all = delivered.flat();
    expect(all).toHaveLength(100);
    expect(new Set(all)).toEqual(new Set(messages.map((m) => m.id)));
    expect(delivered.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
    expect(await instances[1]!.outbox.pending()).toBe(0);
  });

  it('two mail workers on two pools deliver 50 messages exactly once each', async () => {
    await db.truncate();
    const instances = [instance(), instance()];
    await enqueueAll(instances[0]!.outbox, 50);
    const received = new Map<string, number>();
    const perWorker = [0, 0];
    const logger = memoryLogger();
    const clock = { now: () => NOW };
    const workers = instances.map(({ outbox }, w) =>
      createMailWorker({
        store: outbox,
        mailer: async (message: MailMessage) => {
          await new Promise((resolve) => setImmediate(resolve));
          received.set(message.to, (received.get(message.to) ?? 0) + 1);
          perWorker[w]! += 1;
        },
        clock,
        logger,
        audit: new AuditEmitter({ sink: undefined, clock, logger, emailKey: new Uint8Array(32) }),
        batchSize: 5,
      }),
    );
    try {
      const results = await Promise.all(workers.map((worker) => worker.flush()));
      expect(results.reduce((sum, r) => sum + r.delivered, 0)).toBe(50);
      expect(results.every((r) => r.failed === 0)).toBe(true);
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
    }
    expect(received.size).toBe(50);
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    expect(perWorker.every((n) => n > 0)).toBe(true);
    expect(await instances[1]!.outbox.pending()).toBe(0);
    expect(logger.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
  });
});
