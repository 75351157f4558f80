import { AuthError, type PolicyFilter, policyFilterToSql } from 'gatehouse';
import { type Queryable, toServerError } from 'gatehouse/postgres';

export interface Order {
  id: string;
  userId: string;
  /** A decimal string with two places, e.g. "19.90". */
  total: string;
  status: 'pending' | 'paid' | 'cancelled';
  createdAt: string;
}

const TOTAL = /^\d{1,10}(\.\d{1,2})?$/;

interface OrderRow {
  id: string;
  user_id: string;
  total: string;
  status: Order['status'];
  created_at: Date | string;
}

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    userId: row.user_id,
    total: String(row.total),
    status: row.status,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Validates an order total: a decimal string such as "19.90" (never a float). */
export function parseTotal(input: unknown): string {
  if (typeof input !== 'string' || !TOTAL.test(input)) {
    throw new AuthError(
      'VALIDATION_ERROR',
      'total must be a decimal string with at most two decimal places, such as "19.90".',
      { details: { field: 'total' } },
    );
  }
  return input;
}

/**
 * The example's orders, in its own table beside gatehouse's. Every query goes through the same
 * error mapping as gatehouse's stores (`toServerError`): a database that is down answers 503
 * SERVER_ERROR, any other failed query 500, and the driver's text never reaches a response.
 * Give it the client of `createPostgresStores(...).client`, so an outage is logged once.
 */
export class OrderRepository {
  constructor(private readonly db: Queryable) {}

  private async query(text: string, params: unknown[]): Promise<unknown[]> {
    try {
      return (await this.db.query(text, params)).rows;
    } catch (err) {
      throw toServerError(err);
    }
  }

  async create(userId: string, total: string): Promise<Order> {
    const rows = await this.query(
      'INSERT INTO orders (user_id, total) VALUES ($1, $2) RETURNING id, user_id, total::text AS total, status, created_at',
      [userId, total],
    );
    return toOrder(rows[0] as OrderRow);
  }

  /**
   * Lists the orders a policy filter allows: the WHERE clause comes from the same policy as the
   * single-item check, so the list and `can()` never disagree.
   */
  async list(filter: PolicyFilter): Promise<Order[]> {
    const where = policyFilterToSql(filter, { columns: { userId: 'user_id', id: 'id' } });
    const rows = await this.query(
      `SELECT id, user_id, total::text AS total, status, created_at FROM orders WHERE ${where.text} ORDER BY created_at DESC, id LIMIT 100`,
      where.params,
    );
    return (rows as OrderRow[]).map(toOrder);
  }

  /** Every order of a user, oldest first: the example's part of the user's data export. */
  async listOfUser(userId: string): Promise<Order[]> {
    const rows = await this.query(
      'SELECT id, user_id, total::text AS total, status, created_at FROM orders WHERE user_id = $1 ORDER BY created_at, id',
      [userId],
    );
    return (rows as OrderRow[]).map(toOrder);
  }

  /**
   * Deletes every order of a user (the example's part of erasing an account, run by gatehouse
   * before it deletes the user); returns how many there were.
   */
  async deleteOfUser(userId: string): Promise<number> {
    return (await this.query('DELETE FROM orders WHERE user_id = $1 RETURNING id', [userId]))
      .length;
  }
}
