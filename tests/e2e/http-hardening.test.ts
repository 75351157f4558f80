import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS } from '../../examples/common/seed.js';
import { type RunningExample, request, startExample } from './example-process.js';

// Issue 10, availability of the example servers, each a real child process: a chunked body over
// 16 KiB must not take the process down, slow clients are cut off by the server's timeouts (set
// low here through the environment), and errors Node raises before any route runs are answered
// with the contract's body `{ success: false, error, code }`.

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const OVERSIZED = 16 * 1024 + 4096;

/** A raw exchange: what the server wrote until it closed, and how long that took. */
interface RawExchange {
  status: number;
  head: string;
  body: unknown;
  closedAfterMs: number;
}

function parseRaw(text: string, closedAfterMs: number): RawExchange {
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const rest = end === -1 ? '' : text.slice(end + 4);
  let body: unknown = rest;
  try {
    body = JSON.parse(rest);
  } catch {}
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head: head.toLowerCase(), body, closedAfterMs };
}

/**
 * Opens a raw connection, writes `first`, then writes each of `trickle` one at a time every
 * `everyMs`; resolves when the server closes the connection (or after 15 s, closing it).
 */
function rawExchange(
  port: number,
  first: string,
  trickle: string[] = [],
  everyMs = 200,
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => socket.destroy(), 15_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve(parseRaw(text, Date.now() - started));
    });
    socket.on('connect', () => {
      socket.write(first);
      let next = 0;
      timer = setInterval(() => {
        if (next < trickle.length && socket.writable) socket.write(trickle[next++]!);
      }, everyMs);
    });
  });
}

/** A JSON body over 16 KiB in chunks, without Content-Length. */
function sendChunkedOversized(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
    req.write('{"name":"');
    for (let sent = 0; sent < OVERSIZED; sent += 4096) req.write('a'.repeat(4096));
    req.end('"}');
  });
}

const CONTRACT_ERROR = {
  success: false,
  error: expect.any(String),
  code: expect.stringMatching(/^[A-Z_]+$/),
};

describe.each(['express-api', 'fastify-api'] as const)('example %s under hostile HTTP', (name) => {
  let app: RunningExample;
  let token: string;
  let userId: string;

  async function stillAnswers() {
    expect(app.child.exitCode).toBeNull();
    const res = await request(`${app.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    app = await startExample(name, {
      HTTP_HEADERS_TIMEOUT: `${HEADERS_TIMEOUT_MS}ms`,
      HTTP_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS}ms`,
      AUTH_LOGIN_RATE_LIMIT: '100/min',
    });
    const demo = DEMO_ACCOUNTS[0];
    const login = await request(`${app.url}/api/auth/login`, {
      body: { email: demo.email, password: demo.password },
    });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    token = login.body.token;
    userId = login.body.user.id;
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
  });

  describe('chunked bodies over 16 KiB', () => {
    const routes = [
      ['POST', '/api/auth/register'],
      ['POST', '/api/auth/login'],
      ['POST', '/api/auth/refresh'],
      ['POST', '/api/auth/logout'],
      ['POST', '/api/auth/logout-all'],
      ['PUT', '/api/auth/password'],
      ['PUT', '/api/users/:id'],
      ['POST', '/api/orders'],
      ...(name === 'express-api'
        ? ([
            ['POST', '/app/api/auth/register'],
            ['POST', '/app/api/auth/login'],
            ['POST', '/app/api/auth/refresh'],
            ['POST', '/app/api/auth/logout'],
            ['POST', '/app/api/auth/logout-all'],
            ['PUT', '/app/api/auth/password'],
          ] as const)
        : []),
    ] as const;

    it.each(routes)(
      'chunked oversized body to %s %s does not crash the process (413, then the same process still answers)',
      async (method, path) => {
        const response = await sendChunkedOversized(
          app.port,
          method,
          path.replace(':id', userId),
          // The guarded routes read their body after the guard: send a valid token.
          { authorization: `Bearer ${token}`, origin: app.url },
        );
        expect(response.status).toBe(413);
        expect(response.body).toEqual({ ...CONTRACT_ERROR, code: 'PAYLOAD_TOO_LARGE' });
        expect(response.headers['connection']).toBe('close');
        await stillAnswers();
      },
    );
  });

  describe('slow clients', () => {
    it('a slow body (one byte every 200 ms) is cut off by requestTimeout with 408 and the connection closed', async () => {
      const body = JSON.stringify({ email: 'slow@example.com', password: 'x'.repeat(40) });
      const exchange = await rawExchange(
        app.port,
        `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`,
        [...body],
      );
      expect(exchange.status).toBe(408);
      expect(exchange.body).toEqual({ ...CONTRACT_ERROR, code: 'VALIDATION_ERROR' });
      expect(exchange.head).toContain('connection: close');
      // Node checks the timeouts every connectionsCheckingInterval (≤ 1 s here, a quarter of the
      // shortest timeout): cut off within the timeout plus that, not after the body's 12 s.
      expect(exchange.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(exchange.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2000);
      await stillAnswers();
    });

    it('a slow request head (one header line every 200 ms) is cut off by headersTimeout with 408', async () => {
      const lines = Array.from({ length: 60 }, (_, i) => `X-Slow-${i}: ${i}\r\n`);
      const exchange = await rawExchange(
        app.port,
        'GET /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n',
        lines,
      );
      expect(exchange.status).toBe(408);
      expect(exchange.body).toEqual({ ...CONTRACT_ERROR, code: 'VALIDATION_ERROR' });
      expect(exchange.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(exchange.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
      await stillAnswers();
    });

    it('a connection that sends nothing is closed by headersTimeout', async () => {
      const exchange = await rawExchange(app.port, '');
      expect(exchange.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
      await stillAnswers();
    });
  });

  describe('errors below the routes get the contract body', () => {
    it.each([
      [
        'an unknown method (FOO / HTTP/1.1)',
        'FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
        400,
        'VALIDATION_ERROR',
      ],
      ['a malformed request line (GARBAGE)', 'GARBAGE\r\n\r\n', 400, 'VALIDATION_ERROR'],
      [
        'a 17 KiB header',
        `GET /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
        431,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'Expect: 1',
        'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 1\r\nContent-Length: 2\r\n\r\n',
        417,
        'VALIDATION_ERROR',
      ],
    ])('%s is answered with the contract JSON body', async (_label, raw, status, code) => {
      const exchange = await rawExchange(app.port, raw);
      expect(exchange.status).toBe(status);
      expect(exchange.head).toContain('content-type: application/json; charset=utf-8');
      expect(exchange.head).toContain('connection: close');
      expect(exchange.body).toEqual({ ...CONTRACT_ERROR, code });
      await stillAnswers();
    });
  });
});
