import { z } from 'zod';
import { AuthError } from '../errors.js';
import { type Clock, type Logger, systemClock } from '../runtime.js';

/**
 * How failures during an outage are logged: the first one at once with its cause, then at most
 * one summary line per interval with the count of failures it stands for, and one line when the
 * outage ends. Used by `errorResponse` for 503s (`createRequestFailureLog` of `gatehouse/http`) and by
 * `gatehouse/postgres` for a database that cannot be reached (`trackOutages`).
 *
 * @example
 * ```ts
 * import { createRequestFailureLog } from 'gatehouse/http';
 *
 * const failures = createRequestFailureLog({ logger, intervalMs: 30_000 });
 * ```
 */
export interface OutageLogOptions {
  /** Where the lines go. */
  logger: Logger;
  /**
   * At most one summary line per this many milliseconds while the failures go on; also how long
   * things must stay quiet before an outage counts as over when nothing reports a success.
   * A whole number from 100 to 3 600 000.
   * @default 10_000
   */
  intervalMs?: number;
  /**
   * The time source of the intervals and durations.
   * @default the system clock
   */
  clock?: Clock;
  /**
   * Runs `task` once after `delayMs`, so a summary is written at the end of its interval even
   * when no further failure comes; returns a function that cancels it. Inject one to test
   * without waiting.
   * @default an `unref()`ed `setTimeout` (it never keeps the process alive)
   */
  schedule?: (task: () => void, delayMs: number) => () => void;
}

export const DEFAULT_OUTAGE_INTERVAL_MS = 10_000;

const implementing = (what: string, methods: string[]) =>
  z.custom(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
    { message: `must be ${what} with methods ${methods.join(', ')}` },
  );

