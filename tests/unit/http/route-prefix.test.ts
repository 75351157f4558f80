// The `prefix` option of the auth routes becomes route paths and the refresh cookie's Path
// (`Path=<prefix>/refresh`): it is validated at start, before any cookie is written.

import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { gatehouseExpress } from '../../../adapters/express/index.js';
import { gatehouseFastify } from '../../../adapters/fastify/index.js';
import { createAuthHttp } from '../../../src/http/index.js';
import { AuthError, createAuth } from '../../../src/index.js';

const cookieAuth = () => createAuth({ cookies: { trustedOrigins: ['https://app.example.com'] } });

function prefixError(prefix: unknown): AuthError {
  try {
    createAuthHttp(cookieAuth(), { prefix: prefix as string });
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    expect(err).toMatchObject({ code: 'INVALID_CONFIG' });
    expect((err as Error).message).toMatch(/^Invalid auth routes option: prefix: /);
    return err as AuthError;
  }
  throw new Error(`prefix ${JSON.stringify(prefix)} was accepted`);
}

describe('the route prefix option', () => {
  it("cookie attribute injection through a prefix with ';' is refused at start", () => {
    expect(prefixError('/api/auth; Domain=evil.example').message).toMatch(/no ";"/);
  });

  it.each([
    ['/api/auth\r\nSet-Cookie: admin=1', 'header splitting with CR LF'],
    ['/api/\u0000auth', 'a NUL byte'],
    ['/api auth', 'whitespace'],
    ['/api/auth?x=1', 'a query'],
    ['/api/auth#x', 'a fragment'],
    ['/api/:tenant/auth', 'a route parameter'],
    ['/api/*', 'a wildcard'],
    ['/api/%3B', 'a percent escape'],
    ['/api/é', 'a character outside ASCII'],
    ['/api,auth', 'a comma'],
  ])('a prefix with %s... (%s) is refused at start', (prefix) => {
    expect(prefixError(prefix).message).toMatch(/must hold only letters, digits/);
  });

  it.each([
    ['/api/../admin', 'a ".." segment (path traversal)'],
    ['/api/./auth', 'a "." segment'],
    ['/api//auth', 'an empty segment'],
  ])('a prefix with %s (%s) is refused', (prefix) => {
    expect(prefixError(prefix).message).toMatch(/segment/);
  });

  it.each([
    ['api/auth', 'without a leading slash'],
    ['', 'empty'],
    [42, 'not a string'],
    [`/${'a'.repeat(300)}`, 'over 256 characters'],
  ] as [unknown, string][])('a prefix %j (%s) is refused', (prefix) => {
    prefixError(prefix);
  });

  it('accepts an ordinary prefix, drops a trailing slash, and uses it for the refresh cookie Path', () => {
    const http = createAuthHttp(cookieAuth(), { prefix: '/v1/auth-api_x~1.0/' });
    expect(http.prefix).toBe('/v1/auth-api_x~1.0');
    expect(http.routes.map((r) => r.path)).toContain('/v1/auth-api_x~1.0/refresh');
    expect(createAuthHttp(cookieAuth(), { prefix: '/' }).routes.map((r) => r.path)).toContain(
      '/login',
    );
  });

  it('the Express adapter refuses a bad prefix when it is created', () => {
    expect(() => gatehouseExpress(cookieAuth(), { prefix: '/auth;Secure' })).toThrow(
      /prefix: must hold only/,
    );
  });

  it('the Fastify plugin refuses a bad prefix when it is registered', async () => {
    const app = Fastify();
    await expect(
      app.register(gatehouseFastify, { auth: cookieAuth(), prefix: '/auth;Secure' }),
    ).rejects.toThrow(/prefix: must hold only/);
    await app.close().catch(() => {});
  });
});
