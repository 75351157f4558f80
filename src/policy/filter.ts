// The two readers of a PolicyFilter: one for rows in memory, one for SQL. Both follow the same
// three-valued logic as `can()`, so a list and a single-item check never disagree.
import type { FieldEquals, PolicyFilter } from './types.js';

const FALSE = 0;
const TRUE = 1;
const UNKNOWN = 2;

function test(conjunction: readonly FieldEquals[], row: Readonly<Record<string, unknown>>): number {
  let unknown = false;
  for (const { field, equals } of conjunction) {
    const actual = row[field];
    if (actual === undefined || (actual === null && equals !== null)) {
      unknown = true;
      continue;
    }
    if (actual !== equals) return FALSE;
  }
  return unknown ? UNKNOWN : TRUE;
}

/**
 * Whether a row passes a {@link PolicyFilter}: for stores that list from memory. For a row
 * with the fields the policy reads, this agrees with `policy.can(principal, permission, row)`.
 *
 * @example
 * ```ts
 * import { matchesPolicyFilter } from 'gatehouse';
 *
 * const filter = auth.filter(principal, 'orders:read');
 * const mine = orders.filter((order) => matchesPolicyFilter(filter, order));
 * ```
 */
export function matchesPolicyFilter(filter: PolicyFilter, row: object): boolean {
  if (filter.kind === 'all') return true;
  if (filter.kind === 'none') return false;
  const fields = row as Readonly<Record<string, unknown>>;
  for (const conjunction of filter.noneOf) if (test(conjunction, fields) !== FALSE) return false;
  for (const conjunction of filter.anyOf) if (test(conjunction, fields) === TRUE) return true;
  return false;
}

/**
 * Options of {@link policyFilterToSql}.
 *
 * @example
 * ```ts
 * const options: PolicyFilterSqlOptions = { columns: { userId: 'user_id' }, table: 'o', firstParam: 2 };
 * ```
 */
export interface PolicyFilterSqlOptions {
  /**
   * Column name of each resource field, when it differs (e.g. `{ userId: 'user_id' }`).
   * @default the field name itself
   */
  readonly columns?: Readonly<Record<string, string>>;
  /** Table name or alias to qualify columns with (e.g. `'o'` gives `"o"."user_id"`). */
  readonly table?: string;
  /**
   * Number of the first placeholder, for appending to a query that already has parameters.
   * @default 1
   */
  readonly firstParam?: number;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Turns a {@link PolicyFilter} into a parameterised SQL condition (PostgreSQL placeholders
 * `$1`, `$2`, ...) for a `WHERE` clause. Identifiers are quoted and values are always
 * parameters, never inlined. A NULL column in a deny condition excludes the row, as `can()`
 * denies when a deny cannot be ruled out.
 *
 * @example
 * ```ts
 * import { policyFilterToSql } from 'gatehouse';
 *
 * const where = policyFilterToSql(auth.filter(principal, 'orders:read'), {
 *   columns: { userId: 'user_id' },
 * });
 * // where.text: '(("user_id" = $1))', where.params: ['u1']
 * const { rows } = await pool.query(`SELECT * FROM orders WHERE ${where.text}`, where.params);
 * ```
 */
export function policyFilterToSql(
  filter: PolicyFilter,
  options: PolicyFilterSqlOptions = {},
): { text: string; params: unknown[] } {
  if (filter.kind === 'all') return { text: 'TRUE', params: [] };
  if (filter.kind === 'none') return { text: 'FALSE', params: [] };
  const params: unknown[] = [];
  const first = options.firstParam ?? 1;
  const column = (field: string): string => {
    const name = quoteIdentifier(options.columns?.[field] ?? field);
    return options.table === undefined ? name : `${quoteIdentifier(options.table)}.${name}`;
  };
  const conjunction = (equalities: readonly FieldEquals[]): string => {
    if (equalities.length === 0) return 'TRUE';
    const terms = equalities.map(({ field, equals }) => {
      if (equals === null) return `${column(field)} IS NULL`;
      params.push(equals);
      return `${column(field)} = $${first + params.length - 1}`;
    });
    return `(${terms.join(' AND ')})`;
  };
  const allow =
    filter.anyOf.length === 0 ? 'FALSE' : `(${filter.anyOf.map(conjunction).join(' OR ')})`;
  if (filter.noneOf.length === 0) return { text: allow, params };
  const deny = filter.noneOf.map(conjunction).join(' OR ');
  return { text: `(${allow} AND NOT COALESCE(${deny}, TRUE))`, params };
}
