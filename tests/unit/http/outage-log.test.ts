// A database outage must not flood the log: before this, every 503 logged a full stack
// (11 600 lines for a 10 s outage). Now the first failure is logged with its cause, then at most
// one summary line per interval with a count, and one line when it is over. 500s (bugs) are
// still logged one by one with their stack.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuthHttp, createRequestFailureLog, errorResponse } from '../../../src/http/index.js';
import { AuthError, createAuth, type Logger, type UserStore } from '../../../src/index.js';
import { MemoryUserStore } from '../../../src/stores/memory-user-store.js';
import { CountingHasher, ManualClock } from '../../helpers/fakes.js';

const KEYS = {
  keys: [{ kid: 'k1', alg: 'HS256' as const, key: 'a-test-secret-of-more-than-32-bytes-long!' }],
};
const GENERIC = "We're experiencing technical difficulties. Please try again in a few moments.";

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  data: Record<string, unknown>;
}

function recordingLogger() {
  const lines: Line[] = [];
  const at =
    (level: Line['level']) =>
    (message: string, data: Record<string, unknown> = {}) =>
      void lines.push({ level, message, data });
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { logger, lines };
}

/** Timers the test runs by hand, on the same manual clock as the code under test. */
class ManualTimers {
  #tasks: { at: number; run: () => void; cancelled: boolean }[] = [];
  constructor(private readonly clock: ManualClock) {}
  readonly schedule = (run: () => void, delayMs: number) => {
    const task = { at: this.clock.now() + delayMs, run, cancelled: false };
    this.#tasks.push(task);
    return () => {
      task.cancelled = true;
    };
  };
  /** Moves the clock forward by `ms`, running each task when its time comes. */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (;;) {
      const next = this.#tasks
        .filter((t) => !t.cancelled && t.at <= end)
        .sort((a, b) => a.at - b.at)[0];
      if (next === undefined) break;
      this.#tasks.splice(this.#tasks.indexOf(next), 1);
      this.clock.time = Math.max(this.clock.time, next.at);
      next.run();
    }
    this.clock.time = end;
  }
  get pending(): number {
    return this.#tasks.filter((t) => !t.cancelled).length;
  }
}

/** What a Postgres store throws when the server refuses connections (see toServerError). */
function unavailable(): AuthError {
  const driverError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
    code: 'ECONNREFUSED',
  });
  return new AuthError('SERVER_ERROR', undefined, { status: 503, cause: driverError });
}

function setup(intervalMs = 10_000) {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const { logger, lines } = recordingLogger();
  const failures = createRequestFailureLog({
    logger,
    intervalMs,
    clock,
    schedule: timers.schedule,
  });
  return { clock, timers, logger, lines, failures };
}

