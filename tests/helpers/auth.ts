import { type AuthOptions, createAuth } from '../../src/index.js';
import { auditCollector, CountingHasher, ManualClock } from './fakes.js';

/**
 * A gatehouse instance for tests: manual clock, counting fake hasher, collected audit events.
 * Every test file that needs createAuth goes through here, so shared test config lives in one place.
 */
export function makeAuth(options: AuthOptions = {}) {
  const clock = new ManualClock();
  const hasher = new CountingHasher();
  const audit = auditCollector();
  const auth = createAuth({
    clock,
    passwordHasher: hasher,
    audit: audit.sink,
    auditEmailKey: 'test-audit-key-0123456789',
    ...options,
  });
  return { auth, clock, hasher, events: audit.events };
}

export const PASSWORD = 'correct horse battery';

/** Registers a user and returns it. */
export async function registerUser(
  auth: ReturnType<typeof createAuth>,
  email = 'ada@example.com',
  password = PASSWORD,
) {
  return auth.register({ email, password, name: 'Ada Lovelace' });
}
