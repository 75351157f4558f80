import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import type { ExampleContext } from './context.js';
import { DEMO_ACCOUNTS } from './seed.js';

/**
 * Prints where the app listens and what to try next. The curl commands use accounts that exist
 * in this database: the demo seed in embedded mode; with DATABASE_URL (no demo seed) a register
 * command for a new account and the login with it, or the ADMIN_EMAIL login (its password is
 * never printed).
 */
export function printNextSteps(ctx: ExampleContext, url: string, framework: string): void {
  if (ctx.config.LOG_LEVEL === 'silent') return;
  const lines = [
    '',
    `gatehouse example API (${framework}) listening on ${url}`,
    `database: ${ctx.embedded ? `embedded PGlite in ${ctx.config.DATA_DIR}/pglite` : 'PostgreSQL (DATABASE_URL)'}`,
  ];
  if (ctx.redis) {
    lines.push(
      `counters: Redis at ${ctx.redis} (REDIS_URL): lockouts and rate limits are shared by every instance on it`,
    );
  }
  const json = "-H 'content-type: application/json'";
  let email: string;
  if (ctx.embedded) {
    lines.push('', 'Demo accounts (seeded because no DATABASE_URL is set):');
    for (const a of DEMO_ACCOUNTS)
      lines.push(`  ${a.role.padEnd(5)}  ${a.email}  /  ${a.password}`);
    const demo = DEMO_ACCOUNTS[0];
    email = demo.email;
    lines.push(
      '',
      'Next steps:',
      `  curl -s -X POST ${url}/api/auth/login ${json} -d '{"email":"${demo.email}","password":"${demo.password}"}'`,
    );
  } else {
    // No demo accounts here: register one (a fresh address per start), then log in with it.
    const suffix = randomBytes(6).toString('hex');
    email = `you+${suffix}@example.com`;
    const password = `try-gatehouse-${randomBytes(9).toString('base64url')}`;
    lines.push(
      '',
      'No demo accounts with DATABASE_URL. Next steps (register an account, then log in with it):',
      `  curl -s -X POST ${url}/api/auth/register ${json} -d '{"email":"${email}","password":"${password}","name":"You"}'`,
      `  curl -s -X POST ${url}/api/auth/login ${json} -d '{"email":"${email}","password":"${password}"}'`,
    );
    if (ctx.config.AUTH_REQUIRE_VERIFIED_EMAIL)
      lines.push('  (AUTH_REQUIRE_VERIFIED_EMAIL is on: open the verification link first)');
    if (ctx.config.ADMIN_EMAIL)
      lines.push(
        `  or as the admin: -d '{"email":"${ctx.config.ADMIN_EMAIL}","password":"<ADMIN_PASSWORD>"}'`,
      );
  }
  lines.push(
    `  TOKEN=<the "token" from the login response>`,
    `  curl -s ${url}/api/auth/me -H "authorization: Bearer $TOKEN"`,
    `  curl -s -X POST ${url}/api/orders -H "authorization: Bearer $TOKEN" ${json} -d '{"total":"19.90"}'`,
    `  curl -s ${url}/api/orders -H "authorization: Bearer $TOKEN"`,
    `  curl -s ${url}/.well-known/jwks.json`,
  );
  lines.push(
    '',
    `Login page (cookie mode, with sign-up and "Forgot password?"): open ${url}/ in a browser`,
    '',
    'Password reset and email verification:',
    `  curl -s -X POST ${url}/api/auth/password/forgot ${json} -d '{"email":"${email}"}'`,
    ctx.mail === 'smtp'
      ? '  the mail goes out through SMTP_URL; open its link to choose a new password'
      : '  no SMTP_URL: the mail is written to the log below ("mail (not sent: no SMTP_URL)"); open its "link"',
  );
  if (ctx.redis) {
    lines.push(
      '',
      `Redis (REDIS_URL): the counters are keys under "gatehouse-example:", each with a TTL:`,
      `  redis-cli -u "$REDIS_URL" --scan --pattern 'gatehouse-example:*'`,
      '  while Redis is down, login and the rate-limited routes answer 503 (fail closed); they recover by themselves',
    );
  }
  lines.push(
    '',
    'Operations (docs/observability.md):',
    `  curl -s ${url}/healthz    # the process is alive`,
    `  curl -s ${url}/readyz     # the database${ctx.redis ? ', Redis' : ''} and the mail outbox answer`,
    ctx.metrics
      ? `  curl -s ${url}/metrics    # Prometheus (METRICS=1): keep it off the public internet`
      : '  METRICS=1 adds /metrics for Prometheus',
  );
  lines.push('', 'Stop with Ctrl+C.', '');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Closes the server and then the database on SIGINT / SIGTERM; a second signal, or 10 s
 * without finishing, exits at once.
 */
export function closeOnSignals(ctx: ExampleContext, closeServer: () => Promise<void>): void {
  let closing = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    ctx.logger.info('shutting down', { signal });
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    try {
      await closeServer();
      await ctx.close();
      ctx.logger.info('stopped');
      process.exit(0);
    } catch (err) {
      ctx.logger.error('shutdown failed', { error: (err as Error).message });
      process.exit(1);
    }
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** Starts an example: config errors print their message and exit 1 (no stack trace). */
export async function runExample(start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (err) {
    if (
      (err as Error).name === 'ConfigError' ||
      (err as { code?: string }).code === 'INVALID_CONFIG'
    ) {
      process.stderr.write(`${(err as Error).message}\n`);
    } else if (
      (err as Error).name === 'DatabaseUrlError' ||
      (err as Error).name === 'RedisUrlError'
    ) {
      // One line: the variable, the host and port, the cause (no stack, no password).
      writeSync(2, `${(err as Error).message}\n`);
    } else if (
      (err as Error).name === 'DataDirLockedError' ||
      (err as Error).name === 'EmbeddedDatabaseError'
    ) {
      // The message says what to do; the cause's stack goes to the end for a bug report.
      const cause = (err as Error).cause as Error | undefined;
      writeSync(2, `${(err as Error).message}\n${cause?.stack ? `cause: ${cause.stack}\n` : ''}`);
    } else {
      process.stderr.write(`failed to start: ${(err as Error).stack ?? String(err)}\n`);
    }
    process.exit(1);
  }
}
