import { describe, expect, it } from 'vitest';
import { deviceLabelOf, sessionDeviceOf } from '../../../src/account/sessions.js';
import {
  type AuthOptions,
  isAuthError,
  MemoryTokenStore,
  type SessionRecord,
  type TokenStore,
} from '../../../src/index.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A MemoryTokenStore recording every touchSession call (and able to fail them). */
class TouchRecordingStore extends MemoryTokenStore {
  touches: { sessionId: string; now: number; minIntervalMs: number }[] = [];
  failTouches = false;
  override async touchSession(sessionId: string, now: number, minIntervalMs: number) {
    this.touches.push({ sessionId, now, minIntervalMs });
    if (this.failTouches) throw new Error('database gone');
    return super.touchSession(sessionId, now, minIntervalMs);
  }
}

async function setup(options: AuthOptions = {}) {
  const made = makeAuth(options);
  const user = await registerUser(made.auth);
  const logIn = async (context = {}, deviceLabel?: string) => {
    const result = await made.auth.login(
      { email: 'ada@example.com', password: PASSWORD, deviceLabel },
      context,
    );
    const principal = await made.auth.verifyAccessToken(result.token);
    return { ...result, sessionId: principal.sessionId };
  };
  return { ...made, user, logIn };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isAuthError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('sessions per device', () => {
  it('records the IP, the user agent (cut to 512 characters) and the label of a login', async () => {
    const { auth, user, logIn, clock } = await setup();
    const agent = `Mozilla/5.0 ${'x'.repeat(600)}`;
    const { sessionId } = await logIn({ ip: '203.0.113.7', userAgent: agent }, '  Work laptop ');
    const [listed] = await auth.listSessions(user.id, { currentSessionId: sessionId });
    expect(listed).toEqual({
      id: sessionId,
      createdAt: new Date(clock.now()).toISOString(),
      lastUsedAt: new Date(clock.now()).toISOString(),
      expiresAt: new Date(clock.now() + 90 * DAY).toISOString(),
      ip: '203.0.113.7',
      userAgent: agent.slice(0, 512),
      label: 'Work laptop',
      current: true,
    });
  });

  it('records null for an unknown IP (the adapters give "unknown"), no user agent and no label', async () => {
    const { auth, user, logIn } = await setup();
    await logIn({ ip: 'unknown' });
    const [listed] = await auth.listSessions(user.id);
    expect(listed).toMatchObject({ ip: null, userAgent: null, label: null, current: false });
  });

  it('lists the active sessions newest first, leaving out revoked, expired and idle ones', async () => {
    const { auth, user, logIn, clock } = await setup({
      tokens: { refreshIdleTtl: '7d', refreshAbsoluteTtl: '30d' },
    });
    const idle = await logIn({}, 'Idle');
    clock.advance(DAY);
    const revoked = await logIn({}, 'Revoked');
    clock.advance(DAY);
    const older = await logIn({}, 'Older');
    clock.advance(DAY);
    const newest = await logIn({}, 'Newest');
    await auth.logout(revoked.sessionId);
    // 7 days + 1 ms after the idle one's login: it has ended by the idle rule.
    clock.advance(4 * DAY + 1);
    await auth.refresh(older.refreshToken);
    await auth.refresh(newest.refreshToken);
    const listed = await auth.listSessions(user.id, { currentSessionId: newest.sessionId });
    expect(listed.map((s) => [s.label, s.current])).toEqual([
      ['Newest', true],
      ['Older', false],
    ]);
    expect(idle.sessionId).not.toBe(listed[1]!.id);
    // Past the absolute lifetime, nothing is listed.
    clock.advance(30 * DAY);
    expect(await auth.listSessions(user.id)).toEqual([]);
  });

  it("attack: revokeSession of another user's session is NOT_FOUND, the same as an unknown id, and ends nothing", async () => {
    const { auth, logIn, events } = await setup();
    const victim = await logIn();
    const mallory = await registerUser(auth, 'mallory@example.com');
    const theirs = await codeOf(auth.revokeSession(mallory.id, victim.sessionId));
    const unknown = await codeOf(auth.revokeSession(mallory.id, 'no-such-session'));
    const empty = await codeOf(auth.revokeSession(mallory.id, ''));
    expect([theirs, unknown, empty]).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    await expect(auth.verifyAccessToken(victim.token)).resolves.toBeDefined();
    expect(events.some((e) => e.event === 'SESSION_REVOKED')).toBe(false);
  });

  it('revokeSession ends one own session at once (refresh and access token refused) and emits SESSION_REVOKED', async () => {
    const { auth, user, logIn, events } = await setup();
    const phone = await logIn({ ip: '198.51.100.1' });
    const laptop = await logIn();
    await auth.revokeSession(user.id, phone.sessionId, { ip: '203.0.113.7' });
    expect(await codeOf(auth.verifyAccessToken(phone.token))).toBe('TOKEN_INVALID');
    expect(await codeOf(auth.refresh(phone.refreshToken))).toBe('TOKEN_INVALID');
    await expect(auth.verifyAccessToken(laptop.token)).resolves.toBeDefined();
    const event = events.find((e) => e.event === 'SESSION_REVOKED');
    expect(event).toMatchObject({
      status: 'success',
      userId: user.id,
      ip: '203.0.113.7',
      metadata: { sessionId: phone.sessionId },
    });
    // Already ended: not one of the user's sessions any more.
    expect(await codeOf(auth.revokeSession(user.id, phone.sessionId))).toBe('NOT_FOUND');
  });

  it('revokeSession refuses a cached access token at once (the verified-token cache does not outlive the revocation)', async () => {
    const { auth, user, logIn } = await setup();
    const phone = await logIn();
    // Warm: the token and its session state are cached.
    await auth.verifyAccessToken(phone.token);
    await auth.verifyAccessToken(phone.token);
    await auth.revokeSession(user.id, phone.sessionId);
    expect(await codeOf(auth.verifyAccessToken(phone.token))).toBe('TOKEN_INVALID');
  });

  it('revokeOtherSessions ends every other session of the user, keeps the current one, and emits SESSIONS_REVOKED with reason revoke_others', async () => {
    const { auth, user, logIn, events } = await setup();
    const a = await logIn();
    const b = await logIn();
    const current = await logIn();
    const other = await registerUser(auth, 'grace@example.com');
    const theirs = await auth.login({ email: 'grace@example.com', password: PASSWORD });
    expect(await auth.revokeOtherSessions(user.id, current.sessionId)).toBe(2);
    for (const ended of [a, b]) {
      expect(await codeOf(auth.verifyAccessToken(ended.token))).toBe('TOKEN_INVALID');
    }
    await expect(auth.verifyAccessToken(current.token)).resolves.toBeDefined();
    await expect(auth.verifyAccessToken(theirs.token)).resolves.toMatchObject({
      userId: other.id,
    });
    expect(events.filter((e) => e.event === 'SESSIONS_REVOKED')).toEqual([
      expect.objectContaining({
        userId: user.id,
        metadata: { reason: 'revoke_others', count: 2, exceptSessionId: current.sessionId },
      }),
    ]);
    expect(await auth.revokeOtherSessions(user.id, current.sessionId)).toBe(0);
  });

  it('revokeOtherSessions without a current session id is VALIDATION_ERROR (it would end them all)', async () => {
    const { auth, user, logIn } = await setup();
    const session = await logIn();
    expect(await codeOf(auth.revokeOtherSessions(user.id, undefined as never))).toBe(
      'VALIDATION_ERROR',
    );
    expect(await codeOf(auth.revokeOtherSessions(user.id, ''))).toBe('VALIDATION_ERROR');
    await expect(auth.verifyAccessToken(session.token)).resolves.toBeDefined();
  });
});

describe('device labels', () => {
  it.each([
    ['a right-to-left override (filename spoofing)', 'invoice\u202Egnp.exe'],
    ['a zero-width joiner', 'a\u200Db'],
    ['a newline (log and UI injection)', 'line\nbreak'],
    ['a NUL byte', 'nul\u0000'],
    ['a lone surrogate', 'half\uD800'],
    ['only spaces', '   '],
    ['101 characters', 'é'.repeat(101)],
    ['a number', 42],
  ])('attack: refuses a label with %s (VALIDATION_ERROR on deviceLabel)', (_, label) => {
    try {
      deviceLabelOf(label);
      expect.unreachable();
    } catch (err) {
      expect(isAuthError(err) && err.code).toBe('VALIDATION_ERROR');
      expect(isAuthError(err) && err.details?.['field']).toBe('deviceLabel');
    }
  });

  it('accepts 100 characters of any script, emoji included, trimmed and NFC-normalised', () => {
    expect(deviceLabelOf('Téléphone de Zoë 📱')).toBe('Téléphone de Zoë 📱');
    expect(deviceLabelOf('e\u0301')).toBe('\u00e9');
    expect(deviceLabelOf('😀'.repeat(100))).toBe('😀'.repeat(100));
    expect(deviceLabelOf(undefined)).toBeNull();
  });

  it('a refused label fails the login before the password is checked: no session, no attempt counted', async () => {
    const { auth, user, hasher, events } = await setup();
    const before = hasher.verifyCalls;
    const refused = auth.login({
      email: 'ada@example.com',
      password: 'wrong password entirely',
      deviceLabel: 'x\u0007',
    });
    expect(await codeOf(refused)).toBe('VALIDATION_ERROR');
    expect(hasher.verifyCalls).toBe(before);
    expect(events.some((e) => e.event === 'LOGIN_FAILED')).toBe(false);
    expect(await auth.listSessions(user.id)).toEqual([]);
  });

  it('sessionDeviceOf keeps a real IP and drops "unknown"', () => {
    expect(sessionDeviceOf({ ip: '2001:db8::1' }, null)).toEqual({
      ip: '2001:db8::1',
      userAgent: null,
      label: null,
    });
    expect(sessionDeviceOf({ ip: 'unknown', userAgent: '' }, 'L').ip).toBeNull();
  });
});

describe('last use (touchSession)', () => {
  async function touching() {
    const store = new TouchRecordingStore();
    const made = await setup({ stores: { tokens: store } });
    const session = await made.logIn();
    return { ...made, store, session };
  }

  it('a verify writes the last use at most once a minute per session, not per request', async () => {
    const { auth, store, session, clock, user } = await touching();
    for (let i = 0; i < 50; i++) await auth.verifyAccessToken(session.token);
    expect(store.touches).toEqual([]);
    clock.advance(MINUTE);
    for (let i = 0; i < 50; i++) await auth.verifyAccessToken(session.token);
    expect(store.touches).toEqual([
      { sessionId: session.sessionId, now: clock.now(), minIntervalMs: MINUTE },
    ]);
    clock.advance(MINUTE - 1);
    await auth.verifyAccessToken(session.token);
    expect(store.touches).toHaveLength(1);
    clock.advance(1);
    await auth.verifyAccessToken(session.token);
    expect(store.touches).toHaveLength(2);
    const [listed] = await auth.listSessions(user.id);
    expect(listed!.lastUsedAt).toBe(new Date(clock.now()).toISOString());
  });

  it('an authenticated request keeps a session alive: the idle rule counts any use, not only refreshes', async () => {
    const options = { tokens: { refreshIdleTtl: '1h', accessTtl: '1h' } } as const;
    const used = await setup(options);
    const session = await used.logIn();
    used.clock.advance(50 * MINUTE);
    await used.auth.verifyAccessToken(session.token);
    // 90 minutes after the last refresh, 40 after the last use: alive.
    used.clock.advance(40 * MINUTE);
    await expect(used.auth.refresh(session.refreshToken)).resolves.toBeDefined();

    // The same timeline without the request: idle past 1 h, ended.
    const unused = await setup(options);
    const other = await unused.logIn();
    unused.clock.advance(90 * MINUTE);
    expect(await codeOf(unused.auth.refresh(other.refreshToken))).toBe('TOKEN_EXPIRED');
  });

  it('a failing touch never fails the request, and is logged once per outage', async () => {
    const { auth, store, session, clock, logs } = await touching();
    store.failTouches = true;
    for (let i = 0; i < 3; i++) {
      clock.advance(MINUTE);
      await expect(auth.verifyAccessToken(session.token)).resolves.toBeDefined();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.touches).toHaveLength(3);
    expect(logs.filter((l) => l.message.includes('could not record a session use'))).toHaveLength(
      1,
    );
    store.failTouches = false;
    clock.advance(MINUTE);
    await auth.verifyAccessToken(session.token);
    await new Promise((resolve) => setImmediate(resolve));
    store.failTouches = true;
    clock.advance(MINUTE);
    await auth.verifyAccessToken(session.token);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.filter((l) => l.message.includes('could not record a session use'))).toHaveLength(
      2,
    );
  });

  it('a store whose touchSession throws synchronously does not fail the verify either', async () => {
    class SyncThrowing extends MemoryTokenStore {
      override touchSession(): Promise<void> {
        throw new Error('sync bug');
      }
    }
    const store: TokenStore = new SyncThrowing();
    const made = await setup({ stores: { tokens: store } });
    const session = await made.logIn();
    made.clock.advance(MINUTE);
    await expect(made.auth.verifyAccessToken(session.token)).resolves.toBeDefined();
  });
});

describe('stores written before the device fields', () => {
  it('a session without ip, userAgent and label lists them as null', async () => {
    const store = new MemoryTokenStore();
    const made = await setup({ stores: { tokens: store } });
    const legacy: SessionRecord = {
      id: 'legacy-session',
      userId: made.user.id,
      createdAt: made.clock.now(),
      expiresAt: made.clock.now() + DAY,
      lastUsedAt: made.clock.now(),
      revokedAt: null,
      revokedReason: null,
    };
    await store.createSession(legacy, 'a'.repeat(64));
    expect(await made.auth.listSessions(made.user.id)).toEqual([
      expect.objectContaining({ id: 'legacy-session', ip: null, userAgent: null, label: null }),
    ]);
  });
});
