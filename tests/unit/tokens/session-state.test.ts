// The session-state cache of the verify path (src/tokens/session-state.ts): cached only while
// the token store's revocation watch is live, dropped on every revocation event, bounded by
// the TTL, and read from the store on every verify while the watch is down.
import { describe, expect, it } from 'vitest';
import { MemoryTokenStore } from '../../../src/stores/memory-token-store.js';
import { MemoryUserStore } from '../../../src/stores/memory-user-store.js';
import type {
  RevocationEvent,
  RevocationListener,
  RevocationWatch,
  SessionRecord,
  TokenStore,
} from '../../../src/stores/types.js';
import { SessionStateReader } from '../../../src/tokens/session-state.js';
import { collectingLogger, makeAuth, PASSWORD } from '../../helpers/auth.js';
import { HMAC_SECRET, manualClock, refusal, START } from './fixtures.js';

/**
 * A memory token store whose revocation watch the test drives: `setLive` drops or restores the
 * channel, `announce` delivers an event, `silently` revokes without announcing (a lost
 * notification). Counts the reads that reach the store.
 */
class DrivenStore implements TokenStore {
  readonly inner = new MemoryTokenStore();
  reads = 0;
  closedWatches = 0;
  #live = true;
  readonly #listeners = new Set<RevocationListener>();
  /** When set, getSession waits for this promise before reading. */
  gate: Promise<void> | null = null;

  createSession(session: SessionRecord, hash: string) {
    return this.inner.createSession(session, hash);
  }
  rotate(...args: Parameters<TokenStore['rotate']>) {
    return this.inner.rotate(...args);
  }
  async getSession(id: string) {
    this.reads++;
    const snapshot = await this.inner.getSession(id);
    if (this.gate) await this.gate;
    return snapshot;
  }
  async revokeSession(id: string, reason: string, now: number) {
    await this.inner.revokeSession(id, reason, now);
    this.announce({ kind: 'session', sessionId: id });
  }
  async revokeUserSessions(userId: string, reason: string, now: number, except?: string) {
    const count = await this.inner.revokeUserSessions(userId, reason, now, except);
    if (count > 0) this.announce({ kind: 'user', userId });
    return count;
  }
  prune(olderThan: number) {
    return this.inner.prune(olderThan);
  }
  listSessions(userId: string) {
    return this.inner.listSessions(userId);
  }
  touchSession(id: string, now: number, interval: number) {
    return this.inner.touchSession(id, now, interval);
  }
  deleteUserSessions(userId: string) {
    return this.inner.deleteUserSessions(userId);
  }
  watchRevocations(listener: RevocationListener): RevocationWatch {
    this.#listeners.add(listener);
    const store = this;
    return {
      get live() {
        return store.#live;
      },
      async close() {
        store.closedWatches++;
        store.#listeners.delete(listener);
      },
    };
  }
  announce(event: RevocationEvent) {
    for (const listener of this.#listeners) listener.onRevoked(event);
  }
  setLive(live: boolean) {
    if (live) this.announce({ kind: 'all' });
    this.#live = live;
    for (const listener of this.#listeners) listener.onLiveChange(live);
  }
  silently() {
    return this.inner;
  }
}

function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: 'sess-1',
    userId: 'user-1',
    createdAt: START,
    expiresAt: START + 86_400_000,
    lastUsedAt: START,
    revokedAt: null,
    revokedReason: null,
    ...overrides,
  };
}

async function drivenReader(ttlMs?: number) {
  const store = new DrivenStore();
  await store.createSession(session(), 'a'.repeat(64));
  const clock = manualClock();
  const logger = collectingLogger();
  const reader = new SessionStateReader({ store, clock, ttlMs, logger });
  return { store, clock, logger, reader };
}

/** Reads through the reader, awaiting only when it answers with a promise. */
async function read(reader: SessionStateReader, id = 'sess-1') {
  const state = reader.get(id);
  return state instanceof Promise ? await state : state;
}

