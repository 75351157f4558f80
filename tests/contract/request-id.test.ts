// Request ids over HTTP on every adapter (issue 16): a valid incoming X-Request-Id is echoed, an
// invalid one is replaced and never echoed, every answer gatehouse writes carries the header,
// and the id is in the audit events and the log lines of its request, never another's.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/events.js';
import { internalsOf } from '../../src/internal/handle.js';
import { CountingHasher } from '../helpers/fakes.js';
import { adapters, type RunningApp } from './apps.js';
import { PASSWORD } from './client.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const RELAXED = { rateLimits: { login: false, register: false, refresh: false } } as const;

interface Answer {
  status: number;
  requestId: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with node:http (headers sent as given, latin1), answered with its X-Request-Id. */
function send(
  app: RunningApp,
  path: string,
  options: { method?: string; headers?: [string, string][]; body?: string } = {},
): Promise<Answer> {
  const url = new URL(app.url + path);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const id = res.headers['x-request-id'];
          resolve({
            status: res.statusCode ?? 0,
            requestId: Array.isArray(id) ? id.join('|') : id,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    req.on('error', reject);
    const grouped = new Map<string, string[]>();
    for (const [name, value] of options.headers ?? []) {
      grouped.set(name, [...(grouped.get(name) ?? []), value]);
    }
    for (const [name, values] of grouped) {
      req.setHeader(name, values.length === 1 ? values[0]! : values);
    }
    if (options.body !== undefined) req.setHeader('content-type', 'application/json');
    req.end(options.body);
  });
}

/** Writes raw bytes on a socket and returns the raw response head (status line and headers). */
function sendRaw(app: RunningApp, bytes: Buffer): Promise<string> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.end(bytes);
  });
}

async function signUp(app: RunningApp, email: string) {
  await app.auth.register({ email, password: PASSWORD, name: 'Ada' });
  const { token } = await app.auth.login({ email, password: PASSWORD });
  return { token, id: (await app.auth.verifyAccessToken(token)).userId };
}

