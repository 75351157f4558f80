import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesPolicyFilter, policyFilterToSql } from '../../../src/policy/filter.js';
import { definePolicy, resource } from '../../../src/policy/policy.js';
import { seedPolicy } from '../../../src/policy/seed-policy.js';
import type { PolicyFilter } from '../../../src/policy/types.js';

interface Doc {
  id: string;
  ownerId: string | null;
  tenantId: string | null;
  status: string | null;
}

const docs = definePolicy({
  resources: { docs: resource<Doc>()(['read', 'edit', 'delete', 'archive']) },
  roles: {
    member: {
      allow: [
        { resource: 'docs', actions: ['read'], where: { ownerId: { principal: 'userId' } } },
        {
          resource: 'docs',
          actions: ['read'],
          where: { status: 'published', tenantId: { principal: 'claims.tenantId' } },
        },
        { resource: 'docs', actions: ['edit'], where: { ownerId: { principal: 'userId' } } },
        { resource: 'docs', actions: ['archive'], when: (_p, d) => d.status === 'draft' },
      ],
      deny: [{ resource: 'docs', actions: ['edit'], where: { status: 'locked' } }],
    },
    moderator: {
      inherits: ['member'],
      allow: ['docs:delete', 'docs:archive'],
      deny: [
        { resource: 'docs', actions: ['delete'], where: { ownerId: { principal: 'userId' } } },
      ],
    },
  },
});

const member = { userId: 'u1', role: 'member', claims: { tenantId: 't1' } };
const moderator = { userId: 'm1', role: 'moderator', claims: { tenantId: 't1' } };

describe('filter', () => {
  it('returns everything for an unconditional grant', () => {
    expect(seedPolicy.filter({ userId: 'a1', role: 'admin' }, 'users:read')).toEqual({
      kind: 'all',
    });
  });

  it('returns nothing without a grant, for an unknown role and without a principal', () => {
    expect(seedPolicy.filter({ userId: 'u1', role: 'user' }, 'users:delete')).toEqual({
      kind: 'none',
    });
    expect(seedPolicy.filter({ userId: 'u1', role: 'root' }, 'orders:read')).toEqual({
      kind: 'none',
    });
    expect(seedPolicy.filter(null, 'orders:read')).toEqual({ kind: 'none' });
  });

  it('combines conditional grants with or, with the principal’s values filled in', () => {
    expect(docs.filter(member, 'docs:read')).toEqual({
      kind: 'where',
      anyOf: [
        [{ field: 'ownerId', equals: 'u1' }],
        [
          { field: 'status', equals: 'published' },
          { field: 'tenantId', equals: 't1' },
        ],
      ],
      noneOf: [],
    });
  });

  it('carries conditional denies as noneOf', () => {
    expect(docs.filter(member, 'docs:edit')).toEqual({
      kind: 'where',
      anyOf: [[{ field: 'ownerId', equals: 'u1' }]],
      noneOf: [[{ field: 'status', equals: 'locked' }]],
    });
  });

  it('keeps an unconditional grant as an empty conjunction when a conditional deny applies', () => {
    expect(docs.filter(moderator, 'docs:delete')).toEqual({
      kind: 'where',
      anyOf: [[]],
      noneOf: [[{ field: 'ownerId', equals: 'm1' }]],
    });
  });

  it('drops a conditional grant whose principal field is missing', () => {
    const noTenant = { userId: 'u1', role: 'member' };
    expect(docs.filter(noTenant, 'docs:read')).toEqual({
      kind: 'where',
      anyOf: [[{ field: 'ownerId', equals: 'u1' }]],
      noneOf: [],
    });
  });

  it('returns nothing when a deny cannot be filled in (fail closed)', () => {
    const noUserId = { userId: undefined, role: 'moderator' } as unknown as typeof moderator;
    expect(docs.filter(noUserId, 'docs:delete')).toEqual({ kind: 'none' });
  });

  it('refuses a permission whose grant is a function condition, naming the rule', () => {
    expect(() => docs.filter(member, 'docs:archive')).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: expect.stringContaining("allow[3] of role 'member'"),
      }),
    );
  });

  it('ignores a function condition made irrelevant by an unconditional grant', () => {
    expect(docs.filter(moderator, 'docs:archive')).toEqual({ kind: 'all' });
  });

  it('lists the same condition once when it is inherited along two paths', () => {
    const diamond = definePolicy({
      resources: { docs: resource<Doc>()(['read']) },
      roles: {
        base: {
          allow: [
            { resource: 'docs', actions: ['read'], where: { ownerId: { principal: 'userId' } } },
          ],
        },
        left: { inherits: ['base'] },
        right: {
          inherits: ['base'],
          allow: [
            { resource: 'docs', actions: ['read'], where: { ownerId: { principal: 'userId' } } },
          ],
        },
        both: { inherits: ['left', 'right'] },
      },
    });
    const filter = diamond.filter({ userId: 'u1', role: 'both' }, 'docs:read');
    expect(filter).toEqual({
      kind: 'where',
      anyOf: [[{ field: 'ownerId', equals: 'u1' }]],
      noneOf: [],
    });
  });
});

