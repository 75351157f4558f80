import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import type { Logger } from '../../../src/runtime.js';
import { MemoryMailOutbox } from '../../../src/stores/memory-mail-outbox.js';
import type { OutboxMessage } from '../../../src/stores/types.js';
import { describeMailOutboxStore } from '../../../src/testing/index.js';

describeMailOutboxStore(
  'MemoryMailOutbox',
  () => new MemoryMailOutbox(),
  { describe, it },
  {
    content: async (store, id) => (store as MemoryMailOutbox).inspect(id),
  },
);

const NOW = 1_700_000_000_000;

function message(id: string): OutboxMessage {
  return {
    id,
    kind: 'password_reset',
    to: 'ada@example.com',
    subject: 'Reset your password',
    text: 'https://app.example.com/reset-password?token=secret',
    html: '<a href="https://app.example.com/reset-password?token=secret">x</a>',
    attempts: 0,
    nextAttemptAt: NOW,
    createdAt: NOW,
    expiresAt: null,
  };
}

function recordingLogger() {
  const lines: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  const log =
    (level: string) =>
    (text: string, data?: Record<string, unknown>): void => {
      lines.push({ level, message: text, ...(data ? { data } : {}) });
    };
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
  return { logger, lines };
}

describe('MemoryMailOutbox bounds', () => {
  it('a flood of mail past maxPending is refused with SERVER_ERROR 503 and one error log, without the content', async () => {
    const { logger, lines } = recordingLogger();
    const outbox = new MemoryMailOutbox({ maxPending: 2, logger });
    await outbox.enqueue(message('a'));
    await outbox.enqueue(message('b'));
    const failure = await outbox.enqueue(message('c')).catch((e) => e);
    expect(failure).toBeInstanceOf(AuthError);
    expect(failure).toMatchObject({ code: 'SERVER_ERROR', status: 503 });
    expect(await outbox.pending()).toBe(2);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toMatch(/secret|ada@example\.com/);
  });

  it('room frees up once a message is delivered', async () => {
    const outbox = new MemoryMailOutbox({ maxPending: 1 });
    await outbox.enqueue(message('a'));
    await outbox.claim(NOW, 1, 60_000);
    await outbox.markDelivered('a', NOW);
    await expect(outbox.enqueue(message('b'))).resolves.toBeUndefined();
  });

  it('finished messages are bounded by maxFinished: the oldest are forgotten', async () => {
    const outbox = new MemoryMailOutbox({ maxFinished: 2 });
    for (const id of ['a', 'b', 'c']) {
      await outbox.enqueue(message(id));
      await outbox.claim(NOW, 1, 60_000);
      await outbox.markDelivered(id, NOW);
    }
    expect(outbox.inspect('a')).toBeNull();
    expect(outbox.inspect('b')).not.toBeNull();
    expect(outbox.inspect('c')).not.toBeNull();
  });

  it('inspect returns a snapshot: changing it changes nothing stored', async () => {
    const outbox = new MemoryMailOutbox();
    await outbox.enqueue(message('a'));
    const snapshot = outbox.inspect('a')!;
    snapshot.text = 'changed';
    expect(outbox.inspect('a')!.text).toBe(message('a').text);
  });

  it('refuses a maxPending that is not a positive integer', () => {
    expect(() => new MemoryMailOutbox({ maxPending: 0 })).toThrow(/maxPending/);
  });
});