describe('session state cache with a live revocation watch', () => {
  it('serves a hit synchronously, with no store read, in steady state', async () => {
    const { store, reader } = await drivenReader();
    await read(reader);
    store.reads = 0;
    for (let i = 0; i < 100; i++) {
      const state = reader.get('sess-1');
      expect(state).not.toBeInstanceOf(Promise);
      expect((state as SessionRecord).revokedAt).toBeNull();
    }
    expect(store.reads).toBe(0);
  });

  it('a session event drops the cached state at once: the next read sees the revocation', async () => {
    const { store, reader } = await drivenReader();
    await read(reader);
    await store.revokeSession('sess-1', 'logout', START + 1);
    expect((await read(reader))?.revokedReason).toBe('logout');
  });

  it("a user event drops every cached state of that user, and only that user's", async () => {
    const { store, reader } = await drivenReader();
    await store.createSession(session({ id: 'sess-2' }), 'b'.repeat(64));
    await store.createSession(session({ id: 'other', userId: 'user-2' }), 'c'.repeat(64));
    for (const id of ['sess-1', 'sess-2', 'other']) await read(reader, id);
    store.reads = 0;
    await store.revokeUserSessions('user-1', 'password_changed', START + 1);
    expect((await read(reader, 'sess-1'))?.revokedReason).toBe('password_changed');
    expect((await read(reader, 'sess-2'))?.revokedReason).toBe('password_changed');
    expect(store.reads).toBe(2);
    expect(reader.get('other')).not.toBeInstanceOf(Promise);
  });

  it('keeps a cached state for at most the default 30 s, then reads the store again', async () => {
    const { store, clock, reader } = await drivenReader();
    await read(reader);
    store.reads = 0;
    clock.advance(30_000);
    expect(reader.get('sess-1')).not.toBeInstanceOf(Promise);
    clock.advance(1);
    await read(reader);
    expect(store.reads).toBe(1);
  });

  it("judges a cached state by the caller's own reading of the clock: served at exactly TTL after caching, read again 1 ms later", async () => {
    const { store, reader } = await drivenReader();
    await read(reader);
    store.reads = 0;
    // The injected clock stays at START: only the now passed in says the TTL has run out.
    expect(reader.get('sess-1', START + 30_000)).not.toBeInstanceOf(Promise);
    expect(store.reads).toBe(0);
    const state = reader.get('sess-1', START + 30_001);
    expect(state).toBeInstanceOf(Promise);
    await state;
    expect(store.reads).toBe(1);
  });

  it('a lost notification is bounded by a configured revocationCacheTtl (5 s)', async () => {
    const { store, clock, reader } = await drivenReader(5_000);
    await read(reader);
    await store.silently().revokeSession('sess-1', 'logout', START + 1);
    clock.advance(5_001);
    expect((await read(reader))?.revokedReason).toBe('logout');
  });

  it('a read that started before a revocation event is not cached (no stale state from the race)', async () => {
    const { store, reader } = await drivenReader();
    let open!: () => void;
    store.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const pending = reader.get('sess-1');
    expect(pending).toBeInstanceOf(Promise);
    await Promise.resolve();
    // The read has its snapshot (active); the revocation commits and is announced meanwhile.
    await store.revokeSession('sess-1', 'logout', START + 1);
    open();
    expect((await pending)?.revokedAt).toBeNull();
    store.gate = null;
    expect((await read(reader))?.revokedReason).toBe('logout');
  });

  it('a reconnect drops every cached state', async () => {
    const { store, reader } = await drivenReader();
    await read(reader);
    // Revoked while the notification was lost; the store then reconnects.
    await store.silently().revokeSession('sess-1', 'logout', START + 1);
    store.setLive(false);
    store.setLive(true);
    expect((await read(reader))?.revokedReason).toBe('logout');
  });

  it('an "all" event alone drops every cached state', async () => {
    const { store, reader } = await drivenReader();
    await read(reader);
    await store.silently().revokeSession('sess-1', 'logout', START + 1);
    store.announce({ kind: 'all' });
    expect((await read(reader))?.revokedReason).toBe('logout');
  });
});

describe('session state cache while the revocation watch is down', () => {
  it('while the watch is down every verify reads the store (no stale state served)', async () => {
    const { store, reader } = await drivenReader();
    await read(reader);
    store.setLive(false);
    store.reads = 0;
    for (let i = 0; i < 5; i++) expect(reader.get('sess-1')).toBeInstanceOf(Promise);
    expect(store.reads).toBe(5);
    // A revocation whose notification nobody hears is honoured by the very next read.
    await store.silently().revokeSession('sess-1', 'logout', START + 1);
    expect((await read(reader))?.revokedReason).toBe('logout');
    expect(reader.caching).toBe(false);
  });

  it('a read that was in flight when the watch went down is not cached', async () => {
    const { store, reader } = await drivenReader();
    let open!: () => void;
    store.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const pending = reader.get('sess-1');
    store.setLive(false);
    store.setLive(true);
    open();
    await pending;
    store.gate = null;
    store.reads = 0;
    await read(reader);
    expect(store.reads).toBe(1);
  });

  it('logs one warning when the watch goes down and one info line when it is back', async () => {
    const { store, reader, logger } = await drivenReader();
    await read(reader);
    store.setLive(false);
    store.setLive(false);
    await read(reader);
    store.setLive(true);
    store.setLive(true);
    const lines = logger.lines.map((l) => `${l.level}: ${l.message}`);
    expect(lines).toEqual([
      'warn: revocation watch is down: reading session state from the token store on every request until it is back',
      'info: revocation watch is back: caching session state again',
    ]);
  });

  it('caches again once the watch is back', async () => {
    const { store, reader } = await drivenReader();
    store.setLive(false);
    await read(reader);
    store.setLive(true);
    await read(reader);
    store.reads = 0;
    expect(reader.get('sess-1')).not.toBeInstanceOf(Promise);
    expect(store.reads).toBe(0);
  });
});

