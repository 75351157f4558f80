import { describe, expect, it } from 'vitest';
import { MemoryTokenStore } from '../../../src/stores/memory-token-store.js';
import type { SessionRecord } from '../../../src/stores/types.js';
import { describeTokenStore } from '../../../src/testing/token-store.js';

describeTokenStore(
  'MemoryTokenStore',
  () => new MemoryTokenStore(),
  { describe, it },
  { watchRevocations: true, findSessionByTokenHash: true },
);

const NOW = 1_700_000_000_000;
const rule = { now: NOW + 1, idleMs: 86_400_000 };

function session(id: string): SessionRecord {
  return {
    id,
    userId: 'u',
    createdAt: NOW,
    expiresAt: NOW + 86_400_000,
    lastUsedAt: NOW,
    revokedAt: null,
    revokedReason: null,
  };
}

describe('MemoryTokenStore bounds', () => {
  it('drops the oldest session past maxSessions, ending it', async () => {
    const store = new MemoryTokenStore({ maxSessions: 2 });
    await store.createSession(session('a'), 'hash-a');
    await store.createSession(session('b'), 'hash-b');
    await store.createSession(session('c'), 'hash-c');
    expect(await store.getSession('a')).toBeNull();
    expect(await store.rotate('hash-a', 'next-a', rule)).toEqual({ status: 'unknown' });
    expect((await store.rotate('hash-b', 'next-b', rule)).status).toBe('rotated');
    expect((await store.rotate('hash-c', 'next-c', rule)).status).toBe('rotated');
  });

  it('allocates nothing up front: a store is cheap to create', () => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) new MemoryTokenStore();
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(100);
  });

  it('forgets the oldest used hashes past maxUsedTokens: a forgotten one is unknown, not reused', async () => {
    const store = new MemoryTokenStore({ maxUsedTokens: 1 });
    await store.createSession(session('a'), 'h0');
    await store.rotate('h0', 'h1', rule);
    await store.rotate('h1', 'h2', rule);
    expect(await store.rotate('h0', 'x', rule)).toEqual({ status: 'unknown' });
    expect((await store.rotate('h1', 'y', rule)).status).toBe('reused');
  });

  for (const [name, value] of [
    ['maxSessions', 0],
    ['maxUsedTokens', 1.5],
  ] as const) {
    it(`refuses ${name} = ${value}`, () => {
      expect(() => new MemoryTokenStore({ [name]: value })).toThrow(
        `MemoryTokenStore: ${name} must be a positive integer`,
      );
    });
  }
});
