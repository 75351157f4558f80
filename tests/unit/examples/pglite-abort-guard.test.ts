import { describe, expect, it } from 'vitest';
import {
  embeddedFailureMessage,
  guardPgliteAborts,
  isPgliteAbort,
} from '../../../examples/common/database.js';

// A real WebAssembly trap: a module whose one function executes `unreachable`, as PGlite's
// Postgres does when it calls abort(). Bytes: (module (func (export "trap") unreachable)).
const TRAP_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
  0x01, 0x00, 0x07, 0x08, 0x01, 0x04, 0x74, 0x72, 0x61, 0x70, 0x00, 0x00, 0x0a, 0x05, 0x01, 0x03,
  0x00, 0x00, 0x0b,
]);
// `WebAssembly` is a global of Node, absent from this project's TypeScript lib (ES2023, no DOM).
const wasm = (globalThis as unknown as Record<string, unknown>).WebAssembly as {
  instantiate(bytes: Uint8Array): Promise<{ instance: { exports: Record<string, unknown> } }>;
};
const { instance } = await wasm.instantiate(TRAP_MODULE);
const trap = instance.exports.trap as () => void;

/** A client whose queries run into the WebAssembly trap, or fail like a normal SQL error. */
function client(fault: 'trap' | 'sql') {
  const query = async () => {
    if (fault === 'trap') trap();
    throw Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
    });
  };
  return {
    query,
    transaction: async <T>(fn: (tx: { query: typeof query }) => Promise<T>) => fn({ query }),
  };
}

describe('a PGlite abort while serving', () => {
  it('a WebAssembly trap in a query (RuntimeError, as PGlite Aborted()) calls the fatal handler', async () => {
    const aborts: unknown[] = [];
    const guarded = guardPgliteAborts(client('trap'), (err) => aborts.push(err));
    const failure = await guarded.query('SELECT 1').catch((err: unknown) => err);
    expect(isPgliteAbort(failure)).toBe(true);
    expect(aborts).toEqual([failure]);
  });

  it('a WebAssembly trap in a query inside a transaction calls the fatal handler', async () => {
    const aborts: unknown[] = [];
    const guarded = guardPgliteAborts(client('trap'), (err) => aborts.push(err));
    await expect(guarded.transaction((tx) => tx.query('SELECT 1'))).rejects.toThrow();
    expect(aborts.length).toBeGreaterThanOrEqual(1);
    expect(aborts.every(isPgliteAbort)).toBe(true);
  });

  it('an ordinary SQL error passes through without ending the process', async () => {
    const aborts: unknown[] = [];
    const guarded = guardPgliteAborts(client('sql'), (err) => aborts.push(err));
    await expect(guarded.query('INSERT ...')).rejects.toMatchObject({ code: '23505' });
    expect(aborts).toEqual([]);
  });

  it('the fatal message names the directory and says to move it away', () => {
    const message = embeddedFailureMessage('/srv/app/.data/pglite', 'RuntimeError: Aborted()');
    expect(message).toMatch(/^fatal: the embedded database in \/srv\/app\/.data\/pglite failed/);
    expect(message).toContain('move it away (for example: mv /srv/app/.data/pglite');
    expect(message).toContain('a new database will be created and the demo accounts seeded');
  });
});
