// The example's order routes used to pass raw driver errors up: a database that died
// mid-request answered 500 where every gatehouse store answers 503. Both example apps run here
// in process on a real PGlite that the test closes under them.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  type ExampleApps,
  GENERIC_SERVER_ERROR,
  prepareExampleDatabase,
  problemLines,
  signIn,
  startExampleApps,
} from '../../helpers/example-apps.js';

describe('the example apps when the database dies mid-run (PGlite closed)', () => {
  let lite: PGlite;
  let apps: ExampleApps;
  const tokens: Record<'express' | 'fastify', string> = { express: '', fastify: '' };

  beforeAll(async () => {
    lite = new PGlite();
    await lite.waitReady;
    await prepareExampleDatabase(lite);
    apps = await startExampleApps({ client: lite, embedded: false, close: () => lite.close() });
    for (const name of ['express', 'fastify'] as const) {
      tokens[name] = await signIn(apps.urls[name], `${name}-outage@example.com`);
      const created = await call(`${apps.urls[name]}/api/orders`, {
        token: tokens[name],
        body: { total: '19.90' },
      });
      expect(created.status).toBe(201);
    }
    await lite.close(); // the database goes away while the apps keep running
  }, 120_000);

  afterAll(async () => {
    await apps?.close();
  });

  it.each(['express', 'fastify'] as const)(
    '%s: POST and GET /api/orders answer 503 with the generic SERVER_ERROR body, no driver detail',
    async (name) => {
      for (let i = 0; i < 25; i++) {
        const created = await call(`${apps.urls[name]}/api/orders`, {
          token: tokens[name],
          body: { total: '5.00' },
        });
        expect(created).toEqual({ status: 503, body: GENERIC_SERVER_ERROR });
        const listed = await call(`${apps.urls[name]}/api/orders`, { token: tokens[name] });
        expect(listed).toEqual({ status: 503, body: GENERIC_SERVER_ERROR });
      }
      // The auth routes of the same app answer the same way.
      const login = await call(`${apps.urls[name]}/api/auth/login`, {
        body: { email: `${name}-outage@example.com`, password: 'plum-quartz-violin-41' },
      });
      expect(login).toEqual({ status: 503, body: GENERIC_SERVER_ERROR });
    },
  );

  it('log storm: 100 failed order requests on two apps write one line for the database and one for the requests, no stack', () => {
    const started = apps.lines.findIndex((l) => l['msg'] === 'database unavailable');
    expect(started).toBeGreaterThanOrEqual(0);
    const lines = problemLines(apps.lines.slice(started));
    const messages = lines.map((l) => l['msg']);
    expect(messages.filter((m) => m === 'database unavailable')).toHaveLength(1);
    expect(
      messages.filter((m) => m === 'requests failing: service unavailable (503)'),
    ).toHaveLength(1);
    // No 500 ("request failed" with a stack) for any of them; at most one summary per 10 s.
    expect(messages).not.toContain('request failed');
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(lines[0]).toMatchObject({ level: 'error', error: 'Error: PGlite is closed' });
    expect(JSON.stringify(lines)).not.toMatch(/"stack"|INSERT|SELECT|19\.90|5\.00/);
  });
});
