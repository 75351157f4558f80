import { describe, expect, it } from 'vitest';
import { type AppSetup, adapters, type RunningApp } from './apps.js';
import { type ContractResponse, call, PASSWORD, rawCall } from './client.js';
import { linkTokenOf, recordingMail } from './mail-recorder.js';

/** Replaces what differs by nature between two runs (tokens, ids) with placeholders. */
function normalize(response: ContractResponse) {
  const text = JSON.stringify(response)
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<jwt>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/"(refreshToken|csrfToken)":"[^"]+"/g, '"$1":"<secret>"')
    .replace(/(gatehouse-(?:refresh|csrf))=[^;]+;/g, '$1=<secret>;');
  return JSON.parse(text) as unknown;
}

type Step = (app: RunningApp, state: Record<string, string>) => Promise<ContractResponse>;

const json = (body: unknown) => ({ json: body });
const login = { email: 'ada@example.com', password: PASSWORD };

/** One session of a client, every step answered identically by both adapters. */
const bearerScript: [string, Step][] = [
  ['register', (app) => call(app, '/api/auth/register', json({ ...login, name: 'Ada' }))],
  ['register again', (app) => call(app, '/api/auth/register', json({ ...login, name: 'Ada' }))],
  [
    'register bad email',
    (app) => call(app, '/api/auth/register', json({ ...login, email: 'x', name: 'A' })),
  ],
  [
    'login wrong',
    (app) => call(app, '/api/auth/login', json({ ...login, password: 'wrong one!' })),
  ],
  [
    'login',
    async (app, state) => {
      const response = await call(app, '/api/auth/login', json(login));
      const body = response.body as { token: string; refreshToken: string; user: { id: string } };
      Object.assign(state, { token: body.token, refresh: body.refreshToken, id: body.user.id });
      return response;
    },
  ],
  ['me anonymous', (app) => call(app, '/api/auth/me')],
  ['me', (app, s) => call(app, '/api/auth/me', { token: s['token']! })],
  ['me forged', (app) => call(app, '/api/auth/me', { token: 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA' })],
  [
    'me Bearer only',
    (app) => rawCall(app, '/api/auth/me', { headers: [['authorization', 'Bearer']] }),
  ],
  [
    'me two Authorization headers',
    (app, s) =>
      rawCall(app, '/api/auth/me', {
        headers: [
          ['authorization', `Bearer ${s['token']}`],
          ['authorization', `Bearer ${s['token']}`],
        ],
      }),
  ],
  ['me token in query', (app, s) => call(app, `/api/auth/me?access_token=${s['token']}`)],
  ['own record', (app, s) => call(app, `/api/users/${s['id']}`, { token: s['token']! })],
  ['other record', (app, s) => call(app, '/api/users/someone-else', { token: s['token']! })],
  ['whoami anonymous', (app) => call(app, '/api/whoami')],
  ['order', (app, s) => call(app, '/api/orders', { token: s['token']!, json: { total: '9.99' } })],
  ['order anonymous', (app) => call(app, '/api/orders', json({ total: '9.99' }))],
  [
    'malformed JSON',
    (app) =>
      call(app, '/api/auth/login', { raw: '{', headers: { 'content-type': 'application/json' } }),
  ],
  ['text body', (app) => call(app, '/api/auth/login', { raw: 'hello' })],
  ['huge body', (app) => call(app, '/api/auth/login', json({ ...login, pad: 'x'.repeat(20_000) }))],
  ['array body', (app) => call(app, '/api/auth/login', json([login]))],
  ['server error', (app) => call(app, '/api/boom')],
  ['unknown route', (app) => call(app, '/api/auth/nowhere')],
  ['jwks', (app) => call(app, '/.well-known/jwks.json')],
  [
    'refresh',
    async (app, state) => {
      const response = await call(
        app,
        '/api/auth/refresh',
        json({ refreshToken: state['refresh'] }),
      );
      state['used'] = state['refresh']!;
      state['refresh'] = (response.body as { refreshToken: string }).refreshToken;
      return response;
    },
  ],
  ['refresh reused', (app, s) => call(app, '/api/auth/refresh', json({ refreshToken: s['used'] }))],
  ['refresh missing', (app) => call(app, '/api/auth/refresh', json({}))],
  [
    'password',
    async (app, s) => {
      const login2 = await call(app, '/api/auth/login', json(login));
      s['token'] = (login2.body as { token: string }).token;
      return call(app, '/api/auth/password', {
        method: 'PUT',
        token: s['token'],
        json: { currentPassword: PASSWORD, newPassword: 'another long passphrase' },
      });
    },
  ],
  ['logout', (app, s) => call(app, '/api/auth/logout', { token: s['token']!, json: {} })],
  ['me after logout', (app, s) => call(app, '/api/auth/me', { token: s['token']! })],
  [
    'login rate limited 1',
    (app) => call(app, '/api/auth/login', json({ ...login, email: 'a1@example.com' })),
  ],
  [
    'login rate limited 2',
    (app) => call(app, '/api/auth/login', json({ ...login, email: 'a2@example.com' })),
  ],
  [
    'login rate limited 3',
    (app) => call(app, '/api/auth/login', json({ ...login, email: 'a3@example.com' })),
  ],
];

async function run(adapterIndex: number, setup: AppSetup, script: [string, Step][]) {
  const app = await adapters[adapterIndex]!.start(setup);
  const state: Record<string, string> = {};
  const results: { step: string; response: unknown }[] = [];
  try {
    for (const [step, send] of script)
      results.push({ step, response: normalize(await send(app, state)) });
  } finally {
    await app.close();
  }
  return results;
}

describe('the two adapters answer identically', () => {
  it('gives the same status, contract headers, cookies and body for every step of a bearer session', async () => {
    const setup = { authOptions: { rateLimits: { login: '4/min' } } };
    const [express, fastify] = [
      await run(0, setup, bearerScript),
      await run(1, setup, bearerScript),
    ];
    expect(express.map((r) => r.step)).toEqual(bearerScript.map(([step]) => step));
    expect(fastify).toEqual(express);
    // The script does reach the interesting answers.
    const statuses = new Set(express.map((r) => (r.response as { status: number }).status));
    for (const status of [200, 201, 400, 401, 403, 404, 409, 413, 415, 429, 500]) {
      expect(statuses).toContain(status);
    }
  });

  it('gives the same answers for a cookie-mode session', async () => {
    const origin = { origin: 'https://app.example.com' };
    const script: [string, Step][] = [
      [
        'csrf',
        async (app, s) => {
          const response = await call(app, '/api/auth/csrf');
          s['csrf'] = (response.body as { csrfToken: string }).csrfToken;
          s['binding'] = response.cookies[0]!.split(';')[0]!;
          return response;
        },
      ],
      [
        'register',
        (app, s) =>
          call(app, '/api/auth/register', {
            json: { ...login, name: 'Ada' },
            headers: { ...origin, cookie: s['binding']!, 'x-csrf-token': s['csrf']! },
          }),
      ],
      [
        'login without token',
        (app, s) =>
          call(app, '/api/auth/login', {
            json: login,
            headers: { ...origin, cookie: s['binding']! },
          }),
      ],
      [
        'login',
        async (app, s) => {
          const response = await call(app, '/api/auth/login', {
            json: login,
            headers: { ...origin, cookie: s['binding']!, 'x-csrf-token': s['csrf']! },
          });
          s['csrf'] = (response.body as { csrfToken: string }).csrfToken;
          s['cookies'] = response.cookies.map((c) => c.split(';')[0]).join('; ');
          return response;
        },
      ],
      ['me', (app, s) => call(app, '/api/auth/me', { headers: { cookie: s['cookies']! } })],
      [
        'order without token',
        (app, s) =>
          call(app, '/api/orders', { json: {}, headers: { ...origin, cookie: s['cookies']! } }),
      ],
      [
        'forgot without token',
        (app, s) =>
          call(app, '/api/auth/password/forgot', {
            json: { email: login.email },
            headers: { ...origin, cookie: s['cookies']! },
          }),
      ],
      [
        'forgot',
        (app, s) =>
          call(app, '/api/auth/password/forgot', {
            json: { email: login.email },
            headers: { ...origin, cookie: s['cookies']!, 'x-csrf-token': s['csrf']! },
          }),
      ],
      [
        'resend without token',
        (app, s) =>
          call(app, '/api/auth/email/resend', {
            method: 'POST',
            headers: { ...origin, cookie: s['cookies']! },
          }),
      ],
      [
        'resend',
        (app, s) =>
          call(app, '/api/auth/email/resend', {
            method: 'POST',
            headers: { ...origin, cookie: s['cookies']!, 'x-csrf-token': s['csrf']! },
          }),
      ],
      [
        'refresh',
        (app, s) =>
          call(app, '/api/auth/refresh', {
            method: 'POST',
            headers: { ...origin, cookie: s['cookies']!, 'x-csrf-token': s['csrf']! },
          }),
      ],
      [
        'logout',
        (app, s) =>
          call(app, '/api/auth/logout', {
            method: 'POST',
            headers: { ...origin, cookie: s['cookies']!, 'x-csrf-token': s['csrf']! },
          }),
      ],
    ];
    const setup = {
      authOptions: { cookies: { trustedOrigins: [origin.origin] }, mail: recordingMail().mail },
    };
    const [express, fastify] = [await run(0, setup, script), await run(1, setup, script)];
    expect(fastify).toEqual(express);
    const statusOf = (step: string) =>
      (express.find((r) => r.step === step)!.response as { status: number }).status;
    expect(['login', 'me', 'refresh', 'logout'].map(statusOf)).toEqual([200, 200, 200, 200]);
    expect(['forgot', 'resend'].map(statusOf)).toEqual([202, 202]);
    expect(
      [
        'login without token',
        'order without token',
        'forgot without token',
        'resend without token',
      ].map(statusOf),
    ).toEqual([403, 403, 403, 403]);
  });

  it('gives the same answers on the account-recovery routes (forgot, reset, verify, resend, register with verification required)', async () => {
    // One recorder per run: the two runs are sequential, the first step starts it empty.
    const recorder = recordingMail();
    const flushed = async (app: RunningApp) => {
      await app.auth.mail.flush();
      return recorder.messages;
    };
    const token = (s: Record<string, string>) => ({ token: s['token']!, method: 'POST' });
    const script: [string, Step][] = [
      [
        'register (verification required)',
        (app) => {
          recorder.messages.length = 0;
          return call(app, '/api/auth/register', json({ ...login, name: 'Ada' }));
        },
      ],
      ['register taken', (app) => call(app, '/api/auth/register', json({ ...login, name: 'M' }))],
      ['login unverified', (app) => call(app, '/api/auth/login', json(login))],
      [
        'verify forged',
        (app) => call(app, '/api/auth/email/verify', json({ token: 'x'.repeat(43) })),
      ],
      ['verify no token', (app) => call(app, '/api/auth/email/verify', json({}))],
      [
        'verify',
        async (app) => {
          const link = linkTokenOf(await flushed(app), 'email_verification', login.email);
          return call(app, '/api/auth/email/verify', json({ token: link }));
        },
      ],
      [
        'login',
        async (app, s) => {
          const response = await call(app, '/api/auth/login', json(login));
          s['token'] = (response.body as { token: string }).token;
          return response;
        },
      ],
      ['resend anonymous', (app) => call(app, '/api/auth/email/resend', { method: 'POST' })],
      ['resend verified', (app, s) => call(app, '/api/auth/email/resend', token(s))],
      ['resend limited', (app, s) => call(app, '/api/auth/email/resend', token(s))],
      ['forgot', (app) => call(app, '/api/auth/password/forgot', json({ email: login.email }))],
      [
        'forgot unknown',
        (app) => call(app, '/api/auth/password/forgot', json({ email: 'n@x.io' })),
      ],
      ['forgot not a string', (app) => call(app, '/api/auth/password/forgot', json({ email: 1 }))],
      ['forgot limited', (app) => call(app, '/api/auth/password/forgot', json({ email: 'a' }))],
      [
        'reset weak password',
        async (app, s) => {
          s['reset'] = linkTokenOf(await flushed(app), 'password_reset', login.email);
          return call(app, '/api/auth/password/reset', json({ token: s['reset'], password: 'x' }));
        },
      ],
      [
        'reset',
        (app, s) =>
          call(
            app,
            '/api/auth/password/reset',
            json({ token: s['reset'], password: 'a brand new passphrase' }),
          ),
      ],
      [
        'reset replayed',
        (app, s) =>
          call(
            app,
            '/api/auth/password/reset',
            json({ token: s['reset'], password: 'a brand new passphrase' }),
          ),
      ],
      ['me after reset', (app, s) => call(app, '/api/auth/me', { token: s['token']! })],
    ];
    const setup: AppSetup = {
      authOptions: {
        mail: recorder.mail,
        emailVerification: { required: true },
        rateLimits: { register: '100/min', forgot: '3/min', resendVerification: '1/15m' },
      },
    };
    const [express, fastify] = [await run(0, setup, script), await run(1, setup, script)];
    expect(fastify).toEqual(express);
    const statusOf = (step: string) =>
      (express.find((r) => r.step === step)!.response as { status: number }).status;
    expect(script.map(([step]) => statusOf(step))).toEqual([
      202, 202, 403, 400, 400, 200, 200, 401, 202, 429, 202, 202, 400, 429, 400, 200, 400, 401,
    ]);
  });
});
