import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditEmitter } from '../../../src/audit/emitter.js';
import type { AuditEvent } from '../../../src/audit/events.js';
import type { Mailer, MailMessage } from '../../../src/mail/message.js';
import { createMailWorker, type MailWorkerOptions } from '../../../src/mail/worker.js';
import type { Logger } from '../../../src/runtime.js';
import { MemoryMailOutbox } from '../../../src/stores/memory-mail-outbox.js';
import type { MailOutboxStore, OutboxMessage } from '../../../src/stores/types.js';
import { FakeTime, settle } from '../../helpers/fake-timers.js';

const TOKEN = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8';
const LINK = `https://app.example.com/reset-password?token=${TOKEN}`;
const RECIPIENT = 'ada.lovelace@example.com';

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  data?: Record<string, unknown>;
}

function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log =
    (level: LogLine['level']) =>
    (message: string, data?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(data ? { data } : {}) });
    };
  return {
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    lines,
  };
}

function outboxMessage(time: FakeTime, overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    id: randomUUID(),
    kind: 'password_reset',
    to: RECIPIENT,
    subject: 'Reset your Acme password',
    text: `Open ${LINK}`,
    html: `<a href="${LINK}">Choose a new password</a>`,
    attempts: 0,
    nextAttemptAt: time.time,
    createdAt: time.time,
    expiresAt: null,
    ...overrides,
  };
}

function setup(
  mailer: Mailer,
  overrides: Partial<MailWorkerOptions> = {},
  store: MailOutboxStore = new MemoryMailOutbox(),
) {
  const time = new FakeTime();
  const { logger, lines } = recordingLogger();
  const events: AuditEvent[] = [];
  const audit = new AuditEmitter({
    sink: (event) => void events.push(event),
    clock: time.clock,
    logger,
    emailKey: new Uint8Array(32).fill(7),
  });
  const worker = createMailWorker({
    store,
    mailer,
    clock: time.clock,
    logger,
    audit,
    retry: { maxAttempts: 8, initialDelayMs: 1_000, maxDelayMs: 5_000 },
    pollIntervalMs: 3_600_000,
    leaseMs: 60_000,
    deliveryTimeoutMs: 30_000,
    timers: time.timers,
    ...overrides,
  });
  return { time, worker, store, logger, lines, events, audit };
}

/** A mailer that records the time of each call and fails every call. */
function failingMailer(
  time: () => number,
  error = () => new Error('connect ECONNREFUSED 127.0.0.1:2525'),
) {
  const calls: number[] = [];
  const mailer: Mailer = async () => {
    calls.push(time());
    throw error();
  };
  return { calls, mailer };
}