describe('policyFilterToSql', () => {
  it('renders everything as TRUE and nothing as FALSE', () => {
    expect(policyFilterToSql({ kind: 'all' })).toEqual({ text: 'TRUE', params: [] });
    expect(policyFilterToSql({ kind: 'none' })).toEqual({ text: 'FALSE', params: [] });
  });

  it('renders equalities as parameters with mapped, quoted column names', () => {
    const sql = policyFilterToSql(
      seedPolicy.filter({ userId: 'u1', role: 'user' }, 'orders:read'),
      {
        columns: { userId: 'user_id' },
        table: 'o',
        firstParam: 3,
      },
    );
    expect(sql).toEqual({ text: '(("o"."user_id" = $3))', params: ['u1'] });
  });

  it('never inlines a value into the SQL text (injection attempt in a principal field)', () => {
    const evil = { userId: "u1' OR '1'='1", role: 'user' };
    const sql = policyFilterToSql(seedPolicy.filter(evil, 'orders:read'));
    expect(sql.text).toBe('(("userId" = $1))');
    expect(sql.params).toEqual(["u1' OR '1'='1"]);
  });

  it('quotes a column name containing a double quote', () => {
    const filter: PolicyFilter = {
      kind: 'where',
      anyOf: [[{ field: 'a"b', equals: 1 }]],
      noneOf: [],
    };
    expect(policyFilterToSql(filter).text).toBe('(("a""b" = $1))');
  });

  it('renders null as IS NULL and denies as NOT COALESCE(..., TRUE)', () => {
    const filter: PolicyFilter = {
      kind: 'where',
      anyOf: [[{ field: 'ownerId', equals: null }], []],
      noneOf: [[{ field: 'status', equals: 'locked' }]],
    };
    expect(policyFilterToSql(filter)).toEqual({
      text: '((("ownerId" IS NULL) OR TRUE) AND NOT COALESCE(("status" = $1), TRUE))',
      params: ['locked'],
    });
  });
});

// Rows with every combination that matters, including missing (NULL) fields.
const rows: Doc[] = [];
for (const ownerId of ['u1', 'm1', 'u2', null]) {
  for (const tenantId of ['t1', 't2', null]) {
    for (const status of ['published', 'locked', 'draft', null]) {
      rows.push({ id: `d${rows.length}`, ownerId, tenantId, status });
    }
  }
}
const cases = [
  [member, 'docs:read'],
  [member, 'docs:edit'],
  [moderator, 'docs:read'],
  [moderator, 'docs:edit'],
  [moderator, 'docs:delete'],
  [moderator, 'docs:archive'],
  [{ userId: 'u1', role: 'member' }, 'docs:read'],
] as const;

describe('a list and the single-item check never disagree', () => {
  it.each(cases)(
    'matchesPolicyFilter agrees with can() on every row (%o, %s)',
    (who, permission) => {
      const filter = docs.filter(who, permission);
      for (const row of rows) {
        expect(matchesPolicyFilter(filter, row), row.id).toBe(docs.can(who, permission, row));
      }
    },
  );

  describe('in PostgreSQL (PGlite)', () => {
    let db: PGlite;
    beforeAll(async () => {
      db = new PGlite();
      await db.query(
        'CREATE TABLE docs (id text PRIMARY KEY, owner_id text, tenant_id text, status text)',
      );
      for (const row of rows) {
        await db.query('INSERT INTO docs VALUES ($1, $2, $3, $4)', [
          row.id,
          row.ownerId,
          row.tenantId,
          row.status,
        ]);
      }
    });
    afterAll(async () => {
      await db.close();
    });

    it.each(cases)('selects exactly the rows can() allows (%o, %s)', async (who, permission) => {
      const where = policyFilterToSql(docs.filter(who, permission), {
        columns: { ownerId: 'owner_id', tenantId: 'tenant_id' },
      });
      const result = await db.query<{ id: string }>(
        `SELECT id FROM docs WHERE ${where.text} ORDER BY id`,
        where.params,
      );
      const expected = rows
        .filter((row) => docs.can(who, permission, row))
        .map((row) => row.id)
        .sort();
      expect(result.rows.map((row) => row.id)).toEqual(expected);
    });
  });
});
