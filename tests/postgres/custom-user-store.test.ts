// The example of docs/postgres.md "Keeping your own users table": a UserStore over an app's
// existing `accounts` table, checked by the same conformance suite as gatehouse's own stores.
// Written as an app would write it, importing the public entry points.
import { PGlite } from '@electric-sql/pglite';
import {
  AuthError,
  type NewUser,
  type UserListPage,
  type UserListQuery,
  type UserPatch,
  type UserRecord,
  type UserStore,
} from 'gatehouse';
import { type Queryable, toServerError } from 'gatehouse/postgres';
import { describeUserStore } from 'gatehouse/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';

const ACCOUNTS = `CREATE TABLE accounts (
  account_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  display_name text NOT NULL,
  is_admin boolean NOT NULL DEFAULT false,
  bcrypt_hash text NOT NULL,
  disabled_at timestamptz,
  last_seen_at timestamptz,
  created timestamptz NOT NULL DEFAULT now(),
  modified timestamptz NOT NULL DEFAULT now(),
  banned_at timestamptz,
  banned_until timestamptz,
  ban_reason text
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));
-- listUsers walks the emails in code point order: this index serves it without a sort.
CREATE INDEX accounts_email_order ON accounts ((lower(email) COLLATE "C"));`;

interface AccountRow {
  id: string;
  email: string;
  display_name: string;
  is_admin: boolean;
  bcrypt_hash: string;
  disabled_at: Date | null;
  last_seen_at: Date | null;
  created: Date;
  modified: Date;
  banned_at: Date | null;
  banned_until: Date | null;
  ban_reason: string | null;
}

const FIELDS = `account_id::text AS id, email, display_name, is_admin, bcrypt_hash,
  disabled_at, last_seen_at, created, modified, banned_at, banned_until, ban_reason`;
const SELECT = `SELECT ${FIELDS} FROM accounts`;

const toUser = (row: AccountRow): UserRecord => ({
  id: row.id,
  email: row.email,
  name: row.display_name,
  role: row.is_admin ? 'admin' : 'user',
  passwordHash: row.bcrypt_hash,
  isActive: row.disabled_at === null,
  lastLoginAt: row.last_seen_at,
  createdAt: row.created,
  updatedAt: row.modified,
  bannedAt: row.banned_at,
  bannedUntil: row.banned_until,
  banReason: row.ban_reason,
});

/** Ids are bigints: anything else cannot name an account (and must not reach the query). */
const isId = (id: string) => /^[1-9]\d{0,17}$/.test(id);

function isAdmin(role: string): boolean {
  if (role !== 'user' && role !== 'admin') {
    throw new AuthError('VALIDATION_ERROR', 'Unknown role.', { details: { field: 'role' } });
  }
  return role === 'admin';
}

class AccountsUserStore implements UserStore {
  constructor(private readonly db: Queryable) {}

  private async rows(text: string, params: unknown[]): Promise<AccountRow[]> {
    try {
      return (await this.db.query(text, params)).rows as AccountRow[];
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new AuthError('EMAIL_TAKEN');
      throw toServerError(err); // SERVER_ERROR, 503 when the database is unreachable
    }
  }

  async findByEmail(email: string) {
    const [row] = await this.rows(`${SELECT} WHERE lower(email) = lower($1)`, [email]);
    return row ? toUser(row) : null;
  }

  async findById(id: string) {
    if (!isId(id)) return null;
    const [row] = await this.rows(`${SELECT} WHERE account_id = $1`, [id]);
    return row ? toUser(row) : null;
  }

  async create(user: NewUser) {
    const [row] = await this.rows(
      `INSERT INTO accounts (email, display_name, is_admin, bcrypt_hash) VALUES ($1, $2, $3, $4)
       RETURNING ${FIELDS}`,
      [user.email, user.name, isAdmin(user.role), user.passwordHash],
    );
    return toUser(row!);
  }

  async update(id: string, patch: UserPatch) {
    if (!isId(id)) return null;
    // One UPDATE; a NULL parameter keeps the column as it is. The ban fields can be set to
    // null (an unban), so each comes with a flag saying whether the patch has it.
    const [row] = await this.rows(
      `UPDATE accounts SET
         display_name = coalesce($2, display_name),
         is_admin = coalesce($3, is_admin),
         disabled_at = CASE WHEN $4::boolean IS NULL THEN disabled_at
                            WHEN $4 THEN NULL ELSE coalesce(disabled_at, now()) END,
         bcrypt_hash = coalesce($5, bcrypt_hash),
         last_seen_at = coalesce($6, last_seen_at),
         banned_at = CASE WHEN $7::boolean THEN $8::timestamptz ELSE banned_at END,
         banned_until = CASE WHEN $9::boolean THEN $10::timestamptz ELSE banned_until END,
         ban_reason = CASE WHEN $11::boolean THEN $12::text ELSE ban_reason END,
         modified = now()
       WHERE account_id = $1
       RETURNING ${FIELDS}`,
      [
        id,
        patch.name ?? null,
        patch.role === undefined ? null : isAdmin(patch.role),
        patch.isActive ?? null,
        patch.passwordHash ?? null,
        patch.lastLoginAt ?? null,
        patch.bannedAt !== undefined,
        patch.bannedAt ?? null,
        patch.bannedUntil !== undefined,
        patch.bannedUntil ?? null,
        patch.banReason !== undefined,
        patch.banReason ?? null,
      ],
    );
    return row ? toUser(row) : null;
  }

  async replacePasswordHash(id: string, expectedHash: string, newHash: string) {
    if (!isId(id)) return false;
    // Compare-and-set in the WHERE clause: a concurrent change makes this match no row.
    const rows = await this.rows(
      `UPDATE accounts SET bcrypt_hash = $3, modified = now()
       WHERE account_id = $1 AND bcrypt_hash = $2 RETURNING account_id`,
      [id, expectedHash, newHash],
    );
    return rows.length === 1;
  }

  async listUsers(query: UserListQuery): Promise<UserListPage> {
    // Keyset pagination in code point order: after the cursor (the last email of the previous
    // page), never an OFFSET. One row more than the page tells whether another page follows.
    const rows = (await this.rows(
      `SELECT ${FIELDS}, lower(email) AS sort_key FROM accounts
       WHERE ($1::text IS NULL OR lower(email) COLLATE "C" > $1)
         AND ($2::text IS NULL OR starts_with(lower(email), $2))
       ORDER BY lower(email) COLLATE "C" LIMIT $3`,
      [query.cursor ?? null, query.query ?? null, query.limit + 1],
    )) as (AccountRow & { sort_key: string })[];
    const page = rows.slice(0, query.limit);
    return {
      users: page.map(toUser),
      nextCursor: rows.length > query.limit ? page[page.length - 1]!.sort_key : null,
    };
  }

  async delete(id: string) {
    if (!isId(id)) return false;
    const rows = await this.rows(
      'DELETE FROM accounts WHERE account_id = $1 RETURNING account_id',
      [id],
    );
    return rows.length === 1;
  }
}

describe('a UserStore over your own table (docs/postgres.md)', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite();
    await db.exec(ACCOUNTS);
  });
  afterAll(async () => {
    await db?.close();
  });

  describeUserStore(
    'AccountsUserStore',
    async () => {
      await db.query('TRUNCATE accounts');
      return new AccountsUserStore(db);
    },
    { describe, it },
  );
});
