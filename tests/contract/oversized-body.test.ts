import { request as httpRequest } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import express, { type RequestHandler } from 'express';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { gatehouseExpress } from '../../adapters/express/index.js';
import { contractFrameworkErrors, gatehouseFastify } from '../../adapters/fastify/index.js';
import { MAX_BODY_BYTES, parseJsonBody, readRequestBody } from '../../src/http/index.js';
import { seedPolicy } from '../../src/index.js';
import { makeAuth } from '../helpers/auth.js';

// Issue 10: a JSON body over 16 KiB sent with `Transfer-Encoding: chunked` (no Content-Length)
// made the Express adapter destroy the request; Node then dropped `req.socket` and the app's
// `res.on('finish')` logger, reading `req.ip`, threw an uncaught TypeError that ended the process.
// Each app here has such a logger, like the examples', and runs in this process: an uncaught
// exception is caught by the spy below and fails the test.

const ORIGIN = 'http://127.0.0.1';
const OVERSIZED = MAX_BODY_BYTES + 4096;

interface LogLine {
  method: string;
  path: string;
  status: number;
  ip: string | undefined;
}

interface App {
  url: string;
  port: number;
  logs: LogLine[];
  close(): Promise<void>;
}

/** The routes of gatehouse's router that read a body, under `prefix`. */
const authBodyRoutes = (prefix: string) =>
  [
    ['POST', `${prefix}/register`],
    ['POST', `${prefix}/login`],
    ['POST', `${prefix}/refresh`],
    ['POST', `${prefix}/logout`],
    ['POST', `${prefix}/logout-all`],
    ['PUT', `${prefix}/password`],
  ] as const;

// The app's own route reads its body with the same 16 KiB reader as the examples do.
const APP_ROUTE = ['POST', '/api/notes'] as const;

/** Express: bearer mode and a cookie-mode router under /app/api/auth, as in the example. */
const EXPRESS_ROUTES = [
  ...authBodyRoutes('/api/auth'),
  ...authBodyRoutes('/app/api/auth'),
  APP_ROUTE,
];
const FASTIFY_ROUTES = [...authBodyRoutes('/api/auth'), APP_ROUTE];

async function startExpress(): Promise<App> {
  const bearer = makeAuth({ policy: seedPolicy }).auth;
  const cookie = makeAuth({ policy: seedPolicy, cookies: { trustedOrigins: [ORIGIN] } }).auth;
  const gate = gatehouseExpress(bearer);
  const pageGate = gatehouseExpress(cookie, { prefix: '/app/api/auth' });
  const logs: LogLine[] = [];
  const app = express();
  app.use((req, res, next) => {
    res.on('finish', () =>
      logs.push({ method: req.method, path: req.path, status: res.statusCode, ip: req.ip }),
    );
    next();
  });
  const jsonBody: RequestHandler = async (req, _res, next) => {
    req.body = parseJsonBody(
      await readRequestBody(req, req.headers['content-length'], MAX_BODY_BYTES),
      req.headers['content-type'],
    );
    next();
  };
  app.use(gate.router);
  app.use(pageGate.router);
  app.post('/api/notes', jsonBody, (req, res) => {
    res.status(201).json({ success: true, note: req.body });
  });
  app.post('/api/guarded-notes', gate.authenticate(), jsonBody, (req, res) => {
    res.status(201).json({ success: true, note: req.body });
  });
  app.get('/api/ping', (_req, res) => {
    res.json({ success: true });
  });
  app.use(gate.notFound);
  app.use(gate.errorHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function startFastify(): Promise<App> {
  const { auth } = makeAuth({ policy: seedPolicy });
  const logs: LogLine[] = [];
  const app = Fastify({ frameworkErrors: contractFrameworkErrors });
  await app.register(gatehouseFastify, { auth, notFoundHandler: true });
  // Like the example app: every error of the app answers the contract's body.
  app.setErrorHandler((error, _request, reply) => app.sendAuthError(reply, error));
  app.addHook('onResponse', async (request, reply) => {
    logs.push({
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      status: reply.statusCode,
      ip: request.ip,
    });
  });
  await app.register(async (routes) => {
    routes.removeAllContentTypeParsers();
    routes.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
      (request, body, done) => {
        try {
          done(null, parseJsonBody(body as Buffer, request.headers['content-type']));
        } catch (err) {
          done(err as Error);
        }
      },
    );
    routes.post('/api/notes', async (request, reply) => {
      reply.code(201);
      return { success: true, note: request.body };
    });
    routes.post('/api/guarded-notes', { preHandler: app.authenticate }, async (request, reply) => {
      reply.code(201);
      return { success: true, note: request.body };
    });
  });
  app.get('/api/ping', async () => ({ success: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, logs, close: () => app.close() };
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** Sends a JSON body over 16 KiB in chunks without Content-Length (Transfer-Encoding: chunked). */
function sendChunkedOversized(app: App, method: string, path: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: app.port,
        method,
        path,
        agent: false,
        headers: { 'content-type': 'application/json', origin: ORIGIN },
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
    expect(req.getHeader('content-length')).toBeUndefined();
    req.write(`{"email":"${'a'.repeat(4096)}`);
    for (let sent = 4096; sent < OVERSIZED; sent += 4096) req.write('a'.repeat(4096));
    req.end('"}');
  });
}

/**
 * Opens a raw connection, sends the head of a chunked request and then writes body chunks every
 * 5 ms, forever: resolves with what the server wrote and how long it kept the connection open.
 */
function sendEndlessChunkedBody(
  app: App,
  path: string,
): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(app.port, '127.0.0.1');
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      response += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          'Transfer-Encoding: chunked\r\n\r\n',
      );
      const chunk = 'a'.repeat(4096);
      timer = setInterval(() => {
        if (socket.writable) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      }, 5);
    });
  });
}