const optionsSchema = z
  .object({
    logger: implementing('a Logger', ['debug', 'info', 'warn', 'error']),
    intervalMs: z
      .number({ message: 'must be a number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(100, 'must be at least 100 (ms)')
      .max(3_600_000, 'must be at most 3600000 (1 hour)')
      .optional(),
    clock: implementing('a Clock', ['now']).optional(),
    schedule: z.custom((value) => typeof value === 'function', 'must be a function').optional(),
  })
  .strict();

export interface ResolvedOutageLogOptions {
  logger: Logger;
  intervalMs: number;
  clock: Clock;
  schedule: (task: () => void, delayMs: number) => () => void;
}

function unrefTimeout(task: () => void, delayMs: number): () => void {
  const timer = setTimeout(task, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
}

/** Validates the options; `owner` names the function in the INVALID_CONFIG message. */
export function resolveOutageLogOptions(
  options: OutageLogOptions,
  owner: string,
): ResolvedOutageLogOptions {
  const result = optionsSchema.safeParse(options);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const option = issue.path.join('.') || 'options';
    throw new AuthError('INVALID_CONFIG', `${owner}: option "${option}" ${issue.message}.`, {
      details: { option },
    });
  }
  return {
    logger: options.logger,
    intervalMs: options.intervalMs ?? DEFAULT_OUTAGE_INTERVAL_MS,
    clock: options.clock ?? systemClock,
    schedule: options.schedule ?? unrefTimeout,
  };
}

/** The three lines of an outage. */
export interface OutageMessages {
  /** The first failure (level error), with its cause. */
  unavailable: string;
  /** At most one per interval (level warn), with the count of failures since the last line. */
  stillUnavailable: string;
  /** The end of the outage (level info), with its duration and failure count. */
  back: string;
}

/**
 * When an outage is over: `'success'` when the caller reports one ({@link OutageLog.succeeded},
 * as the database tracker does for every answered query); `'quiet'` after one interval without
 * a failure (the HTTP layer, which sees only the failures).
 */
export type OutageEnd = 'success' | 'quiet';

interface Outage {
  startedAt: number;
  /** Failures since the outage started. */
  failures: number;
  /** Failures since the last line. */
  unreported: number;
  lastFailureAt: number;
  /** 'up': a success was seen; a failure within one interval of it continues the same outage. */
  phase: 'down' | 'up';
  upAt: number;
  /** A "back" line is owed but waits for the end of the current interval. */
  backPending: boolean;
  reportedBack: boolean;
}

const MAX_TEXT = 300;

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT)}...` : line;
}

/**
 * The cause of a failure for a log line: name and message (first line, at most 300
 * characters) and `code`, then the same of its `cause`. Never the SQL, its parameters, the
 * driver's `detail` or a stack.
 */
export function describeCause(err: unknown, depth = 0): Record<string, unknown> {
  if (typeof err !== 'object' || err === null) return { error: firstLine(String(err)) };
  const { name, message, code, cause, errors } = err as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  let text = typeof message === 'string' ? message : '';
  // Node's happy-eyeballs connect throws an AggregateError with an empty message.
  if (text === '' && Array.isArray(errors) && errors.length > 0) {
    const inner = (errors[0] as { message?: unknown }).message;
    if (typeof inner === 'string') text = inner;
  }
  const out: Record<string, unknown> = {
    error: firstLine(typeof name === 'string' && name !== '' ? `${name}: ${text}` : text),
  };
  if (typeof code === 'string' || typeof code === 'number') out['code'] = String(code);
  if (cause !== undefined && depth < 2) out['cause'] = describeCause(cause, depth + 1);
  return out;
}

/**
 * Logs an outage without a storm: the first failure at once (error, with its cause), then at
 * most one line per interval: a summary (warn) counting the failures since the last line, or
 * the end of the outage (info) with its duration and failure count. The first "back" line of an
 * outage is written at once; a failure within one interval after it continues the same outage
 * (a flapping connection), so its next "back" line waits for the end of the interval.
 */
export class OutageLog {
  readonly #options: ResolvedOutageLogOptions;
  readonly #messages: OutageMessages;
  readonly #end: OutageEnd;
  #outage: Outage | null = null;
  #lastLineAt = Number.NEGATIVE_INFINITY;
  #cancel: (() => void) | null = null;
  #due = Number.POSITIVE_INFINITY;

  constructor(options: ResolvedOutageLogOptions, messages: OutageMessages, end: OutageEnd) {
    this.#options = options;
    this.#messages = messages;
    this.#end = end;
  }

  /**
   * Records one failure. `request` (the failing request's id) goes into the line written for
   * this failure, when one is: the first of an outage. Summary lines stand for many requests
   * and carry none.
   */
  failed(cause: unknown, request?: Record<string, unknown>): void {
    const now = this.#options.clock.now();
    this.#settle(now);
    const outage = this.#outage;
    if (outage === null) {
      this.#outage = {
        startedAt: now,
        failures: 1,
        unreported: 0,
        lastFailureAt: now,
        phase: 'down',
        upAt: now,
        backPending: false,
        reportedBack: false,
      };
      this.#write(now, 'error', this.#messages.unavailable, {
        ...request,
        ...describeCause(cause),
      });
      if (this.#end === 'quiet') this.#arm(now + this.#options.intervalMs);
      return;
    }
    outage.phase = 'down';
    outage.backPending = false;
    outage.failures++;
    outage.unreported++;
    outage.lastFailureAt = now;
    this.#flush(now);
  }

  /** Records a success: ends the outage (`'success'` mode); does nothing when none is going on. */
  succeeded(): void {
    const outage = this.#outage;
    if (outage === null || outage.phase === 'up') return;
    const now = this.#options.clock.now();
    outage.phase = 'up';
    outage.upAt = now;
    if (!outage.reportedBack || now - this.#lastLineAt >= this.#options.intervalMs) {
      this.#writeBack(outage, now);
    } else {
      outage.backPending = true;
      this.#arm(this.#lastLineAt + this.#options.intervalMs);
    }
  }

  /** Forgets an outage that is over: up for a whole interval, or quiet for one. */
  #settle(now: number): void {
    const outage = this.#outage;
    if (outage === null) return;
    const interval = this.#options.intervalMs;
    if (outage.phase === 'up' && now - outage.upAt >= interval) {
      if (outage.backPending) this.#writeBack(outage, now);
      this.#outage = null;
    } else if (this.#end === 'quiet' && now - outage.lastFailureAt >= interval) {
      this.#writeBack(outage, now);
      this.#outage = null;
    }
  }

  /** Writes the line that is due, if any, or arms the timer for when it will be. */
  #flush(now: number): void {
    const outage = this.#outage;
    if (outage === null) return;
    const interval = this.#options.intervalMs;
    const nextLineAt = this.#lastLineAt + interval;
    if (now < nextLineAt) {
      if (outage.unreported > 0 || outage.backPending || this.#end === 'quiet') {
        this.#arm(nextLineAt);
      }
      return;
    }
    if (outage.phase === 'up') {
      if (outage.backPending) this.#writeBack(outage, now);
      return;
    }
    if (outage.unreported > 0) {
      this.#write(now, 'warn', this.#messages.stillUnavailable, {
        suppressed: outage.unreported,
        failures: outage.failures,
        downForMs: now - outage.startedAt,
        intervalMs: interval,
      });
      outage.unreported = 0;
      if (this.#end === 'quiet') this.#arm(now + interval);
      return;
    }
    if (this.#end === 'quiet') {
      if (now - outage.lastFailureAt >= interval) {
        this.#writeBack(outage, now);
        this.#outage = null;
      } else {
        this.#arm(outage.lastFailureAt + interval);
      }
    }
  }

  #writeBack(outage: Outage, now: number): void {
    const end = this.#end === 'quiet' ? outage.lastFailureAt : outage.upAt;
    this.#write(now, 'info', this.#messages.back, {
      downForMs: end - outage.startedAt,
      failures: outage.failures,
      ...(this.#end === 'quiet' ? { quietForMs: now - outage.lastFailureAt } : {}),
    });
    outage.unreported = 0;
    outage.backPending = false;
    outage.reportedBack = true;
  }

  #write(
    now: number,
    level: 'error' | 'warn' | 'info',
    message: string,
    data: Record<string, unknown>,
  ): void {
    this.#lastLineAt = now;
    try {
      this.#options.logger[level](message, data);
    } catch {
      // A failing logger must not turn a logged failure into another one.
    }
  }

  #arm(at: number): void {
    if (this.#cancel !== null && this.#due <= at) return;
    this.#cancel?.();
    const delay = Math.max(0, at - this.#options.clock.now());
    this.#due = at;
    this.#cancel = this.#options.schedule(() => {
      this.#cancel = null;
      this.#due = Number.POSITIVE_INFINITY;
      this.#flush(this.#options.clock.now());
    }, delay);
  }
}
