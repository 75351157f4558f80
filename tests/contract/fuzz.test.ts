import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/index.js';
import { adapters, type RunningApp } from './apps.js';
import { call, signUp } from './client.js';

const printable = fc
  .integer({ min: 0x20, max: 0xff })
  .filter((c) => c !== 0x7f)
  .map((c) => String.fromCharCode(c));
// Header values as fetch sends them: bytes, no CR/LF/NUL, no surrounding whitespace.
const headerText = fc.string({ unit: printable, maxLength: 80 }).map((s) => s.trim());

const path = fc.oneof(
  fc.constantFrom(
    '/api/auth/register',
    '/api/auth/login',
    '/api/auth/refresh',
    '/api/auth/logout',
    '/api/auth/logout-all',
    '/api/auth/me',
    '/api/auth/password',
    '/.well-known/jwks.json',
    '/api/orders',
    '/api/whoami',
  ),
  fc.string({ maxLength: 40 }).map((id) => `/api/users/${encodeURIComponent(id)}`),
  fc
    .tuple(
      fc.constantFrom('/api/auth/login', '/api/auth/me', '/api/users/x'),
      fc.string({ maxLength: 30 }),
    )
    .map(([p, q]) => `${p}?${encodeURIComponent(q)}=${encodeURIComponent(q)}`),
);

const fieldValue = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constant('correct horse battery'),
  fc.emailAddress(),
);

const body = fc.oneof(
  fc.constant(undefined),
  fc
    .record(
      {
        email: fieldValue,
        password: fieldValue,
        name: fieldValue,
        refreshToken: fieldValue,
        currentPassword: fieldValue,
        newPassword: fieldValue,
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }),
);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  path,
  contentType: fc.option(
    fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
      ),
      headerText,
    ),
  ),
  authorization: fc.option(
    fc.oneof(
      fc.constant('valid'),
      headerText.map((t) => `Bearer ${t}`),
      headerText,
      fc.constant('Bearer'),
    ),
  ),
  cookie: fc.option(headerText),
  origin: fc.option(headerText),
  csrf: fc.option(headerText),
  forwardedFor: fc.option(headerText),
  body,
});

describe.each(adapters)('fuzzing the auth routes and a protected route on $name', (adapter) => {
  let app: RunningApp;
  let token: string;
  beforeAll(async () => {
    app = await adapter.start({
      authOptions: { rateLimits: { login: false, register: false, refresh: false } },
    });
    token = (await signUp(app)).token;
  });
  afterAll(() => app.close());

  it('never answers 5xx, and every error body matches the contract schema', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {};
        if (r.contentType !== null) headers['content-type'] = r.contentType;
        if (r.authorization !== null) {
          headers['authorization'] =
            r.authorization === 'valid' ? `Bearer ${token}` : r.authorization;
        }
        if (r.cookie !== null) headers['cookie'] = r.cookie;
        if (r.origin !== null) headers['origin'] = r.origin;
        if (r.csrf !== null) headers['x-csrf-token'] = r.csrf;
        if (r.forwardedFor !== null) headers['x-forwarded-for'] = r.forwardedFor;
        const withBody = r.method !== 'GET' && r.body !== undefined;
        const response = await call(app, r.path, {
          method: r.method,
          headers,
          ...(withBody ? { raw: r.body } : {}),
        });
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
          const error = response.body as { success: unknown; error: unknown; code: string };
          expect(Object.keys(error).sort()).toEqual(['code', 'error', 'success']);
          expect(error.success).toBe(false);
          expect(typeof error.error).toBe('string');
          expect(ERROR_CODES[error.code as keyof typeof ERROR_CODES]?.status).toBe(response.status);
        }
        if (response.status === 401)
          expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      }),
      { numRuns: 300 },
    );
  });
});
