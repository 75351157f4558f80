import { afterEach, describe, expect, it } from 'vitest';
import { adapters, type RunningApp } from './apps.js';
import { call, expectContractError, PASSWORD, rawCall, signUp } from './client.js';

const LOGIN = '/api/auth/login';
const REGISTER = '/api/auth/register';

describe.each(adapters)('bad input on $name', (adapter) => {
  let app: RunningApp;
  afterEach(() => app?.close());
  async function start() {
    app = await adapter.start({
      authOptions: { rateLimits: { login: false, register: false, refresh: false } },
    });
  }

  it.each([LOGIN, '/api/auth/me'])(
    'OPTIONS on %s is answered with the contract body (404 NOT_FOUND), not a text/plain Allow list',
    async (path) => {
      await start();
      const response = await rawCall(app, path, { method: 'OPTIONS' });
      expectContractError(response, 404, 'NOT_FOUND');
    },
  );

  it('answers malformed JSON with 400 VALIDATION_ERROR', async () => {
    await start();
    const response = await call(app, LOGIN, {
      raw: '{"email": "a@b.c", "password": ',
      headers: { 'content-type': 'application/json' },
    });
    expectContractError(response, 400, 'VALIDATION_ERROR');
  });

  it('answers a body that is not valid UTF-8 with 400 VALIDATION_ERROR', async () => {
    await start();
    const response = await call(app, LOGIN, {
      raw: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      headers: { 'content-type': 'application/json' },
    });
    expectContractError(response, 400, 'VALIDATION_ERROR');
  });

  it.each([
    ['text/plain', 'text/plain;charset=UTF-8'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['JSON in latin1', 'application/json; charset=latin1'],
    ['multipart', 'multipart/form-data; boundary=x'],
  ])('answers a %s body with 415 UNSUPPORTED_MEDIA_TYPE', async (_what, contentType) => {
    await start();
    const response = await call(app, LOGIN, {
      raw: JSON.stringify({ email: 'a@b.c', password: PASSWORD }),
      headers: { 'content-type': contentType },
    });
    expectContractError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a body without Content-Type with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    await start();
    const response = await rawCall(app, LOGIN, {
      method: 'POST',
      body: JSON.stringify({ email: 'a@b.c', password: PASSWORD }),
    });
    expectContractError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it.each([
    ['an empty body', undefined],
    ['a missing password', { email: 'ada@example.com' }],
    ['a numeric email', { email: 42, password: PASSWORD }],
    ['a null password', { email: 'ada@example.com', password: null }],
    ['an array password', { email: 'ada@example.com', password: [PASSWORD] }],
    ['an object email', { email: { $ne: '' }, password: PASSWORD }],
    ['a JSON array body', [{ email: 'ada@example.com', password: PASSWORD }]],
    ['a JSON string body', 'ada@example.com'],
    ['a JSON null body', null],
  ])('answers a login with %s with 400 VALIDATION_ERROR', async (_what, body) => {
    await start();
    const response =
      body === undefined
        ? await call(app, LOGIN, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
          })
        : await call(app, LOGIN, { json: body });
    expectContractError(response, 400, 'VALIDATION_ERROR');
  });

  it('answers a registration without a name with 400 VALIDATION_ERROR', async () => {
    await start();
    const response = await call(app, REGISTER, {
      json: { email: 'a@example.com', password: PASSWORD },
    });
    expectContractError(response, 400, 'VALIDATION_ERROR');
    expect((response.body as { error: string }).error).toContain('name');
  });

  it('answers a body over 16 KiB with 413 PAYLOAD_TOO_LARGE', async () => {
    await start();
    const response = await call(app, LOGIN, {
      json: { email: 'ada@example.com', password: PASSWORD, padding: 'x'.repeat(16 * 1024) },
    });
    expectContractError(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers a chunked body over 16 KiB (no Content-Length) with 413 PAYLOAD_TOO_LARGE', async () => {
    await start();
    const response = await rawCall(app, LOGIN, {
      method: 'POST',
      headers: [
        ['content-type', 'application/json'],
        ['transfer-encoding', 'chunked'],
      ],
      body: JSON.stringify({ email: 'ada@example.com', padding: 'x'.repeat(40 * 1024) }),
    });
    expectContractError(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('attack: a 1 MiB password is refused with 413 before any hashing, on login and register', async () => {
    await start();
    const password = 'p'.repeat(1024 * 1024);
    const before = { hash: app.hasher.hashCalls, verify: app.hasher.verifyCalls };
    const login = await call(app, LOGIN, { json: { email: 'ada@example.com', password } });
    const register = await call(app, REGISTER, {
      json: { email: 'ada@example.com', password, name: 'Ada' },
    });
    expectContractError(login, 413, 'PAYLOAD_TOO_LARGE');
    expectContractError(register, 413, 'PAYLOAD_TOO_LARGE');
    expect({ hash: app.hasher.hashCalls, verify: app.hasher.verifyCalls }).toEqual(before);
  });

  it('attack: a 10 KB password within the body limit is refused with 400 before any hashing', async () => {
    await start();
    const password = 'p'.repeat(10_000);
    const before = { hash: app.hasher.hashCalls, verify: app.hasher.verifyCalls };
    const login = await call(app, LOGIN, { json: { email: 'ada@example.com', password } });
    const register = await call(app, REGISTER, {
      json: { email: 'ada@example.com', password, name: 'Ada' },
    });
    expectContractError(login, 400, 'VALIDATION_ERROR');
    expectContractError(register, 400, 'VALIDATION_ERROR');
    expect({ hash: app.hasher.hashCalls, verify: app.hasher.verifyCalls }).toEqual(before);
  });

  it('answers a deeply nested JSON body with 400, not a crash', async () => {
    await start();
    const nested = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const response = await call(app, LOGIN, {
      raw: nested,
      headers: { 'content-type': 'application/json' },
    });
    expectContractError(response, 400, 'VALIDATION_ERROR');
  });

  it('attack: a __proto__ key in the body pollutes nothing and is answered with 400', async () => {
    await start();
    const response = await call(app, LOGIN, {
      raw: '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
      headers: { 'content-type': 'application/json' },
    });
    expectContractError(response, 400, 'VALIDATION_ERROR');
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('attack: duplicate Authorization headers are refused with 400 and error="invalid_request"', async () => {
    await start();
    const { token } = await signUp(app);
    const response = await rawCall(app, '/api/auth/me', {
      headers: [
        ['authorization', `Bearer ${token}`],
        ['authorization', 'Bearer attacker.token.value'],
      ],
    });
    expectContractError(response, 400, 'VALIDATION_ERROR');
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
  });

  it.each([
    ['Bearer', 'Bearer'],
    ['Bearer and spaces', 'Bearer    '],
    ['Bearer with a comma list', 'Bearer a, b'],
  ])('answers "%s" as Authorization with 401 TOKEN_INVALID', async (_what, value) => {
    await start();
    const response = await rawCall(app, '/api/auth/me', { headers: [['authorization', value]] });
    expectContractError(response, 401, 'TOKEN_INVALID');
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('answers a non-Bearer scheme as missing credentials: 401 UNAUTHENTICATED', async () => {
    await start();
    const response = await rawCall(app, '/api/auth/me', {
      headers: [['authorization', 'Basic YWRhOnBhc3N3b3Jk']],
    });
    expectContractError(response, 401, 'UNAUTHENTICATED');
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it('attack: non-ASCII bytes in the Authorization header give 401 TOKEN_INVALID, not a crash', async () => {
    await start();
    const response = await rawCall(app, '/api/auth/me', {
      headers: [['authorization', Buffer.from('Bearer tökén☃', 'utf8').toString('latin1')]],
    });
    expectContractError(response, 401, 'TOKEN_INVALID');
  });

  it('accepts unicode bytes in unrelated headers (User-Agent, Origin) without a crash', async () => {
    await start();
    await signUp(app);
    const garbled = Buffer.from('Mözilla ☃ 𝒳', 'utf8').toString('latin1');
    const response = await rawCall(app, LOGIN, {
      method: 'POST',
      headers: [
        ['content-type', 'application/json'],
        ['user-agent', garbled],
        ['origin', garbled],
      ],
      body: JSON.stringify({ email: 'ada@example.com', password: PASSWORD }),
    });
    expect(response.status).toBe(200);
  });

  it('answers a malformed percent-escape in the path with 400 VALIDATION_ERROR', async () => {
    await start();
    const { token } = await signUp(app);
    expectContractError(await call(app, '/api/users/%zz', { token }), 400, 'VALIDATION_ERROR');
  });

  it('attack: a valid token in the query string is ignored (401 UNAUTHENTICATED)', async () => {
    await start();
    const { token } = await signUp(app);
    for (const name of ['access_token', 'token', 'authorization']) {
      const response = await call(app, `/api/auth/me?${name}=${token}`);
      expectContractError(response, 401, 'UNAUTHENTICATED');
    }
  });
});