describe('mail worker: retries', () => {
  it('a failing mailer is retried after 1 s, 2 s, 4 s … capped at the max delay (5 s here)', async () => {
    let now = () => 0;
    const { calls, mailer } = failingMailer(() => now());
    const { time, worker, store } = setup(mailer);
    now = () => time.time;
    const start = time.time;
    await store.enqueue(outboxMessage(time));
    worker.start();
    await time.advance(120_000);
    expect(calls.map((t) => t - start)).toEqual([
      0, 1_000, 3_000, 7_000, 12_000, 17_000, 22_000, 27_000,
    ]);
    await worker.close();
  });

  it('after maxAttempts: exactly one MAIL_FAILED event and one error log with the cause, a warn log per earlier attempt', async () => {
    const time0 = { now: () => 0 };
    const { calls, mailer } = failingMailer(() => time0.now());
    const { time, worker, store, lines, events } = setup(mailer, {
      retry: { maxAttempts: 4, initialDelayMs: 1_000, maxDelayMs: 60_000 },
    });
    const message = outboxMessage(time);
    await store.enqueue(message);
    worker.start();
    await time.advance(3_600_000 * 3);
    expect(calls).toHaveLength(4);
    const failed = events.filter((e) => e.event === 'MAIL_FAILED');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      status: 'failure',
      metadata: {
        kind: 'password_reset',
        attempts: 4,
        messageId: message.id,
        error: expect.stringContaining('ECONNREFUSED'),
        emailHash: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    });
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.data).toMatchObject({
      attempts: 4,
      error: expect.stringContaining('ECONNREFUSED 127.0.0.1:2525'),
    });
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(3);
    expect(await store.pending()).toBe(0);
    await worker.close();
  });

  it('a mailer that throws synchronously counts as a failed attempt and is retried', async () => {
    let attempts = 0;
    const mailer = ((_message: MailMessage) => {
      attempts += 1;
      if (attempts === 1) throw new Error('sync failure');
      return Promise.resolve();
    }) as Mailer;
    const { time, worker, store } = setup(mailer);
    await store.enqueue(outboxMessage(time));
    worker.start();
    await time.advance(1_000);
    expect(attempts).toBe(2);
    expect(await store.pending()).toBe(0);
    await worker.close();
  });

  it('a hanging mailer is cut off by the delivery timeout and the message retried', async () => {
    const sent: number[] = [];
    let call = 0;
    const { time, worker, store, lines } = setup(async () => {
      call += 1;
      if (call === 1) return new Promise<void>(() => {}); // never settles
      sent.push(time.time);
    });
    const start = time.time;
    await store.enqueue(outboxMessage(time));
    worker.start();
    await time.advance(29_999);
    expect(sent).toEqual([]);
    expect(await store.pending()).toBe(1);
    await time.advance(1);
    expect(lines.find((l) => l.level === 'warn')?.data?.['error']).toMatch(
      /did not answer within 30000 ms/,
    );
    await time.advance(1_000);
    expect(sent.map((t) => t - start)).toEqual([31_000]);
    expect(await store.pending()).toBe(0);
    await worker.close();
  });

  it('a mailer that rejects after its timeout causes no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let rejectLate: (err: Error) => void = () => {};
      let call = 0;
      const { time, worker, store } = setup(async () => {
        call += 1;
        if (call === 1) {
          return new Promise<void>((_, reject) => {
            rejectLate = reject;
          });
        }
      });
      await store.enqueue(outboxMessage(time));
      worker.start();
      await time.advance(31_000);
      rejectLate(new Error('late failure'));
      await settle();
      expect(unhandled).toEqual([]);
      expect(await store.pending()).toBe(0);
      await worker.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('mail worker: polling, notify, flush', () => {
  it('a message enqueued by another instance (directly into the store) is delivered at the next poll', async () => {
    const sent: MailMessage[] = [];
    const { time, worker, store } = setup(async (m) => void sent.push(m), {
      pollIntervalMs: 1_000,
    });
    worker.start();
    await time.advance(0);
    const message = outboxMessage(time);
    await store.enqueue(message);
    await time.advance(999);
    expect(sent).toEqual([]);
    await time.advance(1);
    expect(sent).toEqual([
      {
        kind: message.kind,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      },
    ]);
    await worker.close();
  });

  it('a message left by a crashed instance (lease ended) is delivered at start', async () => {
    const sent: string[] = [];
    const store = new MemoryMailOutbox();
    const { time, worker } = setup(async (m) => void sent.push(m.to), {}, store);
    await store.enqueue(outboxMessage(time));
    await store.claim(time.time - 120_000, 10, 60_000); // the dead instance's lease has ended
    worker.start();
    await time.advance(0);
    expect(sent).toEqual([RECIPIENT]);
  });

  it('notify delivers at once, without waiting for the poll', async () => {
    const sent: number[] = [];
    const { time, worker, store } = setup(async () => void sent.push(time.time));
    worker.start();
    await time.advance(10);
    await store.enqueue(outboxMessage(time));
    worker.notify();
    await time.advance(0);
    expect(sent).toEqual([time.time]);
    await worker.close();
  });

  it('notify before start does nothing (no timer)', async () => {
    const { time, worker, store } = setup(async () => {});
    await store.enqueue(outboxMessage(time));
    worker.notify();
    expect(time.pendingTimers).toBe(0);
    await time.advance(3_600_000 * 2);
    expect(await store.pending()).toBe(1);
  });

  it('start is idempotent: one poll timer however often it is called', async () => {
    const { time, worker } = setup(async () => {});
    worker.start();
    worker.start();
    worker.start();
    expect(time.pendingTimers).toBe(1);
    await worker.close();
  });

  it('flush delivers every due message batch after batch, without start, and counts', async () => {
    const sent: string[] = [];
    const { time, worker, store } = setup(async (m) => void sent.push(m.subject), {
      batchSize: 10,
    });
    for (let i = 0; i < 25; i += 1) {
      await store.enqueue(outboxMessage(time, { subject: `mail ${i}`, createdAt: time.time + i }));
    }
    await store.enqueue(outboxMessage(time, { nextAttemptAt: time.time + 1, subject: 'later' }));
    expect(await worker.flush()).toEqual({ delivered: 25, failed: 0 });
    expect(sent).toHaveLength(25);
    expect(sent).not.toContain('later');
    expect(await store.pending()).toBe(1);
  });

  it('flush counts failed attempts and leaves them for their retry', async () => {
    const { time, worker, store } = setup(async (m) => {
      if (m.subject === 'bad') throw new Error('550 mailbox unavailable');
    });
    await store.enqueue(outboxMessage(time, { subject: 'bad' }));
    await store.enqueue(outboxMessage(time, { subject: 'good' }));
    expect(await worker.flush()).toEqual({ delivered: 1, failed: 1 });
    expect(await store.pending()).toBe(1);
    expect(await worker.flush()).toEqual({ delivered: 0, failed: 0 });
    time.time += 1_000;
    expect(await worker.flush()).toEqual({ delivered: 0, failed: 1 });
  });

  it('an outbox outage logs one error (not one per poll), keeps polling, and delivery resumes after it', async () => {
    const inner = new MemoryMailOutbox();
    let down = true;
    const store: MailOutboxStore = {
      enqueue: (m) => inner.enqueue(m),
      claim: (now, limit, lease) =>
        down ? Promise.reject(new Error('connection terminated')) : inner.claim(now, limit, lease),
      markDelivered: (id, now) => inner.markDelivered(id, now),
      markFailed: (id, failure) => inner.markFailed(id, failure),
      pending: () => inner.pending(),
      prune: (olderThan) => inner.prune(olderThan),
      deleteForRecipient: (email) => inner.deleteForRecipient(email),
    };
    const sent: string[] = [];
    const { time, worker, lines } = setup(
      async (m) => void sent.push(m.to),
      { pollIntervalMs: 1_000 },
      store,
    );
    await inner.enqueue(outboxMessage(time));
    worker.start();
    await time.advance(10_000);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(lines[0]!.data).toMatchObject({ error: 'connection terminated' });
    down = false;
    await time.advance(1_000);
    expect(sent).toEqual([RECIPIENT]);
    expect(lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual([
      'mail outbox available again: delivery resumed',
    ]);
    await worker.close();
  });
});

describe('mail worker: close', () => {
  it('close stops polling: a message enqueued afterwards is not delivered', async () => {
    const sent: string[] = [];
    const { time, worker, store } = setup(async (m) => void sent.push(m.to), {
      pollIntervalMs: 1_000,
    });
    worker.start();
    await time.advance(0);
    await worker.close();
    expect(time.pendingTimers).toBe(0);
    await store.enqueue(outboxMessage(time));
    worker.notify();
    worker.start();
    await time.advance(60_000);
    expect(sent).toEqual([]);
  });

  it('close waits for the delivery in flight, which is recorded as delivered', async () => {
    let finish: () => void = () => {};
    const { time, worker, store } = setup(
      () =>
        new Promise<void>((resolve) => {
          finish = resolve;
        }),
    );
    await store.enqueue(outboxMessage(time));
    worker.start();
    await time.advance(0);
    let closed = false;
    const closing = worker.close().then(() => {
      closed = true;
    });
    await settle();
    expect(closed).toBe(false);
    finish();
    await closing;
    expect(closed).toBe(true);
    expect(await store.pending()).toBe(0);
  });

  it('close is bounded: a mailer that never answers does not hold shutdown past closeTimeoutMs', async () => {
    const { time, worker, store, lines } = setup(() => new Promise<void>(() => {}), {
      closeTimeoutMs: 10_000,
    });
    await store.enqueue(outboxMessage(time));
    worker.start();
    await time.advance(0);
    let closed = false;
    const closing = worker.close().then(() => {
      closed = true;
    });
    await time.advance(9_999);
    expect(closed).toBe(false);
    await time.advance(1);
    await closing;
    expect(closed).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && /in flight/.test(l.message))).toBe(true);
  });

  it('close is idempotent: the same promise every time', async () => {
    const { worker } = setup(async () => {});
    worker.start();
    const first = worker.close();
    expect(worker.close()).toBe(first);
    await first;
  });

  it('real timers are unref()ed: a started worker never keeps the process alive', async () => {
    const script = `
      import { createMailWorker } from './src/mail/worker.ts';
      import { MemoryMailOutbox } from './src/stores/memory-mail-outbox.ts';
      import { AuditEmitter } from './src/audit/emitter.ts';
      const logger = { debug() {}, info() {}, warn() {}, error() {} };
      const clock = { now: () => Date.now() };
      const store = new MemoryMailOutbox();
      const audit = new AuditEmitter({ sink: undefined, clock, logger, emailKey: new Uint8Array(32) });
      const worker = createMailWorker({ store, mailer: () => new Promise(() => {}), clock, logger, audit,
        pollIntervalMs: 1000, leaseMs: 60000 });
      await store.enqueue({ id: 'x', kind: 'password_reset', to: 'a@example.com', subject: 's', text: 't', html: 'h',
        attempts: 0, nextAttemptAt: 0, createdAt: 0, expiresAt: null });
      worker.start();
      worker.notify();
      await new Promise((resolve) => setTimeout(resolve, 50));
      console.log('started');
    `;
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exit = await new Promise<number | null>((resolve) => {
      const killer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, 15_000);
      child.on('exit', (code) => {
        clearTimeout(killer);
        resolve(code);
      });
    });
    expect(output).toContain('started');
    expect(exit, 'the process must exit on its own (a ref()ed timer would keep it alive)').toBe(0);
  }, 20_000);
});