describe.each(adapters)('request ids on $name', (adapter) => {
  let app: RunningApp;
  let token: string;
  let userId: string;
  beforeAll(async () => {
    app = await adapter.start({ authOptions: RELAXED });
    ({ token, id: userId } = await signUp(app, 'ada@example.com'));
  });
  afterAll(async () => {
    await app.close();
  });

  it('a valid incoming X-Request-Id is echoed on gatehouse answers (auth route, error), not on a granted app route by default', async () => {
    const login = await send(app, '/api/auth/login', {
      headers: [['X-Request-Id', 'edge-login-1']],
      body: JSON.stringify({ email: 'ada@example.com', password: PASSWORD }),
    });
    expect([login.status, login.requestId]).toEqual([200, 'edge-login-1']);
    const granted = await send(app, `/api/users/${userId}`, {
      headers: [
        ['authorization', `Bearer ${token}`],
        ['x-request-id', '0f8e2c1d-aaaa-4bbb-8ccc-123456789abc'],
      ],
    });
    expect([granted.status, granted.requestId]).toEqual([200, undefined]);
    const missing = await send(app, '/nowhere', { headers: [['x-request-id', 'svc.api:42_a']] });
    expect([missing.status, missing.requestId]).toEqual([404, 'svc.api:42_a']);
  });

  it('with everyResponse: true a granted app route echoes the id too, and makes one without', async () => {
    const every = await adapter.start({ authOptions: RELAXED, requestId: { everyResponse: true } });
    try {
      const { token: everyToken, id } = await signUp(every, 'grace@example.com');
      const granted = await send(every, `/api/users/${id}`, {
        headers: [
          ['authorization', `Bearer ${everyToken}`],
          ['x-request-id', '0f8e2c1d-aaaa-4bbb-8ccc-123456789abc'],
        ],
      });
      expect([granted.status, granted.requestId]).toEqual([
        200,
        '0f8e2c1d-aaaa-4bbb-8ccc-123456789abc',
      ]);
      const made = await send(every, `/api/users/${id}`, {
        headers: [['authorization', `Bearer ${everyToken}`]],
      });
      expect([made.status, made.requestId]).toEqual([200, expect.stringMatching(UUID)]);
    } finally {
      await every.close();
    }
  });

  it('without an incoming id each request gets a new UUID', async () => {
    const first = await send(app, '/api/auth/me');
    const second = await send(app, '/api/auth/me');
    expect(first.requestId).toMatch(UUID);
    expect(second.requestId).toMatch(UUID);
    expect(first.requestId).not.toBe(second.requestId);
  });

  it.each([
    ['too long (129 characters)', [['x-request-id', 'a'.repeat(129)]]],
    ['with spaces', [['x-request-id', 'abc def']]],
    ['unicode (latin1 bytes)', [['x-request-id', 'r\u00e9q-\u00ff']]],
    ['with a NEL byte (0x85)', [['x-request-id', 'abc\u0085Set-Cookie: evil=1']]],
    ['percent-encoded CRLF', [['x-request-id', 'abc%0d%0aSet-Cookie:%20evil=1']]],
    ['a quote and angle brackets', [['x-request-id', '"><script>alert(1)</script>']]],
    [
      'sent twice (joined "a, b")',
      [
        ['x-request-id', 'a'],
        ['x-request-id', 'b'],
      ],
    ],
  ] as [string, [string, string][]][])(
    'an invalid incoming id %s is replaced by a new one, never echoed',
    async (_name, headers) => {
      const answer = await send(app, '/api/auth/me', { headers });
      expect(answer.status).toBe(401);
      expect(answer.requestId).toMatch(UUID);
      expect(JSON.stringify(answer.headers)).not.toContain('evil');
      expect(answer.body).not.toContain('script');
    },
  );

  it.each([
    ['CRLF then a header', 'X-Request-Id: ok-1\r\nSet-Cookie: evil=1\r\n'],
    ['an obs-fold continuation line', 'X-Request-Id: abc\r\n Set-Cookie: evil=1\r\n'],
    ['a bare LF', 'X-Request-Id: abc\nSet-Cookie: evil=1\r\n'],
    ['a bare CR', 'X-Request-Id: abc\rSet-Cookie: evil=1\r\n'],
  ])('attack: a request id with CRLF cannot inject a response header (%s)', async (_name, line) => {
    const head = await sendRaw(
      app,
      Buffer.from(
        `GET /api/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\n${line}Connection: close\r\n\r\n`,
        'latin1',
      ),
    );
    // One response, whatever its status (Node's parser may refuse the request with a 400).
    expect(head.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
    const lines = head.split('\r\n\r\n')[0]!.split('\r\n').slice(1);
    for (const headerLine of lines) {
      expect(headerLine.toLowerCase()).not.toMatch(/^set-cookie:.*evil/);
    }
    const idLine = lines.find((l) => l.toLowerCase().startsWith('x-request-id:'));
    if (idLine !== undefined) {
      expect(idLine.slice('x-request-id:'.length).trim()).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    }
  });

  it.each([
    ['401 of authenticate()', 'POST', '/api/orders', [], JSON.stringify({ total: '1' })],
    ['403 of authorize()', 'GET', '/api/users/someone-else', ['token'], undefined],
    ['404 of notFound', 'GET', '/nowhere', [], undefined],
    ['500 of an app bug', 'GET', '/api/boom', [], undefined],
    ['400 of a malformed body on an auth route', 'POST', '/api/auth/login', [], '{'],
    [
      '413 of an oversized body on an auth route',
      'POST',
      '/api/auth/login',
      [],
      JSON.stringify({ pad: 'x'.repeat(20_000) }),
    ],
    ['400 of a malformed URL', 'GET', '/api/users/%zz', ['token'], undefined],
    ['401 of an auth route', 'GET', '/api/auth/me', [], undefined],
  ] as [string, string, string, string[], string | undefined][])(
    'the %s carries the header',
    async (name, method, path, auth, body) => {
      const id = `err-${name.slice(0, 3)}-${adapter.name}`;
      const headers: [string, string][] = [['x-request-id', id]];
      if (auth.includes('token')) headers.push(['authorization', `Bearer ${token}`]);
      const answer = await send(app, path, { method, headers, ...(body ? { body } : {}) });
      expect(answer.status).toBe(Number(name.slice(0, 3)));
      expect(answer.requestId).toBe(id);
      // And a new one when none came in.
      const fresh = await send(app, path, {
        method,
        headers: headers.slice(1),
        ...(body ? { body } : {}),
      });
      expect(fresh.status).toBe(answer.status);
      expect(fresh.requestId).toMatch(UUID);
    },
  );

  it('the id is in the audit event of a failed login', async () => {
    const answer = await send(app, '/api/auth/login', {
      headers: [['x-request-id', `login-fail-${adapter.name}`]],
      body: JSON.stringify({ email: 'ada@example.com', password: 'wrong one!' }),
    });
    expect(answer.status).toBe(401);
    const event = app.events.find(
      (e) => e.event === 'LOGIN_FAILED' && e.requestId === `login-fail-${adapter.name}`,
    );
    expect(event).toBeDefined();
    // A made id too: the event's is the response's.
    const made = await send(app, '/api/auth/login', {
      body: JSON.stringify({ email: 'ada@example.com', password: 'wrong again!' }),
    });
    expect(app.events.at(-1)).toMatchObject({ event: 'LOGIN_FAILED', requestId: made.requestId });
  });

  it('the id is in the ACCESS_DENIED event of a refused authorize()', async () => {
    const answer = await send(app, '/api/users/someone-else', {
      headers: [['authorization', `Bearer ${token}`]],
    });
    expect(answer.status).toBe(403);
    expect(app.events.at(-1)).toMatchObject({
      event: 'ACCESS_DENIED',
      requestId: answer.requestId,
    });
  });

  it('the id is in the 500 log line of an app bug', async () => {
    const answer = await send(app, '/api/boom', { headers: [['x-request-id', 'boom-1']] });
    expect(answer.status).toBe(500);
    const line = app.logs.find(
      (l) => l.message === 'request failed' && l.data?.['requestId'] === 'boom-1',
    );
    expect(line?.level).toBe('error');
    expect(String(line?.data?.['stack'])).toContain('apps.ts');
  });
});

/**
 * Once armed for `count` checks, holds each password check until all `count` are waiting, then
 * lets them go in reverse order: that many requests are in flight at once, finishing out of order.
 */
class BarrierHasher extends CountingHasher {
  #waiting: (() => void)[] = [];
  #count = 0;
  arm(count: number): void {
    this.#count = count;
  }
  override async verify(password: string, hash: string): Promise<boolean> {
    if (this.#count > 0) {
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
        if (this.#waiting.length === this.#count) {
          this.#count = 0;
          for (const release of this.#waiting.splice(0).reverse()) release();
        }
      });
    }
    return super.verify(password, hash);
  }
}

