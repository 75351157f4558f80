// /healthz and /readyz of the example apps (docs/observability.md, "Health and readiness").
//
// /healthz: the process is alive and its event loop answers; it touches nothing.
// /readyz: the dependencies answer. The database (a trivial query), Redis when REDIS_URL is set
// (PING), and the mail outbox is not failing (see MAIL_FAILING). Each check has a short timeout,
// and concurrent probes share one run of the checks, so a flood of /readyz costs the database at
// most one query of each kind at a time.
import type { Queryable } from 'gatehouse/postgres';
import type { JsonLogger } from './logger.js';

/** The dependencies /readyz checks. */
export type Dependency = 'database' | 'redis' | 'mail';

/**
 * The state of one dependency: `ok`; `failing` (it answered with an error, or the outbox is
 * failing); `timeout` (no answer within the timeout); `unknown` (not checked: the mail outbox
 * lives in the database, which is failing).
 */
export type DependencyState = 'ok' | 'failing' | 'timeout' | 'unknown';

export interface ReadinessReport {
  ready: boolean;
  checks: Partial<Record<Dependency, DependencyState>>;
}

/** How long each check may take before it counts as `timeout`. */
export const READINESS_TIMEOUT_MS = 2_000;

/**
 * When the mail outbox counts as failing, over the last `windowMs`:
 * - stalled: a message has waited longer than the window without being delivered or given up
 *   (the worker does not run or cannot claim; the example's retries end within ~6 minutes:
 *   8 attempts, backoff 1 s doubling to 60 s, at most 30 s per attempt), or
 * - every recent delivery failed: at least `givenUp` messages were given up in the window and
 *   none was delivered (SMTP down or refusing the credentials). One bounced address alone does
 *   not make the app unready.
 */
export const MAIL_FAILING = { windowMs: 15 * 60_000, givenUp: 3 } as const;

/** The outbox's counts over the window of {@link MAIL_FAILING}; `since` is an ISO timestamp. */
const OUTBOX_SQL = `SELECT
  (SELECT count(*)::int FROM mail_outbox
    WHERE delivered_at IS NULL AND failed_at IS NULL AND created_at < $1::timestamptz) AS stalled,
  (SELECT count(*)::int FROM mail_outbox
    WHERE (delivered_at IS NOT NULL OR failed_at IS NOT NULL)
      AND coalesce(delivered_at, failed_at) >= $1::timestamptz AND failed_at IS NOT NULL) AS given_up,
  (SELECT count(*)::int FROM mail_outbox
    WHERE (delivered_at IS NOT NULL OR failed_at IS NOT NULL)
      AND coalesce(delivered_at, failed_at) >= $1::timestamptz AND delivered_at IS NOT NULL) AS delivered`;

export interface ReadinessOptions {
  /** The database: `SELECT 1`, and the outbox's table (`mail_outbox`). */
  database: Queryable;
  /** With REDIS_URL: PING. */
  redis?: { ping(): Promise<unknown> } | undefined;
  /** Check the mail outbox (the app has a mailer). */
  mail: boolean;
  logger: JsonLogger;
  /** @default READINESS_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default Date.now */
  now?: () => number;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
}

class CheckTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout()), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A short, secret-free cause for the log: the error code and the first line of the message. */
function causeOf(err: unknown): string {
  if (err instanceof CheckTimeout) return 'no answer within the timeout';
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const first =
    String(e?.message ?? err)
      .split('\n')[0]
      ?.slice(0, 200) ?? '';
  return code && !first.includes(code) ? `${code}: ${first}` : first;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  const timeoutMs = options.timeoutMs ?? READINESS_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const { logger } = options;
  const last = new Map<Dependency, DependencyState>();
  let running: Promise<ReadinessReport> | undefined;

  /** Runs one check; logs a change of state (not every probe: probes come every few seconds). */
  async function run(name: Dependency, check: () => Promise<string | null>) {
    let state: DependencyState;
    let cause: string | null;
    try {
      cause = await withTimeout(check(), timeoutMs);
      state = cause === null ? 'ok' : 'failing';
    } catch (err) {
      state = err instanceof CheckTimeout ? 'timeout' : 'failing';
      cause = causeOf(err);
    }
    const before = last.get(name) ?? 'ok';
    last.set(name, state);
    if (state !== before) {
      if (state === 'ok') logger.info('readiness: dependency answers again', { dependency: name });
      else logger.warn('readiness: dependency failing', { dependency: name, state, cause });
    }
    return state;
  }

  const database = async () => {
    await options.database.query('SELECT 1', []);
    return null;
  };
  const redis = async () => {
    await options.redis!.ping();
    return null;
  };
  const mail = async () => {
    const since = new Date(now() - MAIL_FAILING.windowMs).toISOString();
    const { rows } = await options.database.query(OUTBOX_SQL, [since]);
    const row = rows[0] as { stalled: number; given_up: number; delivered: number };
    if (row.stalled > 0) {
      return `${row.stalled} message(s) waiting longer than ${MAIL_FAILING.windowMs / 60_000} minutes`;
    }
    if (row.given_up >= MAIL_FAILING.givenUp && row.delivered === 0) {
      return `${row.given_up} message(s) given up and none delivered in ${MAIL_FAILING.windowMs / 60_000} minutes`;
    }
    return null;
  };

  async function checkAll(): Promise<ReadinessReport> {
    const [db, rd] = await Promise.all([
      run('database', database),
      options.redis ? run('redis', redis) : undefined,
    ]);
    const checks: ReadinessReport['checks'] = { database: db };
    if (rd !== undefined) checks.redis = rd;
    if (options.mail) checks.mail = db === 'ok' ? await run('mail', mail) : 'unknown';
    return { ready: Object.values(checks).every((s) => s === 'ok'), checks };
  }

  return {
    check() {
      running ??= checkAll().finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}

/** A JSON response of the operations routes: never cached. */
export interface OperationsResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const NO_STORE = { 'cache-control': 'no-store' };

/** GET /healthz: 200 `{ success: true, status: 'ok' }`; touches nothing. */
export function livenessResponse(): OperationsResponse {
  return { status: 200, headers: NO_STORE, body: { success: true, status: 'ok' } };
}

/**
 * GET /readyz: 200 `{ success: true, status: 'ready', checks }`, or 503 with the contract's error
 * body naming the dependencies that fail, and `checks`: states only, never an address or error
 * text (the cause goes to the log).
 */
export function readinessResponse(report: ReadinessReport): OperationsResponse {
  if (report.ready) {
    return {
      status: 200,
      headers: NO_STORE,
      body: { success: true, status: 'ready', checks: report.checks },
    };
  }
  const failing = Object.entries(report.checks)
    .filter(([, state]) => state === 'failing' || state === 'timeout')
    .map(([name]) => name);
  return {
    status: 503,
    headers: NO_STORE,
    body: {
      success: false,
      error: `Not ready: ${failing.join(', ')} failing.`,
      code: 'SERVER_ERROR',
      checks: report.checks,
    },
  };
}
