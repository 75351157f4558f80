/**
 * The test functions a conformance suite needs. Pass your runner's own (`vitest`, `node:test`,
 * jest, mocha): the suites assert with `node:assert/strict` and depend on no runner. The suites
 * never pass `timeout`, so `node:test`'s `describe` and `it` fit as they are.
 *
 * @example
 * ```ts
 * import { describe, it } from 'node:test'; // or: from 'vitest'
 * import { describeTokenStore } from 'gatehouse/testing';
 *
 * describeTokenStore('MyTokenStore', () => new MyTokenStore(db), { describe, it } satisfies TestApi);
 * ```
 */
export interface TestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void> | void, timeout?: number): void;
}

/**
 * Makes a fresh, empty store for one test (truncate your tables here). Called once per test, so
 * tests never see each other's data.
 *
 * @example
 * ```ts
 * const factory: StoreFactory<UserStore> = async () => {
 *   await pool.query('TRUNCATE accounts');
 *   return new AccountsUserStore(pool);
 * };
 * describeUserStore('AccountsUserStore', factory, { describe, it });
 * ```
 */
export type StoreFactory<S> = () => S | Promise<S>;
