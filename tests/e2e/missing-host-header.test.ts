// Found by the reliability fuzz (issue 14): an HTTP/1.1 request without a Host header was answered
// by Node's own check, 400 with no body at all, outside the contract. The examples now turn that
// check off and refuse such a request themselves, with the contract's body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../reliability/raw-http.js';
import { type RunningExample, startExample } from './example-process.js';

const apps: Record<'express-api' | 'fastify-api', RunningExample | undefined> = {
  'express-api': undefined,
  'fastify-api': undefined,
};

beforeAll(async () => {
  const [express, fastify] = await Promise.all([
    startExample('express-api'),
    startExample('fastify-api'),
  ]);
  apps['express-api'] = express;
  apps['fastify-api'] = fastify;
}, 180_000);

afterAll(async () => {
  await Promise.all(Object.values(apps).map((app) => app?.stop()));
});

async function send(app: RunningExample, head: string) {
  const ex = await exchange({
    host: '127.0.0.1',
    port: app.port,
    parts: [Buffer.from(head)],
    methods: ['GET'],
    expect: 1,
    deadlineMs: 10_000,
  });
  const res = ex.responses[0]!;
  return { ...res, json: JSON.parse(res.body.toString('utf8')) as Record<string, unknown> };
}

describe.each(['express-api', 'fastify-api'] as const)('%s', (name) => {
  it('an HTTP/1.1 request without a Host header is answered 400 VALIDATION_ERROR with the contract body, not an empty 400', async () => {
    const res = await send(apps[name]!, 'GET /api/auth/me HTTP/1.1\r\n\r\n');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']?.[0]).toMatch(/^application\/json/);
    expect(res.json).toEqual({
      success: false,
      error: 'The Host header is required.',
      code: 'VALIDATION_ERROR',
    });
  });

  it('a page requested without a Host header gets the same 400 (the check runs before every route)', async () => {
    const res = await send(apps[name]!, 'GET / HTTP/1.1\r\n\r\n');
    expect(res.status).toBe(400);
    expect(res.json['code']).toBe('VALIDATION_ERROR');
  });

  it('an HTTP/1.0 request without Host is served as before (only HTTP/1.1 requires it)', async () => {
    const res = await send(apps[name]!, 'GET /api/auth/me HTTP/1.0\r\n\r\n');
    expect(res.status).toBe(401);
    expect(res.json['code']).toBe('UNAUTHENTICATED');
  });
});