describe('log storm: 503s through errorResponse', () => {
  it('log storm: a 10 s outage of 11 600 failed requests writes at most 3 lines (the first with its cause, one summary, one end)', () => {
    const { timers, lines, failures } = setup();
    const requests = 11_600;
    for (let i = 0; i < requests; i++) {
      const response = errorResponse(unavailable(), failures);
      expect(response.status).toBe(503);
      expect(JSON.parse(response.body)).toEqual({
        success: false,
        error: GENERIC,
        code: 'SERVER_ERROR',
      });
      timers.advance(10_000 / requests);
    }
    timers.advance(20_000); // the outage is over: nothing fails any more
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['error', 'requests failing: service unavailable (503)'],
      ['warn', 'requests still failing: service unavailable (503)'],
      ['info', 'requests no longer failing with 503'],
    ]);
    const [first, summary, end] = lines as [Line, Line, Line];
    // The first line has the cause (message and code of the driver error), and no stack.
    expect(first.data).toEqual({
      error: `AuthError: ${GENERIC}`,
      code: 'SERVER_ERROR',
      cause: { error: 'Error: connect ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' },
    });
    expect(JSON.stringify(lines)).not.toMatch(/stack|\n\s+at /);
    expect(summary.data['suppressed']).toBe(requests - 1);
    expect(end.data).toMatchObject({ failures: requests });
    expect(timers.pending).toBe(0);
  });

  it('N failures within each interval write the first line, then one summary counting N-1, then one per interval counting N', () => {
    const { timers, lines, failures } = setup(1_000);
    const perInterval = 50;
    for (let interval = 0; interval < 3; interval++) {
      for (let i = 0; i < perInterval; i++) {
        failures.failed(unavailable(), 503);
        timers.advance(1_000 / perInterval);
      }
    }
    timers.advance(5_000);
    expect(lines.map((l) => l.message)).toEqual([
      'requests failing: service unavailable (503)',
      'requests still failing: service unavailable (503)',
      'requests still failing: service unavailable (503)',
      'requests still failing: service unavailable (503)',
      'requests no longer failing with 503',
    ]);
    expect(lines.slice(1, 4).map((l) => l.data['suppressed'])).toEqual([
      perInterval - 1,
      perInterval,
      perInterval,
    ]);
    expect(lines[4]!.data).toMatchObject({ failures: 3 * perInterval });
  });

  it('a burst of 503s with no time passing writes a single line until the interval ends', () => {
    const { timers, lines, failures } = setup();
    for (let i = 0; i < 1_000; i++) failures.failed(unavailable(), 503);
    expect(lines).toHaveLength(1);
    timers.advance(10_000);
    expect(lines.map((l) => [l.message, l.data['suppressed']])).toEqual([
      ['requests failing: service unavailable (503)', undefined],
      ['requests still failing: service unavailable (503)', 999],
    ]);
  });

  it('a new outage after a quiet interval is logged again with its own first line', () => {
    const { timers, lines, failures } = setup();
    failures.failed(unavailable(), 503);
    timers.advance(30_000);
    failures.failed(unavailable(), 503);
    expect(lines.map((l) => l.message)).toEqual([
      'requests failing: service unavailable (503)',
      'requests no longer failing with 503',
      'requests failing: service unavailable (503)',
    ]);
  });

  it('500s are not throttled: 100 unexpected exceptions during an outage of 503s write 100 lines with a stack each', () => {
    const { lines, failures } = setup();
    for (let i = 0; i < 100; i++) {
      errorResponse(unavailable(), failures);
      const response = errorResponse(new TypeError(`bug number ${i}`), failures);
      expect(response.status).toBe(500);
      expect(response.body).not.toContain('bug number');
    }
    const bugs = lines.filter((l) => l.message === 'request failed');
    expect(bugs).toHaveLength(100);
    for (const [i, line] of bugs.entries()) {
      expect(line.level).toBe('error');
      expect(line.data['error']).toBe(`TypeError: bug number ${i}`);
      expect(String(line.data['stack'])).toContain('outage-log.test.ts');
    }
    expect(lines.filter((l) => l.message.includes('503'))).toHaveLength(1);
  });

  it('a 500 SERVER_ERROR from a store is logged with the message and code of its cause', () => {
    const { lines, failures } = setup();
    const cause = Object.assign(new Error('relation "orders" does not exist'), { code: '42P01' });
    errorResponse(new AuthError('SERVER_ERROR', undefined, { cause }), failures);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.data).toMatchObject({
      code: 'SERVER_ERROR',
      cause: { error: 'Error: relation "orders" does not exist', code: '42P01' },
    });
    expect(lines[0]!.data['stack']).toBeDefined();
  });

  it('a connection refused on every address (an AggregateError with an empty message) is logged with the message and code of the first', () => {
    const { lines, failures } = setup();
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const aggregate = Object.assign(
      new AggregateError([refused('::1:5432'), refused('127.0.0.1:5432')]),
      {
        code: 'ECONNREFUSED',
      },
    );
    errorResponse(
      new AuthError('SERVER_ERROR', undefined, { status: 503, cause: aggregate }),
      failures,
    );
    expect(lines[0]!.data['cause']).toEqual({
      error: 'AggregateError: connect ECONNREFUSED ::1:5432',
      code: 'ECONNREFUSED',
    });
  });

  it('a logger that throws while an outage is logged does not make errorResponse throw', () => {
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    const broken: Logger = {
      debug() {},
      info() {},
      warn() {
        throw new Error('log disk full');
      },
      error() {
        throw new Error('log disk full');
      },
    };
    const failures = createRequestFailureLog({ logger: broken, clock, schedule: timers.schedule });
    for (let i = 0; i < 3; i++) expect(errorResponse(unavailable(), failures).status).toBe(503);
    timers.advance(30_000);
  });

  it('errorResponse(err, logger) shares one throttle per logger, so two gatehouse instances on one logger do not each log the outage', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { logger, lines } = recordingLogger();
    const first = createAuthHttp(createAuth({ logger, tokens: KEYS }));
    const second = createAuthHttp(createAuth({ logger, tokens: KEYS }));
    for (let i = 0; i < 200; i++) {
      expect(errorResponse(unavailable(), logger).status).toBe(503);
      expect(first.errorResponse(unavailable()).status).toBe(503);
      expect(second.errorResponse(unavailable()).status).toBe(503);
    }
    expect(lines).toHaveLength(1);
  });

  afterEach(() => {
    vi.clearAllTimers();
    vi.useRealTimers();
  });
});

