// The reliability suite's database checks must fail on the faults they exist for: a lost, a
// duplicated or a phantom write, a lockout that allowed too many password checks, a rate-limit
// counter that missed requests. Rows are given as the checks' queries would return them.
import { describe, expect, it } from 'vitest';
import { lockoutKeyHasher, secretBytes } from '../../src/credentials/identifier-key.js';
import { checkLockout, checkOrders, checkRates, type Db } from './db-checks.js';
import { Ledger, LIMITS } from './workload.js';

const KEY = 'k'.repeat(48);

/** Answers each check's query with the rows of the table it reads. */
function tables(rows: Record<string, unknown[]>): Db {
  return {
    async query<R>(text: string) {
      const table = Object.keys(rows).find((name) => text.includes(`FROM ${name}`));
      if (!table) throw new Error(`no rows for ${text}`);
      return { rows: rows[table] as R[] };
    },
  };
}

function ordersLedger(): Ledger {
  const ledger = new Ledger();
  ledger.orders.set('1000.01', { userId: 'u1', acked: true, id: 'o1' });
  ledger.orders.set('1000.02', { userId: 'u1', acked: true, id: 'o2' });
  return ledger;
}

const order = (total: string, id: string, n = 1) => ({ total, user_id: 'u1', id, n });

describe('reliability checks: orders', () => {
  it('passes when every acknowledged order is stored once and nothing else is', async () => {
    const db = tables({ orders: [order('1000.01', 'o1'), order('1000.02', 'o2')] });
    expect((await checkOrders(db, ordersLedger())).ok).toBe(true);
  });

  it('a lost write (an order answered 201, missing from the database) fails the check', async () => {
    const verdict = await checkOrders(tables({ orders: [order('1000.01', 'o1')] }), ordersLedger());
    expect(verdict).toEqual({ ok: false, detail: 'acknowledged order 1000.02 is missing' });
  });

  it('a duplicated write (one order stored twice) fails the check', async () => {
    const db = tables({ orders: [order('1000.01', 'o1'), order('1000.02', 'o2', 2)] });
    expect((await checkOrders(db, ordersLedger())).detail).toBe('order 1000.02 exists 2 times');
  });

  it('a phantom write (an order nobody sent) fails the check', async () => {
    const db = tables({
      orders: [order('1000.01', 'o1'), order('1000.02', 'o2'), order('9.99', 'o3')],
    });
    expect((await checkOrders(db, ordersLedger())).detail).toBe('order 9.99 was never sent');
  });
});

describe('reliability checks: lockout', () => {
  const email = 'victim@reliability.test';
  const key = lockoutKeyHasher(secretBytes(KEY))(email);
  const attacked = (n401: number, n403: number) => {
    const ledger = new Ledger();
    const sent = n401 + n403;
    ledger.attacks.set(email, { email, sent, n401, n403, n429: 0, concurrent: false });
    return ledger;
  };
  const row = (attempts: number, locked: boolean, lockouts: number) => ({
    key,
    attempts,
    locked,
    lockouts,
  });

  it('passes when the lock and the refusals counted equal the failures', async () => {
    const db = tables({ login_attempts: [row(3, true, 1)] });
    expect((await checkLockout(db, attacked(LIMITS.lockout, 3), KEY)).ok).toBe(true);
  });

  it('more password checks than the lockout threshold (a race past the lock) fails the check', async () => {
    const db = tables({ login_attempts: [row(2, true, 1)] });
    const verdict = await checkLockout(db, attacked(LIMITS.lockout + 1, 2), KEY);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toContain('password checks failed, expected 5');
  });

  it('a counter row no failure explains (a login that did not clear its counter) fails the check', async () => {
    const db = tables({
      login_attempts: [
        row(3, true, 1),
        { key: 'login:other', attempts: 1, locked: false, lockouts: 0 },
      ],
    });
    const verdict = await checkLockout(db, attacked(LIMITS.lockout, 3), KEY);
    expect(verdict.detail).toBe('1 counter rows no failure explains (attempts 1)');
  });
});

describe('reliability checks: rate limits', () => {
  const ledger = () => {
    const l = new Ledger();
    for (let i = 0; i < LIMITS.login + 2; i++) l.countRate('login', '127.21.2.1');
    l.countRate('register', '127.21.1.1');
    return l;
  };

  it('passes when every counter equals the requests sent from its address', async () => {
    const db = tables({
      rate_limits: [
        { key: 'login:127.21.2.1', hits: LIMITS.login + 2 },
        { key: 'register:127.21.1.1', hits: 1 },
      ],
    });
    expect((await checkRates(db, ledger(), [21])).ok).toBe(true);
  });

  it('a counter that missed requests (hits lost under concurrency) fails the check', async () => {
    const db = tables({
      rate_limits: [
        { key: 'login:127.21.2.1', hits: LIMITS.login },
        { key: 'register:127.21.1.1', hits: 1 },
      ],
    });
    expect((await checkRates(db, ledger(), [21])).detail).toBe(
      `login:127.21.2.1: counter ${LIMITS.login}, sent ${LIMITS.login + 2}`,
    );
  });

  it('a counter for an address of the run that sent nothing fails the check', async () => {
    const db = tables({
      rate_limits: [
        { key: 'login:127.21.2.1', hits: LIMITS.login + 2 },
        { key: 'register:127.21.1.1', hits: 1 },
        { key: 'refresh:127.21.9.9', hits: 1 },
      ],
    });
    expect((await checkRates(db, ledger(), [21])).detail).toBe(
      'refresh:127.21.9.9: counter 1, nothing sent',
    );
  });
});
