// The gatehouse/testing conformance suites against every Postgres store, on PGlite and (when
// DATABASE_URL is set) on a real server through pg.Pool.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  PostgresAttemptStore,
  PostgresAuditLog,
  PostgresMailOutbox,
  PostgresOneTimeTokenStore,
  PostgresRateLimitStore,
  PostgresTokenStore,
  PostgresUserStore,
} from '../../adapters/postgres/index.js';
import { resolveTables } from '../../adapters/postgres/tables.js';
import {
  describeAttemptStore,
  describeAuditLogStore,
  describeMailOutboxStore,
  describeOneTimeTokenStore,
  describeRateLimitStore,
  describeTokenStore,
  describeUserStore,
} from '../../src/testing/index.js';
import { type TestDatabase, targets } from './databases.js';

for (const target of targets) {
  describe.skipIf(target.skip)(`on ${target.name}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await target.open();
    });
    afterAll(async () => {
      await db?.close();
    });

    const fresh = async <S>(make: () => S): Promise<S> => {
      await db.truncate();
      return make();
    };
    const api = { describe, it };

    describeUserStore(
      'PostgresUserStore',
      () => fresh(() => new PostgresUserStore(db.client, db.options)),
      api,
    );
    describeAttemptStore(
      'PostgresAttemptStore',
      () => fresh(() => new PostgresAttemptStore(db.client, db.options)),
      api,
    );
    describeRateLimitStore(
      'PostgresRateLimitStore',
      () => fresh(() => new PostgresRateLimitStore(db.client, db.options)),
      api,
    );
    describeTokenStore(
      'PostgresTokenStore',
      () => fresh(() => new PostgresTokenStore(db.client, db.options)),
      api,
      { watchRevocations: true, findSessionByTokenHash: true },
    );
    describeOneTimeTokenStore(
      'PostgresOneTimeTokenStore',
      () =>
        fresh(() => {
          const users = new PostgresUserStore(db.client, db.options);
          return {
            tokens: new PostgresOneTimeTokenStore(db.client, db.options),
            outbox: new PostgresMailOutbox(db.client, db.options),
            // No foreign key to users, but real ids are what the core passes.
            createUserId: async () =>
              (
                await users.create({
                  email: `${randomUUID()}@example.com`,
                  name: 'T',
                  role: 'user',
                  passwordHash: 'x',
                })
              ).id,
          };
        }),
      api,
    );
    describeAuditLogStore(
      'PostgresAuditLog',
      () => fresh(() => new PostgresAuditLog(db.client, db.options)),
      api,
    );
    describeMailOutboxStore(
      'PostgresMailOutbox',
      () => fresh(() => new PostgresMailOutbox(db.client, db.options)),
      api,
      {
        async content(_store, id) {
          const t = resolveTables(db.options);
          const { rows } = await db.client.query(
            `SELECT subject, body_text AS text, body_html AS html FROM ${t.mailOutbox} WHERE id = $1`,
            [id],
          );
          return (rows[0] as { subject: string; text: string; html: string } | undefined) ?? null;
        },
      },
    );
  });
}
