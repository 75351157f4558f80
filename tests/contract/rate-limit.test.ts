import { afterEach, describe, expect, it } from 'vitest';
import { adapters, type RunningApp } from './apps.js';
import { call, expectContractError, PASSWORD, rawCall, signUp } from './client.js';

// A different unknown email each time, so the per-account lockout never interferes.
let attempt = 0;
const wrongLogin = {
  get json() {
    attempt++;
    return { email: `nobody${attempt}@example.com`, password: 'not the password' };
  },
};

describe.each(adapters)('per-IP rate limiting on $name', (adapter) => {
  let app: RunningApp;
  afterEach(() => app?.close());

  it('refuses the 6th login in a minute from one IP with 429 RATE_LIMITED and Retry-After', async () => {
    app = await adapter.start();
    for (let i = 0; i < 5; i++) {
      expect((await call(app, '/api/auth/login', wrongLogin)).status).toBe(401);
    }
    const response = await call(app, '/api/auth/login', wrongLogin);
    expectContractError(response, 429, 'RATE_LIMITED');
    expect(response.headers['retry-after']).toBe('60');
  });

  it('refuses over the limit before checking the password (no hashing work)', async () => {
    app = await adapter.start();
    for (let i = 0; i < 5; i++) await call(app, '/api/auth/login', wrongLogin);
    const verifies = app.hasher.verifyCalls;
    await call(app, '/api/auth/login', wrongLogin);
    expect(app.hasher.verifyCalls).toBe(verifies);
  });

  it('records a RATE_LIMITED audit event with the route and client IP', async () => {
    app = await adapter.start();
    for (let i = 0; i < 6; i++) await call(app, '/api/auth/login', wrongLogin);
    const event = app.events.find((e) => e.event === 'RATE_LIMITED');
    expect(event).toMatchObject({
      status: 'failure',
      ip: '127.0.0.1',
      metadata: { route: 'login' },
    });
  });

  it('allows logins again once the window has passed', async () => {
    app = await adapter.start();
    for (let i = 0; i < 6; i++) await call(app, '/api/auth/login', wrongLogin);
    app.clock.advance(60_000);
    expect((await call(app, '/api/auth/login', wrongLogin)).status).toBe(401);
  });

  it('uses the configured per-route limit', async () => {
    app = await adapter.start({ authOptions: { rateLimits: { login: '2/min' } } });
    await call(app, '/api/auth/login', wrongLogin);
    await call(app, '/api/auth/login', wrongLogin);
    expect((await call(app, '/api/auth/login', wrongLogin)).status).toBe(429);
  });

  it('limits registration per IP', async () => {
    app = await adapter.start({ authOptions: { rateLimits: { register: '1/min' } } });
    await signUp(app);
    const response = await call(app, '/api/auth/register', {
      json: { email: 'grace@example.com', password: PASSWORD, name: 'Grace' },
    });
    expectContractError(response, 429, 'RATE_LIMITED');
  });

  it('limits refresh per IP', async () => {
    app = await adapter.start({ authOptions: { rateLimits: { refresh: '1/min' } } });
    const { refreshToken } = await signUp(app);
    await call(app, '/api/auth/refresh', { json: { refreshToken: 'x' } });
    const response = await call(app, '/api/auth/refresh', { json: { refreshToken } });
    expectContractError(response, 429, 'RATE_LIMITED');
  });

  it('attack: a forged X-Forwarded-For from an untrusted peer does not reset the limit', async () => {
    app = await adapter.start();
    for (let i = 0; i < 5; i++) await call(app, '/api/auth/login', wrongLogin);
    const forged = await call(app, '/api/auth/login', {
      json: wrongLogin.json,
      headers: { 'x-forwarded-for': '198.51.100.23' },
    });
    expectContractError(forged, 429, 'RATE_LIMITED');
    const forwarded = await rawCall(app, '/api/auth/login', {
      method: 'POST',
      headers: [
        ['content-type', 'application/json'],
        ['x-forwarded-for', '198.51.100.24'],
        ['forwarded', 'for=198.51.100.25'],
        ['x-real-ip', '198.51.100.26'],
      ],
      body: JSON.stringify(wrongLogin.json),
    });
    expect(forwarded.status).toBe(429);
  });

  it('honours X-Forwarded-For when the app trusts its proxy: each client has its own limit', async () => {
    app = await adapter.start({ trustProxy: true });
    const from = (ip: string) => ({ json: wrongLogin.json, headers: { 'x-forwarded-for': ip } });
    for (let i = 0; i < 5; i++) await call(app, '/api/auth/login', from('198.51.100.1'));
    expect((await call(app, '/api/auth/login', from('198.51.100.1'))).status).toBe(429);
    expect((await call(app, '/api/auth/login', from('198.51.100.2'))).status).toBe(401);
    expect(app.events.find((e) => e.event === 'RATE_LIMITED')?.ip).toBe('198.51.100.1');
  });
});
