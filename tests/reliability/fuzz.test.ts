// The reliability fuzz must find what it exists for: a 5xx, a body outside the contract, a server
// that never answers; and a failure must come back reproducible (seed, case) and shrunk. Run
// against small deliberately broken servers on 127.0.0.1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { contractProblem, judge, runFuzz } from './fuzz.js';
import { caseBytes, generateCase } from './fuzz-cases.js';
import { exchange, parseResponses, type RawResponse } from './raw-http.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const json = (status: number, body: unknown): RawResponse => ({
  status,
  headers: { 'content-type': ['application/json; charset=utf-8'] },
  body: Buffer.from(JSON.stringify(body)),
  truncated: false,
});

describe('contractProblem', () => {
  it('accepts the contract error body with its registry status, and 408 / 431 as documented', () => {
    expect(
      contractProblem(json(401, { success: false, error: 'x', code: 'UNAUTHENTICATED' }), 'GET'),
    ).toBeNull();
    expect(
      contractProblem(json(408, { success: false, error: 'x', code: 'VALIDATION_ERROR' }), 'GET'),
    ).toBeNull();
    expect(
      contractProblem(json(431, { success: false, error: 'x', code: 'PAYLOAD_TOO_LARGE' }), 'GET'),
    ).toBeNull();
    expect(contractProblem(json(200, { success: true, user: {} }), 'GET')).toBeNull();
    expect(contractProblem(json(200, { keys: [] }), 'GET')).toBeNull();
  });

  it('flags an error body that leaks a stack or details beside the three contract fields', () => {
    const leak = json(400, { success: false, error: 'x', code: 'VALIDATION_ERROR', stack: 'at f' });
    expect(contractProblem(leak, 'POST')).toMatch(/fields code,error,stack,success/);
  });

  it("flags Node's empty 400 (no content type, no body) and a text/plain answer to OPTIONS", () => {
    const empty: RawResponse = {
      status: 400,
      headers: {},
      body: Buffer.alloc(0),
      truncated: false,
    };
    expect(contractProblem(empty, 'GET')).toMatch(/400 without a content type/);
    const options: RawResponse = {
      status: 200,
      headers: { 'content-type': ['text/plain'] },
      body: Buffer.from('GET, HEAD'),
      truncated: false,
    };
    expect(contractProblem(options, 'OPTIONS')).toMatch(/200 text\/plain body/);
  });

  it('flags a code answered with another status than the registry gives it, and a password hash', () => {
    expect(
      contractProblem(json(400, { success: false, error: 'x', code: 'NOT_FOUND' }), 'GET'),
    ).toMatch(/NOT_FOUND with status 400/);
    const hash = json(200, { success: true, user: { hash: '$2b$10$abcdefghijklmnopqrstuv' } });
    expect(contractProblem(hash, 'GET')).toMatch(/password hash/);
  });
});

describe('parseResponses', () => {
  it('frames chunked and pipelined answers, and a HEAD answer replaced by a parse error with a body', () => {
    const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    const second = 'HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}';
    const both = parseResponses(Buffer.from(chunked + second), ['GET', 'GET'], false);
    expect(both.responses.map((r) => [r.status, r.body.toString()])).toEqual([
      [200, 'abc'],
      [404, '{}'],
    ]);
    const error = 'HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}';
    const head = parseResponses(Buffer.from(error), ['HEAD'], true);
    expect(head.responses[0]!.body.toString()).toBe('{}');
  });
});

describe('generated cases', () => {
  it('case I of seed S is the same bytes every time (a printed seed reproduces a failure)', () => {
    const ctx = { host: '127.0.0.1:1', sources: 32, token: 't', userId: 'u' };
    for (const index of [0, 1, 77, 4321]) {
      const a = Buffer.concat(caseBytes(generateCase(42, index, ctx)));
      const b = Buffer.concat(caseBytes(generateCase(42, index, ctx)));
      expect(a.equals(b)).toBe(true);
    }
    const other = Buffer.concat(caseBytes(generateCase(43, 0, ctx)));
    expect(other.equals(Buffer.concat(caseBytes(generateCase(42, 0, ctx))))).toBe(false);
  });
});

describe('runFuzz against a broken server', () => {
  it('a 500 answering a __proto__ body fails "zero 5xx" with the seed and a shrunk case that still holds __proto__', async () => {
    let id = 0;
    const options = {
      requireHostHeader: false,
      headersTimeout: 500,
      requestTimeout: 1000,
      connectionsCheckingInterval: 100,
    };
    const server = createServer(options, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('error', () => {});
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        const send = (status: number, value: unknown, type = 'application/json') =>
          res
            .writeHead(status, { 'content-type': type })
            .end(typeof value === 'string' ? value : JSON.stringify(value));
        if (req.url === '/api/auth/register')
          return send(201, { success: true, user: { id: `u${id++}` } });
        if (req.url === '/api/auth/login' && body.includes('quartz meadow')) {
          return send(200, { success: true, token: 't', user: { id: 'u', role: 'user' } });
        }
        if (body.includes('__proto__'))
          return send(500, { success: false, error: 'x', code: 'SERVER_ERROR' });
        if (req.method === 'OPTIONS') return send(200, 'GET, HEAD', 'text/plain');
        send(404, { success: false, error: 'Not found.', code: 'NOT_FOUND' });
      });
    });
    // Below the routes: close without an answer (allowed: "answered or closed").
    server.on('clientError', (_err, socket) => socket.destroy());
    const port = await listen(server);

    const checks = await runFuzz({
      app: 'express',
      baseUrl: `http://127.0.0.1:${port}`,
      seed: 99,
      count: 400,
      alive: () => true,
      timeouts: { headersMs: 500, requestMs: 1000 },
    });
    const byName = (part: string) => checks.find((c) => c.name.includes(part))!;
    expect(byName('400 generated requests sent').passed).toBe(true);
    expect(byName('the process never exits').passed).toBe(true);
    const fivexx = byName('zero 5xx');
    expect(fivexx.passed).toBe(false);
    expect(fivexx.detail).toMatch(/seed 99/);
    expect(fivexx.detail).toMatch(/shrunk in \d+ tries to .*__proto__.* -> 500/);
    const contract = byName('every answer is the contract body');
    expect(contract.passed).toBe(false);
    expect(contract.detail).toMatch(/a 200 text\/plain body/);
  }, 60_000);

  it('a server that holds a request without answering or closing is judged a hang at the deadline', async () => {
    const server = createServer(() => {});
    const port = await listen(server);
    const c = generateCase(1, 0, { host: `127.0.0.1:${port}`, sources: 1 });
    const ex = await exchange({
      host: '127.0.0.1',
      port,
      parts: [Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)],
      methods: ['GET'],
      expect: 1,
      deadlineMs: 300,
    });
    expect(ex.end).toBe('deadline');
    expect(judge({ ...c, expect: 1 }, ex, 300)).toEqual({
      kind: 'hang',
      why: 'neither answered nor closed within 300 ms (0 of 1 answers)',
    });
    server.closeAllConnections();
  });
});
