import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type AttemptReservation,
  type AttemptStore,
  type AuthOptions,
  createAuth,
  type LockoutRule,
  MemoryAttemptStore,
  MemoryUserStore,
} from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { auditCollector, CountingHasher, ManualClock } from '../../helpers/fakes.js';

const PASSWORD = 'correct horse battery';
const KEY = 'identifier-key-for-tests-0123456789';
const TYPED = ['ada@example.com', '<script>@@'];

/** The reference memory store, remembering every key it was given. */
class KeyRecordingStore extends MemoryAttemptStore {
  readonly keys = new Set<string>();
  override reserve(key: string, rule: LockoutRule): Promise<AttemptReservation> {
    this.keys.add(key);
    return super.reserve(key, rule);
  }
  override recordFailure(key: string, rule: LockoutRule): Promise<number | null> {
    this.keys.add(key);
    return super.recordFailure(key, rule);
  }
  override reset(key: string): Promise<void> {
    this.keys.add(key);
    return super.reset(key);
  }
}

/** An attempt store that is not a MemoryAttemptStore (as a database store is not). */
function sharedStore(): AttemptStore {
  const inner = new MemoryAttemptStore();
  return {
    reserve: (key, rule) => inner.reserve(key, rule),
    recordFailure: (key, rule) => inner.recordFailure(key, rule),
    reset: (key) => inner.reset(key),
    inspect: (key, now) => inner.inspect(key, now),
  };
}

function instance(options: AuthOptions = {}) {
  return createAuth({ clock: new ManualClock(), passwordHasher: new CountingHasher(), ...options });
}

async function failLogin(auth: ReturnType<typeof instance>, email: string, password = 'wrong!') {
  return auth.login({ email, password }).then(
    () => {
      throw new Error('login unexpectedly succeeded');
    },
    (err: { code: string }) => err.code,
  );
}

function configError(options: AuthOptions): string {
  try {
    createAuth(options);
  } catch (err) {
    expect(err).toMatchObject({ code: 'INVALID_CONFIG' });
    return (err as Error).message;
  }
  throw new Error('createAuth accepted invalid options');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('lockout counter keys', () => {
  it('lockout store never holds the typed identifier (a well-formed email and a malformed one)', async () => {
    const attempts = new KeyRecordingStore();
    const auth = instance({ identifierKey: KEY, stores: { attempts } });
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    for (const typed of [...TYPED, ' ADA@Example.com ']) {
      expect(await failLogin(auth, typed)).toBe('INVALID_CREDENTIALS');
    }
    await auth.login({ email: 'ada@example.com', password: PASSWORD });

    expect(attempts.keys.size).toBe(2);
    for (const key of attempts.keys) {
      expect(key).toMatch(/^login:[A-Za-z0-9_-]{43}$/);
      for (const typed of [...TYPED, 'ada', 'example.com', 'script']) {
        expect(key.toLowerCase()).not.toContain(typed);
      }
    }
  });

  it('counts a malformed identifier too, under its keyed hash (lockout of garbage input)', async () => {
    const attempts = new KeyRecordingStore();
    const auth = instance({ identifierKey: KEY, stores: { attempts } });
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push(await failLogin(auth, '<script>@@'));
    expect(codes.slice(5)).toEqual(['ACCOUNT_LOCKED']);
    expect([...attempts.keys]).toEqual([expect.stringMatching(/^login:[A-Za-z0-9_-]{43}$/)]);
  });

  it('two instances with the same identifierKey share a lockout through one store, and only through the same key', async () => {
    const attempts = new KeyRecordingStore();
    const users = new MemoryUserStore();
    const a = instance({ identifierKey: KEY, stores: { attempts, users } });
    const b = instance({ identifierKey: KEY, stores: { attempts, users } });
    const other = instance({ identifierKey: `${KEY}-other`, stores: { attempts, users } });
    await a.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    for (let i = 0; i < 5; i++) await failLogin(i % 2 ? a : b, 'ada@example.com');
    expect(await failLogin(b, 'ada@example.com', PASSWORD)).toBe('ACCOUNT_LOCKED');
    expect(await failLogin(a, 'ada@example.com', PASSWORD)).toBe('ACCOUNT_LOCKED');
    // Another key hashes the identifier elsewhere: its counters are not these.
    await expect(
      other.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toBeTruthy();
    expect(attempts.keys.size).toBe(2);
  });

  it('keys the audit emailHash with identifierKey, and auditEmailKey is its alias', () => {
    const sinks = [auditCollector(), auditCollector()];
    const byNew = instance({ identifierKey: KEY, audit: sinks[0]!.sink });
    const byAlias = instance({ auditEmailKey: KEY, audit: sinks[1]!.sink });
    const random = instance({});
    const hash = (auth: ReturnType<typeof instance>) =>
      internalsOf(auth).audit.hashEmail('ada@example.com');
    expect(hash(byNew)).toBe(hash(byAlias));
    expect(hash(random)).not.toBe(hash(byNew));
  });

  it('refuses identifierKey and auditEmailKey given with different values, and accepts the same value twice', () => {
    expect(configError({ identifierKey: KEY, auditEmailKey: `${KEY}-2` })).toMatch(
      /auditEmailKey: is a deprecated alias of identifierKey and differs from it/,
    );
    expect(() =>
      createAuth({ identifierKey: KEY, auditEmailKey: new TextEncoder().encode(KEY) }),
    ).not.toThrow();
  });

  it('refuses a short identifierKey, naming the option', () => {
    expect(configError({ identifierKey: 'short' })).toMatch(/identifierKey: must be at least 16/);
    expect(configError({ identifierKey: new Uint8Array(8) })).toMatch(
      /identifierKey: must be at least 16 bytes/,
    );
  });

  it('refuses in production a shared attempt store without identifierKey (split lockout across instances)', () => {
    vi.stubEnv('NODE_ENV', 'production');
    const tokens = { keys: [{ kid: 'k1', alg: 'HS256' as const, key: 'x'.repeat(32) }] };
    const message = configError({ stores: { attempts: sharedStore() }, tokens });
    expect(message).toMatch(/identifierKey is required when NODE_ENV=production/);
    expect(message).toMatch(/every instance must use the same identifierKey/);
    expect(() =>
      createAuth({ stores: { attempts: sharedStore() }, identifierKey: KEY, tokens }),
    ).not.toThrow();
    expect(() =>
      createAuth({ stores: { attempts: new MemoryAttemptStore() }, tokens }),
    ).not.toThrow();
    expect(() => createAuth({ tokens })).not.toThrow();
  });

  it('warns outside production when a shared attempt store gets a random per-instance key', () => {
    vi.stubEnv('NODE_ENV', 'development');
    const warnings: string[] = [];
    const warn = (m: string) => void (/identifierKey/.test(m) && warnings.push(m));
    const logger = { debug() {}, info() {}, warn, error() {} };
    createAuth({ stores: { attempts: sharedStore() }, logger });
    expect(warnings).toEqual([expect.stringMatching(/no identifierKey/)]);
    warnings.length = 0;
    createAuth({ stores: { attempts: sharedStore() }, identifierKey: KEY, logger });
    createAuth({ logger });
    expect(warnings).toEqual([]);
  });
});
