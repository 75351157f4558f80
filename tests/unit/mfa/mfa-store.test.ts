// The MfaStore conformance suite on the memory store (PGlite and PostgreSQL: tests/postgres/mfa-store.test.ts).
import { describe, expect, it } from 'vitest';
import { MemoryMfaStore } from '../../../src/stores/memory-mfa-store.js';
import { describeMfaStore } from '../../../src/testing/index.js';

describeMfaStore('MemoryMfaStore', () => new MemoryMfaStore(), { describe, it });

describe('MemoryMfaStore bound', () => {
  it('a flood of abandoned enrolments drops the oldest pending factor, never an active one (second factor not silently turned off)', async () => {
    const mfa = new MemoryMfaStore({ maxFactors: 3 });
    await mfa.savePendingFactor('active', 'v1.k.a', 1);
    await mfa.activateFactor('active', 1, [], 2);
    await mfa.savePendingFactor('p1', 'v1.k.b', 3);
    await mfa.savePendingFactor('p2', 'v1.k.c', 4);
    await mfa.savePendingFactor('p3', 'v1.k.d', 5);
    expect(await mfa.getFactor('p1')).toBeNull();
    expect((await mfa.getFactor('active'))?.status).toBe('active');
    expect((await mfa.getFactor('p3'))?.status).toBe('pending');
  });

  it('a store full of active factors refuses a new enrolment with SERVER_ERROR instead of dropping one', async () => {
    const mfa = new MemoryMfaStore({ maxFactors: 1 });
    await mfa.savePendingFactor('a', 'v1.k.a', 1);
    await mfa.activateFactor('a', 1, [], 2);
    await expect(mfa.savePendingFactor('b', 'v1.k.b', 3)).rejects.toMatchObject({
      code: 'SERVER_ERROR',
    });
    expect((await mfa.getFactor('a'))?.status).toBe('active');
  });

  it('refuses a maxFactors that is not a positive integer', () => {
    expect(() => new MemoryMfaStore({ maxFactors: 0 })).toThrow(/maxFactors/);
  });
});
