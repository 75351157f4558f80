import { expect } from 'vitest';
import type { AuthOptions, MailKind, MailMessage } from '../../src/index.js';

/** The base of the links in the test mails. */
export const PUBLIC_URL = 'https://app.example.com';

/**
 * The `mail` option of a contract app with a recording mailer: the Mailer is the user's own
 * function, so a function collecting the messages is the real interface, not a mock of one.
 */
export function recordingMail(): {
  messages: MailMessage[];
  mail: NonNullable<AuthOptions['mail']>;
} {
  const messages: MailMessage[] = [];
  return {
    messages,
    mail: {
      mailer: async (message) => {
        messages.push(message);
      },
      publicUrl: PUBLIC_URL,
    },
  };
}

/** The token of the link in the last mail of `kind` to `to` (checked in the text and the HTML). */
export function linkTokenOf(messages: MailMessage[], kind: MailKind, to: string): string {
  const message = messages.filter((m) => m.kind === kind && m.to === to).at(-1);
  expect(message, `a ${kind} mail to ${to}`).toBeDefined();
  const path = kind === 'password_reset' ? '/reset-password' : '/verify-email';
  const match = new RegExp(`${PUBLIC_URL}${path}\\?token=([A-Za-z0-9_-]+)`).exec(message!.text);
  expect(match, `a ${path} link in the mail`).not.toBeNull();
  expect(message!.html).toContain(match![1]);
  return match![1]!;
}
