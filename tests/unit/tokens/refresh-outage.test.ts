// Issue 14, found by the reliability suite ("no refresh family revoked by the outage"): a
// refresh that rotated the token and then failed on the user read answered 503 with the
// rotation standing, so the client's retry with the same token (what a 503 asks for) was
// taken for reuse and the family revoked: an outage logged the user out. The rule pinned here:
// the rotation is the last database step of a refresh; every read comes before it.
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  type AuthOptions,
  MemoryTokenStore,
  MemoryUserStore,
  type RotationResult,
  type RotationRule,
  type SessionRecord,
  type TokenStore,
  type UserRecord,
} from '../../../src/index.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';
import { reasonOf, refusal } from './fixtures.js';

/** The error a Postgres store throws when the server went away (toServerError of ECONNRESET). */
function databaseGone(): AuthError {
  return new AuthError('SERVER_ERROR', undefined, {
    status: 503,
    cause: Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' }),
  });
}

/** A user store whose next `findById` fails as a database outage would, once armed. */
class OutageUserStore extends MemoryUserStore {
  failNextRead = false;
  override async findById(id: string): Promise<UserRecord | null> {
    if (this.failNextRead) {
      this.failNextRead = false;
      throw databaseGone();
    }
    return super.findById(id);
  }
}

/** Every TokenStore call, in order, on top of a memory store. */
class RecordingTokenStore extends MemoryTokenStore {
  readonly calls: string[] = [];
  override async rotate(a: string, b: string, rule: RotationRule): Promise<RotationResult> {
    this.calls.push('rotate');
    return super.rotate(a, b, rule);
  }
  override async findSessionByTokenHash(hash: string): Promise<SessionRecord | null> {
    this.calls.push('findSessionByTokenHash');
    return super.findSessionByTokenHash(hash);
  }
}

/** A custom store without the optional lookup (what a store written before it looks like). */
function withoutLookup(inner: TokenStore): TokenStore {
  return {
    createSession: (session, hash) => inner.createSession(session, hash),
    rotate: (oldHash, newHash, rule) => inner.rotate(oldHash, newHash, rule),
    getSession: (id) => inner.getSession(id),
    revokeSession: (id, reason, now) => inner.revokeSession(id, reason, now),
    revokeUserSessions: (userId, reason, now, except) =>
      inner.revokeUserSessions(userId, reason, now, except),
    prune: (olderThan) => inner.prune(olderThan),
    listSessions: (userId) => inner.listSessions(userId),
    touchSession: (id, now, interval) => inner.touchSession(id, now, interval),
    deleteUserSessions: (userId) => inner.deleteUserSessions(userId),
  };
}

async function signedIn(stores: NonNullable<AuthOptions['stores']>) {
  const setup = makeAuth({ stores });
  await registerUser(setup.auth);
  const login = await setup.auth.login({ email: 'ada@example.com', password: PASSWORD });
  return { ...setup, login };
}

describe('refresh during a database outage', () => {
  it('a database outage between the rotation and the user read cannot revoke the session: the retry with the same refresh token succeeds', async () => {
    const users = new OutageUserStore();
    const { auth, events, logs, login } = await signedIn({ users, tokens: new MemoryTokenStore() });

    users.failNextRead = true;
    const outage = await refusal(auth.refresh(login.refreshToken));
    expect(outage).toMatchObject({ code: 'SERVER_ERROR', status: 503 });

    // The client retries with the token it holds, as a 503 asks it to.
    const retried = await auth.refresh(login.refreshToken);
    expect(retried.refreshToken).not.toBe(login.refreshToken);
    const principal = await auth.verifyAccessToken(retried.token);
    expect(principal.email).toBe('ada@example.com');
    // The chain goes on, and nothing took the retry for reuse.
    await expect(auth.refresh(retried.refreshToken)).resolves.toHaveProperty('token');
    expect(events.map((e) => e.event)).not.toContain('TOKEN_REUSE_DETECTED');
    expect(logs.map((line) => line.message)).not.toContain(
      'refresh token reuse detected; session revoked',
    );
  });

  it('refresh reads the session and its user before it rotates: the rotation is the last store call', async () => {
    const tokens = new RecordingTokenStore();
    const users = new OutageUserStore();
    const readUser = users.findById.bind(users);
    users.findById = async (id) => {
      tokens.calls.push('findById');
      return readUser(id);
    };
    const { auth, login } = await signedIn({ users, tokens });
    tokens.calls.length = 0;
    await auth.refresh(login.refreshToken);
    expect(tokens.calls).toEqual(['findSessionByTokenHash', 'findById', 'rotate']);
  });

  it('an unknown refresh token gets the same refusal with the lookup as without it, and touches nothing', async () => {
    const recording = new RecordingTokenStore();
    const refusals = [];
    for (const tokens of [recording, withoutLookup(new MemoryTokenStore())]) {
      const { auth } = await signedIn({ tokens });
      recording.calls.length = 0;
      const err = await refusal(auth.refresh('A'.repeat(43)));
      refusals.push({ json: (err as AuthError).toJSON(), reason: reasonOf(err), err });
      if (tokens === recording) expect(recording.calls).toEqual(['findSessionByTokenHash']);
    }
    const [withIt, withoutIt] = refusals;
    expect(withIt!.err).toBeInstanceOf(AuthError);
    expect(withIt!.json).toEqual(withoutIt!.json);
    expect((withIt!.err as AuthError).status).toBe((withoutIt!.err as AuthError).status);
    expect(withIt!.reason).toBe('refresh_unknown');
    expect(withoutIt!.reason).toBe('refresh_unknown');
  });

  it('a token store without findSessionByTokenHash still refreshes, rotating before the user read (the documented caveat: there the outage retry is reuse)', async () => {
    const users = new OutageUserStore();
    const { auth, login, events } = await signedIn({
      users,
      tokens: withoutLookup(new MemoryTokenStore()),
    });
    const second = await auth.refresh(login.refreshToken);

    users.failNextRead = true;
    expect(await refusal(auth.refresh(second.refreshToken))).toMatchObject({ status: 503 });
    const retry = await refusal(auth.refresh(second.refreshToken));
    expect(retry).toMatchObject({ code: 'TOKEN_INVALID' });
    expect(reasonOf(retry)).toBe('refresh_reused');
    expect(events.map((e) => e.event)).toContain('TOKEN_REUSE_DETECTED');
  });
});
