import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { MemoryMailOutbox } from '../../../src/stores/memory-mail-outbox.js';
import { MemoryOneTimeTokenStore } from '../../../src/stores/memory-one-time-token-store.js';
import type { OneTimeTokenRecord, OutboxMessage } from '../../../src/stores/types.js';
import { describeOneTimeTokenStore } from '../../../src/testing/index.js';

describeOneTimeTokenStore(
  'MemoryOneTimeTokenStore',
  () => {
    const outbox = new MemoryMailOutbox();
    return { tokens: new MemoryOneTimeTokenStore({ outbox }), outbox };
  },
  { describe, it },
);

const NOW = 1_700_000_000_000;

function record(userId: string, tokenHash: string): OneTimeTokenRecord {
  return {
    tokenHash,
    userId,
    purpose: 'password_reset',
    createdAt: NOW,
    expiresAt: NOW + 1_800_000,
  };
}

function mail(id: string): OutboxMessage {
  return {
    id,
    kind: 'password_reset',
    to: 'ada@example.com',
    subject: 's',
    text: 't',
    html: 'h',
    attempts: 0,
    nextAttemptAt: NOW,
    createdAt: NOW,
    expiresAt: null,
  };
}

describe('MemoryOneTimeTokenStore bounds and configuration', () => {
  it('issue with a full outbox rejects and changes nothing: the older token still works (all or none)', async () => {
    const outbox = new MemoryMailOutbox({ maxPending: 1 });
    const tokens = new MemoryOneTimeTokenStore({ outbox });
    await tokens.issue(record('u1', 'first'), mail('m1'));
    const failure = await tokens.issue(record('u1', 'second'), mail('m2')).catch((e) => e);
    expect(failure).toBeInstanceOf(AuthError);
    expect(failure).toMatchObject({ code: 'SERVER_ERROR', status: 503 });
    expect(await tokens.find('first', 'password_reset', NOW)).not.toBeNull();
    expect(await tokens.find('second', 'password_reset', NOW)).toBeNull();
    expect(await outbox.pending()).toBe(1);
  });

  it('issue with a mail but no outbox is a configuration bug: TypeError, no token stored', async () => {
    const tokens = new MemoryOneTimeTokenStore();
    await expect(tokens.issue(record('u1', 'x'), mail('m1'))).rejects.toThrow(TypeError);
    expect(await tokens.find('x', 'password_reset', NOW)).toBeNull();
  });

  it('a flood of issued tokens is bounded by maxTokens: the oldest is forgotten (unknown)', async () => {
    const tokens = new MemoryOneTimeTokenStore({ maxTokens: 3 });
    for (let i = 0; i < 5; i += 1) await tokens.issue(record(`user-${i}`, `hash-${i}`));
    expect(await tokens.find('hash-0', 'password_reset', NOW)).toBeNull();
    expect(await tokens.find('hash-1', 'password_reset', NOW)).toBeNull();
    for (const i of [2, 3, 4]) {
      expect(await tokens.find(`hash-${i}`, 'password_reset', NOW)).not.toBeNull();
    }
  });

  it('refuses a maxTokens that is not a positive integer', () => {
    expect(() => new MemoryOneTimeTokenStore({ maxTokens: 0 })).toThrow(/maxTokens/);
    expect(() => new MemoryOneTimeTokenStore({ maxTokens: 1.5 })).toThrow(/maxTokens/);
  });
});
