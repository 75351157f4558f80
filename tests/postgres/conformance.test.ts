// The gatehouse/testing conformance suites against every Postgres store, on PGlite and (when
// DATABASE_URL is set) on a real server through pg.Pool.
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  PostgresAttemptStore,
  PostgresRateLimitStore,
  PostgresTokenStore,
  PostgresUserStore,
} from '../../adapters/postgres/index.js';
import {
  describeAttemptStore,
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
    );
  });
}
