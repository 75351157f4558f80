// Issue 14, on a real PostgreSQL server (skipped without DATABASE_URL; run with
// `bash scripts/with-postgres.sh npx vitest run tests/postgres/refresh-outage.test.ts`): the
// network to the database is cut at the moment a refresh reads its user. Before the fix the
// rotation had committed by then, so the 503 left the token used and the client's retry was
// taken for reuse (family revoked, user logged out by an outage). Now the rotation is the
// refresh's last database step, so the cut changes nothing and the retry works.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, migrate } from '../../adapters/postgres/index.js';
import { type AuditEvent, createAuth, type UserStore } from '../../src/index.js';
import { collectingLogger } from '../helpers/auth.js';
import { poolBehindProxy } from '../helpers/cuttable-proxy.js';
import { CountingHasher, ManualClock } from '../helpers/fakes.js';
import { DATABASE_URL, freshSchema, openPool, server } from './databases.js';

const PASSWORD = 'correct horse battery';

/**
 * `users` whose next `findById`, once armed, first cuts the network to the database (every
 * connection of the pool reset), so that read fails as in a real outage.
 */
function cutOnUserRead(users: UserStore, cut: () => Promise<void>) {
  const state = { armed: false };
  const store = new Proxy(users, {
    get(target, property) {
      if (property === 'findById' && state.armed) {
        return async (id: string) => {
          state.armed = false;
          await cut();
          return target.findById(id);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, state };
}

describe.skipIf(server.skip)('refresh across a cut to a PostgreSQL server (DATABASE_URL)', () => {
  const schema = freshSchema();
  let admin: pg.Pool;
  beforeAll(async () => {
    admin = openPool({ max: 2 });
    await migrate(admin, { schema });
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('a database outage between the rotation and the user read cannot revoke the session: the retry with the same refresh token succeeds', async () => {
    const { proxy, pool } = await poolBehindProxy(DATABASE_URL!);
    const db = createPostgresStores(pool, { schema });
    const users = cutOnUserRead(db.stores.users, () => proxy.cut());
    const events: AuditEvent[] = [];
    const logger = collectingLogger();
    const auth = createAuth({
      stores: { ...db.stores, users: users.store },
      passwordHasher: new CountingHasher(),
      clock: new ManualClock(),
      audit: (event) => void events.push(event),
      logger,
      tokens: {
        keys: [{ kid: 'k1', alg: 'HS256', key: 'a-test-secret-of-more-than-32-bytes-long!' }],
      },
    });
    try {
      await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
      const login = await auth.login({ email: 'ada@example.com', password: PASSWORD });

      users.state.armed = true;
      await expect(auth.refresh(login.refreshToken)).rejects.toMatchObject({
        code: 'SERVER_ERROR',
        status: 503,
      });
      expect(users.state.armed).toBe(false);

      await proxy.restore();
      // The client retries with the token it holds, as a 503 asks it to.
      const retried = await auth.refresh(login.refreshToken);
      expect((await auth.verifyAccessToken(retried.token)).userId).toBe(login.user.id);
      await expect(auth.refresh(retried.refreshToken)).resolves.toHaveProperty('token');

      const { rows } = await admin.query<{ revoked_at: Date | null; used: number }>(
        `SELECT s.revoked_at,
           (SELECT count(*)::int FROM "${schema}".refresh_tokens t
             WHERE t.session_id = s.id AND t.used_at IS NOT NULL) AS used
         FROM "${schema}".sessions s`,
      );
      // One session, never revoked; the login's token and the retry's were each used once.
      expect(rows).toEqual([{ revoked_at: null, used: 2 }]);
      expect(events.map((e) => e.event)).not.toContain('TOKEN_REUSE_DETECTED');
      expect(logger.lines.map((line) => line.message)).not.toContain(
        'refresh token reuse detected; session revoked',
      );
    } finally {
      await auth.close();
      await pool.end();
      await proxy.close();
    }
  });
});