describe.each([
  ['express', startExpress, EXPRESS_ROUTES],
  ['fastify', startFastify, FASTIFY_ROUTES],
] as const)('%s adapter: oversized chunked bodies', (_name, start, routes) => {
  let app: App;
  const uncaught = vi.fn();

  beforeAll(async () => {
    process.on('uncaughtException', uncaught);
    app = await start();
  });

  afterAll(async () => {
    process.off('uncaughtException', uncaught);
    await app?.close();
  });

  afterEach(() => {
    expect(uncaught).not.toHaveBeenCalled();
  });

  it.each(routes)(
    'chunked oversized body to %s %s does not crash the process (413, then the same process still answers)',
    async (method, path) => {
      const response = await sendChunkedOversized(app, method, path);
      expect(response.status).toBe(413);
      expect(response.body).toEqual({
        success: false,
        error: 'The request body is too large.',
        code: 'PAYLOAD_TOO_LARGE',
      });
      expect(response.headers['connection']).toBe('close');

      const ping = await fetch(`${app.url}/api/ping`);
      expect(ping.status).toBe(200);
      // The finish logger ran with the request intact: it could read the client's address.
      await vi.waitFor(() =>
        expect(app.logs).toContainEqual({ method, path, status: 413, ip: '127.0.0.1' }),
      );
      expect(uncaught).not.toHaveBeenCalled();
    },
  );

  it('an endless chunked body to /api/auth/login gets 413 and the connection is closed (the server does not read forever)', async () => {
    const { response, closedAfterMs } = await sendEndlessChunkedBody(app, '/api/auth/login');
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(response).toContain('"code":"PAYLOAD_TOO_LARGE"');
    expect(closedAfterMs).toBeLessThan(5000);
    expect((await fetch(`${app.url}/api/ping`)).status).toBe(200);
  });

  it('an endless chunked body to a guarded app route is answered and the connection is closed', async () => {
    const { response, closedAfterMs } = await sendEndlessChunkedBody(app, '/api/guarded-notes');
    // Express refuses the missing token before reading the body; Fastify parses the body first.
    expect(response).toMatch(/^HTTP\/1\.1 (401|413) /);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(response).toMatch(/"code":"(UNAUTHENTICATED|PAYLOAD_TOO_LARGE)"/);
    expect(closedAfterMs).toBeLessThan(5000);
    expect((await fetch(`${app.url}/api/ping`)).status).toBe(200);
  });

  it.each(['/api/auth/login', '/api/notes'])(
    'a client that aborts its chunked body to %s halfway does not crash the process',
    async (path) => {
      await new Promise<void>((resolve) => {
        const socket = connect(app.port, '127.0.0.1', () => {
          socket.write(
            `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
              'Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n',
          );
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve());
      });
      // Give the server the time to notice the abort and answer into the closed socket.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await fetch(`${app.url}/api/ping`)).status).toBe(200);
      expect(uncaught).not.toHaveBeenCalled();
    },
  );

  it('a body within the limit is still read whole (chunked, 15 KiB)', async () => {
    const text = 'n'.repeat(15 * 1024);
    const response = await fetch(`${app.url}/api/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          const json = new TextEncoder().encode(JSON.stringify({ text }));
          for (let i = 0; i < json.length; i += 4096) controller.enqueue(json.slice(i, i + 4096));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ success: true, note: { text } });
  });
});
