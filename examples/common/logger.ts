import type { AuditEvent, Logger } from 'gatehouse';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/** Keys whose values never reach a log line, wherever they appear. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|hash|private/i;

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) && k !== 'emailHash' ? '[redacted]' : scrub(v, depth + 1),
    ]),
  );
}

/** A structured logger: one JSON object per line on stdout, secrets scrubbed by key name. */
export interface JsonLogger extends Logger {
  /** Writes one security event (from gatehouse's audit sink) as a line. */
  audit(event: AuditEvent): void;
  /** Writes one line per HTTP request. */
  request(data: {
    method: string;
    path: string;
    status: number;
    durationMs: number;
    ip?: string;
  }): void;
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): JsonLogger {
  const threshold = LEVELS[level];
  const log = (lvl: Exclude<LogLevel, 'silent'>, msg: string, data?: Record<string, unknown>) => {
    if (LEVELS[lvl] < threshold) return;
    write(
      JSON.stringify({
        time: new Date().toISOString(),
        level: lvl,
        msg,
        ...(scrub(data ?? {}) as object),
      }),
    );
  };
  return {
    debug: (msg, data) => log('debug', msg, data),
    info: (msg, data) => log('info', msg, data),
    warn: (msg, data) => log('warn', msg, data),
    error: (msg, data) => log('error', msg, data),
    audit: (event) =>
      log(event.status === 'success' ? 'info' : 'warn', 'security event', { ...event }),
    request: (data) => log('info', 'request', data),
  };
}
