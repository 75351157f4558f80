import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type RunningExample, request, startExample } from './example-process.js';
import { type SmtpInbox, startSmtpInbox } from './smtp-inbox.js';

// Each example app as a child process, sending with nodemailer to a real SMTP server
// (smtp-server on 127.0.0.1) that is not there yet when the reset is requested. The outbox in the
// app's database keeps the mail and the worker retries (1 s, 2 s, 4 s, 8 s ...).

const DEMO = { email: 'user@example.com', password: 'velvet otter tangerine' };
// The embedded database (seeded with the demo account) even when DATABASE_URL is set: an empty
// variable counts as unset.
const EMBEDDED = { DATABASE_URL: '' };

describe.each(['express-api', 'fastify-api'] as const)('mail outbox of the %s example', (name) => {
  let app: RunningExample | undefined;
  let inbox: SmtpInbox | undefined;

  afterEach(async () => {
    await app?.stop();
    await inbox?.close();
    app = undefined;
    inbox = undefined;
  });

  it('SMTP server down at the reset request: 202 at once, and the mail arrives once the server starts; its link resets the password', async () => {
    const smtpPort = await freePort();
    app = await startExample(name, { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, ...EMBEDDED });

    const started = performance.now();
    const forgot = await request(`${app.url}/api/auth/password/forgot`, {
      body: { email: DEMO.email },
    });
    const answeredMs = performance.now() - started;
    expect(forgot.status).toBe(202);
    // The answer never waits for the mail (or for the dead SMTP server).
    expect(answeredMs).toBeLessThan(2000);

    // Delivery was really attempted and failed: nothing listens on the port yet.
    const failures = () =>
      app!
        .logs()
        .filter((l) => l.msg === 'mail delivery failed, will retry' && l.kind === 'password_reset');
    await expect.poll(failures, { timeout: 20_000, interval: 100 }).not.toHaveLength(0);
    expect(String(failures()[0]!.error)).toMatch(/ECONNREFUSED/);

    inbox = await startSmtpInbox(smtpPort);
    const arrivedAfter = performance.now();
    // Backoff 1 s, 2 s, 4 s, 8 s, 16 s ... (capped at 1 min): the next attempt is within ~20 s.
    const mail = await inbox.waitFor((m) => m.envelopeTo.includes(DEMO.email), 60_000);
    const waitedMs = performance.now() - arrivedAfter;
    expect(waitedMs).toBeLessThan(60_000);
    expect(mail.link).toMatch(new RegExp(`^${app.url}/reset-password\\?token=[A-Za-z0-9_-]{43}$`));
    expect(inbox.mails).toHaveLength(1);

    const token = new URL(mail.link!).searchParams.get('token');
    const newPassword = 'harbour lantern quartz meadow';
    const reset = await request(`${app.url}/api/auth/password/reset`, {
      body: { token, password: newPassword },
    });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    const oldLogin = await request(`${app.url}/api/auth/login`, { body: DEMO });
    expect(oldLogin.status).toBe(401);
    const login = await request(`${app.url}/api/auth/login`, {
      body: { email: DEMO.email, password: newPassword },
    });
    expect(login.status).toBe(200);
    // Single use: the same link again gets the one answer for bad links.
    const reused = await request(`${app.url}/api/auth/password/reset`, {
      body: { token, password: 'yet another passphrase here' },
    });
    expect(reused).toMatchObject({ status: 400, body: { code: 'LINK_INVALID' } });
  }, 150_000);

  it('without SMTP_URL (development) the mail goes to the log with its link, and the link works', async () => {
    app = await startExample(name, EMBEDDED);
    const forgot = await request(`${app.url}/api/auth/password/forgot`, {
      body: { email: DEMO.email },
    });
    expect(forgot.status).toBe(202);
    const logged = () => app!.logs().find((l) => l.msg === 'mail (not sent: no SMTP_URL)');
    await expect.poll(logged, { timeout: 20_000, interval: 100 }).toBeDefined();
    const line = logged()!;
    expect(line).toMatchObject({ kind: 'password_reset', to: DEMO.email });
    const link = String(line.link);
    expect(link.startsWith(`${app.url}/reset-password?token=`)).toBe(true);
    const reset = await request(`${app.url}/api/auth/password/reset`, {
      body: { token: new URL(link).searchParams.get('token'), password: 'pepper violin glacier' },
    });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    // The mail's text and HTML never reach the log: only kind, recipient and link.
    expect(app.output()).not.toMatch(/<a |<html|<p>/i);
  }, 120_000);
});