describe('mail worker: what reaches logs and audit', () => {
  let unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  beforeEach(() => {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('mail content never appears in logs or audit, even when the mailer error quotes the mail', async () => {
    const { time, worker, store, lines, events } = setup(
      async (m) => {
        throw new Error(`rejected ${m.to}: "${m.subject}" ${m.text}`);
      },
      { retry: { maxAttempts: 3, initialDelayMs: 1_000, maxDelayMs: 60_000 } },
    );
    await store.enqueue(outboxMessage(time));
    worker.start();
    await time.advance(10_000);
    expect(events.filter((e) => e.event === 'MAIL_FAILED')).toHaveLength(1);
    const written = JSON.stringify({ lines, events });
    expect(written).not.toContain(TOKEN);
    expect(written).not.toContain(RECIPIENT);
    expect(written).not.toContain('Reset your Acme password');
    expect(written).toContain('[redacted]');
    expect(written).toContain('<recipient>');
    expect(unhandled).toEqual([]);
    await worker.close();
  });

  it('the outbox keeps the cause without the token either', async () => {
    const store = new MemoryMailOutbox();
    const { time, worker } = setup(
      async (m) => {
        throw new Error(`bounced: ${m.text}`);
      },
      {},
      store,
    );
    const message = outboxMessage(time);
    await store.enqueue(message);
    await worker.flush();
    const entry = store.inspect(message.id);
    expect(entry?.lastError).toMatch(/^bounced: Open https:\/\/app\.example\.com/);
    expect(entry?.lastError).not.toContain(TOKEN);
  });
});

describe('createMailWorker options', () => {
  const valid = () => {
    const time = new FakeTime();
    const logger = recordingLogger().logger;
    return {
      store: new MemoryMailOutbox(),
      mailer: async () => {},
      clock: time.clock,
      logger,
      audit: new AuditEmitter({
        sink: undefined,
        clock: time.clock,
        logger,
        emailKey: new Uint8Array(32),
      }),
      timers: time.timers,
    } satisfies MailWorkerOptions;
  };

  it.each([
    [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ retry: { maxAttempts: 51 } }, 'retry.maxAttempts'],
    [{ retry: { initialDelayMs: 5_000, maxDelayMs: 1_000 } }, 'retry'],
    [{ pollIntervalMs: -1 }, 'pollIntervalMs'],
    [{ batchSize: 1_000 }, 'batchSize'],
    [{ leaseMs: 10_000, deliveryTimeoutMs: 10_000 }, 'deliveryTimeoutMs'],
    [{ mailer: 'smtp://localhost' }, 'mailer'],
  ])('refuses %j with INVALID_CONFIG naming %s', (override, option) => {
    expect(() =>
      createMailWorker({ ...valid(), ...(override as object) } as MailWorkerOptions),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: expect.stringContaining(`${option}:`),
      }),
    );
  });

  it('accepts the defaults', () => {
    expect(() => createMailWorker(valid())).not.toThrow();
  });
});

describe('mail worker: a throwing logger', () => {
  it('a logger that throws on every line breaks neither the timer nor the retries (no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const broken = () => {
        throw new Error('log sink gone');
      };
      const throwingLogger: Logger = { debug: broken, info: broken, warn: broken, error: broken };
      const sent: string[] = [];
      let failures = 0;
      const { time, worker, store } = setup(
        async (m) => {
          if (failures < 2) {
            failures += 1;
            throw new Error('smtp down');
          }
          sent.push(m.to);
        },
        { pollIntervalMs: 1_000, logger: throwingLogger },
      );
      await store.enqueue(outboxMessage(time));
      worker.start();
      await time.advance(10_000);
      expect(sent).toEqual([RECIPIENT]);
      expect(unhandled).toEqual([]);
      await worker.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