describe('log storm: a user store of its own that throws SERVER_ERROR 503', () => {
  afterEach(() => {
    vi.clearAllTimers();
    vi.useRealTimers();
  });

  it('log storm: 2 000 logins and registrations against a store that answers 503 write one line per interval, not 2 000 stacks', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const down = (): never => {
      throw new AuthError('SERVER_ERROR', 'users service: connect ETIMEDOUT 10.1.2.3:443', {
        status: 503,
      });
    };
    class DownUserStore extends MemoryUserStore {
      override findByEmail = async () => down();
      override findById = async () => down();
      override create = async () => down();
    }
    const users: UserStore = new DownUserStore();
    const clock = new ManualClock();
    const { logger, lines } = recordingLogger();
    const auth = createAuth({
      clock,
      logger,
      stores: { users },
      passwordHasher: new CountingHasher(),
      tokens: KEYS,
      rateLimits: {
        login: { limit: 100_000, window: '1m' },
        register: { limit: 100_000, window: '1m' },
      },
    });
    const http = createAuthHttp(auth);
    const route = (path: string) => http.routes.find((r) => r.path === path)!;
    const body = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    for (let i = 0; i < 1_000; i++) {
      for (const [path, value] of [
        ['/api/auth/login', { email: `u${i}@example.com`, password: 'a password of mine' }],
        [
          '/api/auth/register',
          { email: `u${i}@example.com`, password: 'plum-quartz-violin-41', name: 'U' },
        ],
      ] as const) {
        const response = await route(path).handle({
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          ip: '203.0.113.9',
          body: body(value),
        });
        expect([path, response.status]).toEqual([path, 503]);
        expect(response.body).not.toContain('10.1.2.3');
      }
    }
    expect(lines.map((l) => l.message)).toEqual(['requests failing: service unavailable (503)']);
    expect(lines[0]!.data).toMatchObject({ code: 'SERVER_ERROR' });
    // The default timer writes the summary at the end of the interval, on the auth's clock.
    clock.advance(10_000);
    vi.advanceTimersByTime(10_000);
    expect(lines.map((l) => [l.message, l.data['suppressed']])).toEqual([
      ['requests failing: service unavailable (503)', undefined],
      ['requests still failing: service unavailable (503)', 1_999],
    ]);
  });
});

describe('createRequestFailureLog options', () => {
  it('uses an unref()ed timer by default, so a pending summary never keeps the process alive', () => {
    const { logger } = recordingLogger();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const failures = createRequestFailureLog({ logger });
      failures.failed(unavailable(), 503);
      const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      clearTimeout(timer);
    } finally {
      spy.mockRestore();
    }
  });

  it.each([
    [{ intervalMs: 0 }, 'intervalMs'],
    [{ intervalMs: 1e308 }, 'intervalMs'],
    [{ intervalMs: '10s' }, 'intervalMs'],
    [{ clock: { now: 5 } }, 'clock'],
    [{ schedule: 5 }, 'schedule'],
    [{ logger: console.log }, 'logger'],
  ])('refuses %j with INVALID_CONFIG naming the option', (bad, option) => {
    const { logger } = recordingLogger();
    let caught: unknown;
    try {
      createRequestFailureLog({ logger, ...(bad as object) } as never);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AuthError);
    expect((caught as AuthError).code).toBe('INVALID_CONFIG');
    expect((caught as AuthError).message).toContain(`"${option}"`);
  });
});
