// The admin listing and bans on PostgreSQL: the listing reads an index range (never an OFFSET,
// never a sort or a full scan), proven with EXPLAIN on the very statements PostgresUserStore
// sends; migration 4 upgrades a database with users in it. On PGlite and (DATABASE_URL) a server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  migrate,
  migrationScripts,
  PostgresUserStore,
  type Queryable,
} from '../../adapters/postgres/index.js';
import { resolveTables } from '../../adapters/postgres/tables.js';
import { prefixUpperBound } from '../../adapters/postgres/user-store.js';
import { createAuth } from '../../src/index.js';
import { collectingLogger } from '../helpers/auth.js';
import { freshSchema, type TestDatabase, targets } from './databases.js';

const USERS = 5000;
const email = (i: number) => `user${String(i).padStart(5, '0')}@example.com`;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/** A client that records every statement it passes on. */
function recording(client: Queryable): Queryable & { sent: { text: string; params: unknown[] }[] } {
  const sent: { text: string; params: unknown[] }[] = [];
  return {
    sent,
    query: (text: string, params?: unknown[]) => {
      sent.push({ text, params: params ?? [] });
      return client.query(text, params);
    },
  } as Queryable & { sent: { text: string; params: unknown[] }[] };
}

for (const target of targets) {
  describe.skipIf(target.skip)(`the users listing on ${target.name}`, () => {
    let db: TestDatabase;
    let table: string;
    let indexName: string;
    beforeAll(async () => {
      db = await target.open();
      const t = resolveTables(db.options);
      table = t.users;
      indexName = `${t.prefix}users_email_order_idx`;
      await db.truncate();
      // Inserted in reverse order, so that the table's physical order is not the email order.
      await db.client.query(
        `INSERT INTO ${table} (email, name, role, password_hash)
         SELECT 'user' || lpad(i::text, 5, '0') || '@example.com', 'User ' || i, 'user', 'x'
         FROM generate_series(${USERS}, 1, -1) AS i`,
      );
      await db.client.query(`ANALYZE ${table}`);
    }, 60_000);
    afterAll(async () => {
      await db?.close();
    });

    /** Runs `listUsers` and EXPLAIN ANALYZE of the statement it sent, with its parameters. */
    async function explained(query: Parameters<PostgresUserStore['listUsers']>[0]) {
      const client = recording(db.client);
      const store = new PostgresUserStore(client, db.options);
      const page = await store.listUsers(query);
      expect(client.sent).toHaveLength(1);
      const [{ text, params }] = client.sent as [{ text: string; params: unknown[] }];
      expect(text).not.toMatch(/\bOFFSET\b/i);
      const { rows } = await db.client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params);
      const raw = (rows[0] as Record<string, unknown>)['QUERY PLAN'];
      const json = (typeof raw === 'string' ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }];
      return { page, nodes: nodesOf(json[0].Plan) };
    }

    function expectIndexRange(nodes: PlanNode[], maxRows: number) {
      const types = nodes.map((n) => n['Node Type']);
      expect(types, JSON.stringify(types)).not.toContain('Seq Scan');
      expect(types, JSON.stringify(types)).not.toContain('Sort');
      const scan = nodes.find((n) => n['Node Type'] === 'Index Scan');
      expect(scan?.['Index Name']).toBe(indexName);
      // The scan stops after the page (+1 to know whether another follows): a deep page reads
      // what the first one does, not every row before it as an OFFSET would.
      expect(scan!['Actual Rows']! * (scan!['Actual Loops'] ?? 1)).toBeLessThanOrEqual(maxRows);
    }

    it(`the first page of ${USERS} users is an index range scan of users_email_order_idx (no Seq Scan, no Sort)`, async () => {
      const { page, nodes } = await explained({ limit: 50 });
      expect(page.users.map((u) => u.email)).toEqual(
        Array.from({ length: 50 }, (_, i) => email(i + 1)),
      );
      expect(page.nextCursor).toBe(email(50));
      expectIndexRange(nodes, 51);
    });

    it('a page deep in the table (cursor at user 2500) reads 51 rows, not the 2500 before it (no OFFSET scan)', async () => {
      const { page, nodes } = await explained({ limit: 50, cursor: email(2500) });
      expect(page.users.map((u) => u.email)).toEqual(
        Array.from({ length: 50 }, (_, i) => email(2501 + i)),
      );
      expectIndexRange(nodes, 51);
    });

    it('a prefix search is one index range too, with and without a cursor', async () => {
      const first = await explained({ limit: 20, query: 'user03' });
      expect(first.page.users).toHaveLength(20);
      expect(first.page.users[0]?.email).toBe(email(3000));
      expectIndexRange(first.nodes, 21);
      const next = await explained({ limit: 20, query: 'user03', cursor: email(3500) });
      expect(next.page.users.map((u) => u.email)).toEqual(
        Array.from({ length: 20 }, (_, i) => email(3501 + i)),
      );
      expectIndexRange(next.nodes, 21);
      // The range ends with the prefix: the last page of it has a null cursor.
      const store = new PostgresUserStore(db.client, db.options);
      const end = await store.listUsers({ limit: 20, query: 'user03', cursor: email(3990) });
      expect(end.users.map((u) => u.email)).toEqual(
        Array.from({ length: 9 }, (_, i) => email(3991 + i)),
      );
      expect(end.nextCursor).toBeNull();
    });

    it('the last page ends with a null cursor after walking all 5000 users once', async () => {
      const store = new PostgresUserStore(db.client, db.options);
      let count = 0;
      let last = '';
      let cursor: string | undefined;
      for (;;) {
        const page = await store.listUsers(
          cursor === undefined ? { limit: 100 } : { limit: 100, cursor },
        );
        for (const user of page.users) {
          expect(user.email > last).toBe(true);
          last = user.email;
        }
        count += page.users.length;
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(count).toBe(USERS);
    }, 60_000);

    it('the database refuses a ban without a reason or an end without a ban (users_ban_check)', async () => {
      const [{ id }] = (
        await db.client.query(`SELECT id::text AS id FROM ${table} WHERE email = $1`, [email(1)])
      ).rows as [{ id: string }];
      for (const set of [
        'banned_at = now()',
        'ban_reason = $2',
        'banned_until = now()',
        'banned_until = now(), ban_reason = $2',
      ]) {
        const params = set.includes('$2') ? [id, 'x'] : [id];
        await expect(
          db.client.query(`UPDATE ${table} SET ${set} WHERE id = $1::uuid`, params),
        ).rejects.toMatchObject({ code: '23514' });
      }
    });
  });

  describe.skipIf(target.skip)(
    `the users listing under a linguistic collation on ${target.name}`,
    () => {
      let db: TestDatabase;
      beforeAll(async () => {
        db = await target.open();
      });
      afterAll(async () => {
        await db?.close();
      });

      it('an email column with a linguistic collation (und-x-icu, which skips punctuation) still pages in code point order, each user once', async () => {
        const schema = freshSchema();
        await migrate(db.client, { schema });
        try {
          // Most production databases sort linguistically (en_US.UTF-8); the listing must not.
          await db.client.query(
            `ALTER TABLE "${schema}".users ALTER COLUMN email TYPE varchar(255) COLLATE "und-x-icu"`,
          );
          const store = new PostgresUserStore(db.client, { schema });
          const ordered = [
            'a-c@example.com',
            'a.b@example.com',
            'a@example.com',
            'a_a@example.com',
            'ab@example.com',
            'abc@example.com',
          ];
          for (const i of [5, 2, 0, 4, 1, 3]) {
            await store.create({ email: ordered[i]!, name: 'T', role: 'user', passwordHash: 'x' });
          }
          // The linguistic order differs (it would put a.b before a-c, and a_a after ab).
          const { rows } = await db.client.query(
            `SELECT email FROM "${schema}".users ORDER BY lower(email)`,
          );
          expect((rows as { email: string }[]).map((r) => r.email)).not.toEqual(ordered);
          const seen: string[] = [];
          let cursor: string | undefined;
          for (let i = 0; i < 10; i++) {
            const page = await store.listUsers(
              cursor === undefined ? { limit: 2 } : { limit: 2, cursor },
            );
            seen.push(...page.users.map((u) => u.email));
            if (page.nextCursor === null) break;
            cursor = page.nextCursor;
          }
          expect(seen).toEqual(ordered);
          expect(
            (await store.listUsers({ limit: 10, query: 'a.' })).users.map((u) => u.email),
          ).toEqual(['a.b@example.com']);
        } finally {
          await db.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        }
      }, 60_000);
    },
  );

  describe.skipIf(target.skip)(`migration 4 on ${target.name}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await target.open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('upgrades a database of the previous version with users in it: not banned, listed, then bannable', async () => {
      const schema = freshSchema();
      const scripts = migrationScripts({ schema });
      const before = scripts.filter((m) => m.version < 4);
      await db.client.query(`CREATE SCHEMA "${schema}"`);
      for (const m of before) {
        for (const statement of m.sql.split(';\n\n')) {
          if (statement.trim() !== '') await db.client.query(statement.replace(/;\n$/, ''));
        }
      }
      await db.client.query(`CREATE TABLE "${schema}".migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const m of before) {
        await db.client.query(
          `INSERT INTO "${schema}".migrations (version, name) VALUES ($1, $2)`,
          [m.version, m.name],
        );
      }
      await db.client.query(
        `INSERT INTO "${schema}".users (email, name, role, password_hash) VALUES
          ('bob@example.com', 'Bob', 'user', 'x'), ('ada@example.com', 'Ada', 'user', 'x')`,
      );
      try {
        const result = await migrate(db.client, { schema });
        expect(result.applied).toEqual(scripts.filter((m) => m.version >= 4).map((m) => m.version));
        const users = new PostgresUserStore(db.client, { schema });
        const page = await users.listUsers({ limit: 10 });
        expect(page.users.map((u) => [u.email, u.bannedAt, u.bannedUntil, u.banReason])).toEqual([
          ['ada@example.com', null, null, null],
          ['bob@example.com', null, null, null],
        ]);
        const auth = createAuth({ stores: { users }, logger: collectingLogger() });
        const banned = await auth.banUser(page.users[0]!.id, { reason: 'Spam' });
        expect(banned.ban).toMatchObject({ reason: 'Spam', until: null });
        await auth.close();
      } finally {
        await db.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    }, 60_000);
  });
}

describe('prefixUpperBound (the end of a prefix range)', () => {
  it('grows the last code point, skipping the surrogates and dropping U+10FFFF', () => {
    expect(prefixUpperBound('ab')).toBe('ac');
    expect(prefixUpperBound('a\ud7ff')).toBe('a\ue000');
    expect(prefixUpperBound('a\u{10FFFF}')).toBe('b');
    expect(prefixUpperBound('x\u{1F600}')).toBe('x\u{1F601}');
    expect(prefixUpperBound('\u{10FFFF}')).toBeNull();
    expect(prefixUpperBound('')).toBeNull();
  });
});
