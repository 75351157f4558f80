import { type AuthOptions, createAuth, type Logger } from '../../src/index.js';
import { auditCollector, CountingHasher, ManualClock } from './fakes.js';

/** One line a {@link collectingLogger} received. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  data: Record<string, unknown> | undefined;
}

/** A logger keeping its lines in `lines`, so tests stay quiet on stderr and can read the log. */
export function collectingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string, data?: Record<string, unknown>) =>
    void lines.push({ level, message, data });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * A gatehouse instance for tests: manual clock, counting fake hasher, collected audit events,
 * and a collecting logger (`logs`) instead of the default one writing to stderr.
 * Every test file that needs createAuth goes through here, so shared test config lives in one place.
 */
export function makeAuth(options: AuthOptions = {}) {
  const clock = new ManualClock();
  const hasher = new CountingHasher();
  const audit = auditCollector();
  const logger = collectingLogger();
  const auth = createAuth({
    clock,
    passwordHasher: hasher,
    audit: audit.sink,
    auditEmailKey: 'test-audit-key-0123456789',
    logger,
    ...options,
  });
  return { auth, clock, hasher, events: audit.events, logs: logger.lines };
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
