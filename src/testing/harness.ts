/**
 * The test functions a conformance suite needs. Pass your runner's own (`vitest`, `node:test`,
 * jest, mocha): the suites assert with `node:assert/strict` and depend on no runner.
 */
export interface TestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void> | void, timeout?: number): void;
}

/** Makes a fresh, empty store for one test (truncate your tables here). */
export type StoreFactory<S> = () => S | Promise<S>;
