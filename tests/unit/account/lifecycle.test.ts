import { describe, expect, it } from 'vitest';
import { registerUser } from '../../helpers/auth.js';
import { makeMailAuth, recordingTokenStore } from './account-auth.js';

describe('auth.mail and auth.close()', () => {
  it('auth.mail.flush() waits for links still being issued, then delivers them; pending() counts what waits', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    await made.auth.mail.flush();
    made.sent.length = 0;
    await made.auth.requestPasswordReset('ada@example.com');
    expect(await made.auth.mail.flush()).toEqual({ delivered: 1, failed: 0 });
    expect(made.sent).toHaveLength(1);
    expect(await made.auth.mail.pending()).toBe(0);
  });

  it('a mailer that keeps failing leaves the mail pending for a retry, and flush reports the failure', async () => {
    const made = makeMailAuth({}, async () => {
      throw new Error('smtp down');
    });
    await registerUser(made.auth, 'ada@example.com');
    expect(await made.auth.mail.flush()).toEqual({ delivered: 0, failed: 1 });
    expect(await made.auth.mail.pending()).toBe(1);
    await made.auth.close();
  });

  it('shutdown during a reset request: close() waits for the link being issued and is idempotent', async () => {
    const tokens = recordingTokenStore();
    const issue = tokens.store.issue;
    let stored = 0;
    // A slow store: the link is stored 50 ms after the request returned.
    tokens.store.issue = async (record, mail) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await issue.call(tokens.store, record, mail);
      stored++;
    };
    const made = makeMailAuth({ stores: { oneTimeTokens: tokens.store, outbox: tokens.outbox } });
    await registerUser(made.auth, 'ada@example.com');
    await made.auth.mail.flush();
    stored = 0;
    await made.auth.requestPasswordReset('ada@example.com');
    expect(stored).toBe(0);
    const closing = made.auth.close();
    expect(made.auth.close()).toBe(closing);
    await closing;
    expect(stored).toBe(1);
  });

  it('close() without mail configured resolves', async () => {
    const made = makeMailAuth({ mail: undefined });
    await expect(made.auth.close()).resolves.toBeUndefined();
  });
});