describe('session state cache: defaults and lifecycle', () => {
  it('a store without a watch is read on every verify by default (TTL 0)', async () => {
    const inner = new MemoryTokenStore();
    await inner.createSession(session(), 'a'.repeat(64));
    let reads = 0;
    const store: TokenStore = {
      createSession: (s, h) => inner.createSession(s, h),
      rotate: (a, b, r) => inner.rotate(a, b, r),
      getSession: (id) => {
        reads++;
        return inner.getSession(id);
      },
      revokeSession: (id, r, n) => inner.revokeSession(id, r, n),
      revokeUserSessions: (u, r, n, e) => inner.revokeUserSessions(u, r, n, e),
      prune: (o) => inner.prune(o),
      listSessions: (u) => inner.listSessions(u),
      touchSession: (id, n, i) => inner.touchSession(id, n, i),
      deleteUserSessions: (u) => inner.deleteUserSessions(u),
    };
    const reader = new SessionStateReader({ store, clock: manualClock(), ttlMs: undefined });
    await read(reader);
    await read(reader);
    expect(reads).toBe(2);
    expect(reader.caching).toBe(false);
  });

  it('revocationCacheTtl 0 opens no watch and reads the store every time, even with a watch', async () => {
    const { store, reader } = await drivenReader(0);
    await read(reader);
    await read(reader);
    expect(store.reads).toBe(2);
    expect(reader.caching).toBe(false);
  });

  it('close() closes the watch and stops caching', async () => {
    const { store, reader } = await drivenReader();
    await read(reader);
    await reader.close();
    expect(store.closedWatches).toBe(1);
    store.reads = 0;
    await read(reader);
    expect(store.reads).toBe(1);
  });
});

describe('revocations across auth instances sharing a memory store', () => {
  async function twoInstances() {
    const tokens = new MemoryTokenStore();
    const users = new MemoryUserStore();
    const shared = {
      stores: { tokens, users },
      tokens: { keys: [{ kid: 'hs-1', alg: 'HS256' as const, key: HMAC_SECRET }] },
    };
    const one = makeAuth(shared);
    const two = makeAuth(shared);
    const user = await one.auth.register({
      email: 'ada@example.com',
      password: PASSWORD,
      name: 'Ada',
    });
    const login = await one.auth.login({ email: 'ada@example.com', password: PASSWORD });
    // Instance two has the session's state cached.
    await two.auth.verifyAccessToken(login.token);
    await two.auth.verifyAccessToken(login.token);
    return { one: one.auth, two: two.auth, user, login };
  }

  it('a session revoked through another auth instance sharing a memory store is refused at once', async () => {
    const { one, two, login } = await twoInstances();
    const { sessionId } = await one.verifyAccessToken(login.token);
    await one.logout(sessionId);
    expect((await refusal(two.verifyAccessToken(login.token))).code).toBe('TOKEN_INVALID');
  });

  it('logout-all, a password change, a role change and disabling the user on one instance are refused at once on the other', async () => {
    const actions: [string, (i: Awaited<ReturnType<typeof twoInstances>>) => Promise<unknown>][] = [
      ['logout-all', ({ one, user }) => one.logoutAll(user.id)],
      [
        'password change',
        async ({ one, user }) => {
          // Changed from another device, whose own session survives.
          const other = await one.login({ email: 'ada@example.com', password: PASSWORD });
          const { sessionId } = await one.verifyAccessToken(other.token);
          return one.changePassword(
            user.id,
            { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
            { sessionId },
          );
        },
      ],
      ['role change', ({ one, user }) => one.setRole(user.id, 'admin')],
      ['user disabled', ({ one, user }) => one.disableUser(user.id)],
      ['user deleted', ({ one, user }) => one.deleteUser(user.id)],
    ];
    for (const [name, act] of actions) {
      const instances = await twoInstances();
      await act(instances);
      const err = await refusal(instances.two.verifyAccessToken(instances.login.token));
      expect(err.code, name).toBe('TOKEN_INVALID');
    }
  });

  it('auth.close() closes the revocation watch it opened on the store', async () => {
    const tokens = new DrivenStore();
    const { auth } = makeAuth({ stores: { tokens } });
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    const login = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.verifyAccessToken(login.token);
    await auth.close();
    expect(tokens.closedWatches).toBe(1);
  });
});
