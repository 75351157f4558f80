import { createHash } from 'node:crypto';
import {
  type AuthOptions,
  type MailMessage,
  MemoryMailOutbox,
  MemoryOneTimeTokenStore,
  type OneTimeTokenRecord,
  type OutboxMessage,
  type RandomSource,
} from '../../../src/index.js';
import { makeAuth } from '../../helpers/auth.js';

export const PUBLIC_URL = 'https://app.example.com';

/** Deterministic, distinct bytes from a counter; records every buffer it hands out. */
export function recordingRandom(): RandomSource & { handedOut: Uint8Array[] } {
  let counter = 0;
  const handedOut: Uint8Array[] = [];
  return {
    handedOut,
    bytes(length: number) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i += 32) {
        const block = createHash('sha256').update(`test-random-${counter++}`).digest();
        out.set(block.subarray(0, Math.min(32, length - i)), i);
      }
      handedOut.push(Uint8Array.from(out));
      return out;
    },
  };
}

/** A MemoryOneTimeTokenStore that also records every record and mail it was asked to issue. */
export function recordingTokenStore() {
  const outbox = new MemoryMailOutbox();
  const inner = new MemoryOneTimeTokenStore({ outbox });
  const issued: { record: OneTimeTokenRecord; mail: OutboxMessage | undefined }[] = [];
  const store = Object.assign(Object.create(inner) as MemoryOneTimeTokenStore, {
    issued,
    issue(record: OneTimeTokenRecord, mail?: OutboxMessage) {
      issued.push({ record: { ...record }, mail });
      return inner.issue(record, mail);
    },
    consume: inner.consume.bind(inner),
    find: inner.find.bind(inner),
    revokeUserTokens: inner.revokeUserTokens.bind(inner),
    prune: inner.prune.bind(inner),
  });
  return { store, outbox, issued };
}

/**
 * A gatehouse with mail configured: manual clock, counting hasher, collected audit events, a
 * recording random source and a recording mailer (a plain function: the user's Mailer interface).
 */
export function makeMailAuth(
  options: AuthOptions = {},
  mailer?: (m: MailMessage) => Promise<void>,
) {
  const sent: MailMessage[] = [];
  const random = recordingRandom();
  const made = makeAuth({
    random,
    mail: {
      mailer:
        mailer ??
        (async (message) => {
          sent.push(message);
        }),
      publicUrl: PUBLIC_URL,
    },
    ...options,
  });
  return { ...made, sent, random };
}

/** The token of the link in a mail. */
export function tokenIn(message: MailMessage | undefined): string {
  if (!message) throw new Error('no mail was sent');
  const match = /[?&]token=([A-Za-z0-9_-]+)/.exec(message.text);
  if (!match) throw new Error(`no token link in the ${message.kind} mail`);
  return match[1]!;
}

/** The mails sent to `to` of one kind. */
export function mailsTo(sent: MailMessage[], to: string, kind: MailMessage['kind']) {
  return sent.filter((m) => m.to === to && m.kind === kind);
}