describe.each(adapters)('concurrent requests on $name', (adapter) => {
  const N = 12;
  const hasher = new BarrierHasher();
  let app: RunningApp;
  beforeAll(async () => {
    // Every check at once (the default queue runs one at a time on a 2-core machine).
    app = await adapter.start({
      authOptions: { ...RELAXED, passwordHasher: hasher, passwords: { hashConcurrency: N } },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  function emailHashOf(email: string): string {
    return internalsOf(app.auth).audit.hashEmail(email);
  }

  function failedLogin(i: number, id?: string) {
    if (i === 0) hasher.arm(N);
    return send(app, '/api/auth/login', {
      headers: id === undefined ? [] : [['x-request-id', id]],
      body: JSON.stringify({ email: `user${i}@example.com`, password: 'wrong one!' }),
    });
  }

  function eventOf(i: number, events: AuditEvent[]) {
    const hash = emailHashOf(`user${i}@example.com`);
    return events.find((e) => e.event === 'LOGIN_FAILED' && e.metadata['emailHash'] === hash);
  }

  it('two concurrent requests never swap ids (12 logins in flight at once, given ids)', async () => {
    const before = app.events.length;
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => failedLogin(i, `conc-${adapter.name}-${i}`)),
    );
    const events = app.events.slice(before);
    for (let i = 0; i < N; i++) {
      expect(answers[i]!.requestId).toBe(`conc-${adapter.name}-${i}`);
      expect(eventOf(i, events)?.requestId).toBe(`conc-${adapter.name}-${i}`);
    }
  });

  it('two concurrent requests never swap ids (12 logins in flight at once, made ids)', async () => {
    const before = app.events.length;
    const answers = await Promise.all(Array.from({ length: N }, (_, i) => failedLogin(i)));
    const events = app.events.slice(before);
    expect(new Set(answers.map((a) => a.requestId)).size).toBe(N);
    for (let i = 0; i < N; i++) {
      expect(answers[i]!.requestId).toMatch(UUID);
      expect(eventOf(i, events)?.requestId).toBe(answers[i]!.requestId);
    }
  });
});

describe.each(adapters)('rate limits on $name', (adapter) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await adapter.start({ authOptions: { rateLimits: { login: '1/min' } } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('the 429 carries the header and its RATE_LIMITED event the id', async () => {
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'wrong one!' });
    await send(app, '/api/auth/login', { body });
    const limited = await send(app, '/api/auth/login', {
      body,
      headers: [['x-request-id', 'limited-1']],
    });
    expect([limited.status, limited.requestId]).toEqual([429, 'limited-1']);
    expect(app.events.find((e) => e.event === 'RATE_LIMITED')?.requestId).toBe('limited-1');
  });
});
