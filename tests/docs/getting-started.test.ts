import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../e2e/example-process.js';

// The Express and Fastify apps of docs/getting-started.md are files (examples/getting-started/)
// that the guide includes verbatim; each is started as a real process, as the guide says, and
// answers the guide's requests (its curl steps, made with fetch).

const root = fileURLToPath(new URL('../../', import.meta.url));
const guide = readFileSync(`${root}docs/getting-started.md`, 'utf8');
const APPS = ['examples/getting-started/express.ts', 'examples/getting-started/fastify.ts'];
const SECRET = 'getting-started-test-secret-0123456789abcdef';

describe('docs/getting-started.md', () => {
  it('includes the Express and Fastify apps verbatim from examples/getting-started/', () => {
    const includes = [...guide.matchAll(/<!-- include: (\S+) -->\n```ts\n([\s\S]*?)```\n/g)];
    expect(includes.map(([, path]) => path)).toEqual(APPS);
    for (const [, path, block] of includes) {
      expect(block, `the block after <!-- include: ${path} --> differs from the file`).toBe(
        readFileSync(`${root}${path}`, 'utf8'),
      );
    }
  });

  it('shows the requests the test makes (register, login, a guarded route, 401, 403, logout)', () => {
    for (const request of [
      'curl -s -X POST http://127.0.0.1:3000/api/auth/register',
      'curl -s -X POST http://127.0.0.1:3000/api/auth/login',
      'curl -s http://127.0.0.1:3000/api/users/$USER_ID -H "authorization: Bearer $TOKEN"',
      'curl -s http://127.0.0.1:3000/api/users/$USER_ID\n# 401',
      'curl -s http://127.0.0.1:3000/api/users/someone-else -H "authorization: Bearer $TOKEN"\n# 403',
      'curl -s -X POST http://127.0.0.1:3000/api/auth/logout -H "authorization: Bearer $TOKEN"',
    ]) {
      expect(guide).toContain(request);
    }
  });
});

describe.each(APPS)('%s, started as the guide says', (path) => {
  let child: ChildProcess;
  let output = '';
  let url = '';

  beforeAll(async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', path], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', JWT_SECRET: SECRET, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    url = await new Promise<string>((resolve, reject) => {
      const onData = () => {
        const match = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) resolve(match[1] as string);
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${path} exited (${code}):\n${output}`)));
    });
    expect(url).toBe(`http://127.0.0.1:${port}`);
  }, 60_000);

  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  const post = (route: string, body?: unknown, token?: string) =>
    fetch(`${url}${route}`, {
      method: 'POST',
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const get = (route: string, token?: string) =>
    fetch(`${url}${route}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it('registers, logs in, reads its own user with the token, is refused without it or for another user, and logs out', async () => {
    const account = { email: 'ada@example.com', password: 'correct horse battery' };

    const registered = await post('/api/auth/register', { ...account, name: 'Ada' });
    const { user } = (await registered.json()) as { user: { id: string } };
    expect(registered.status).toBe(201);
    expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada', role: 'user' });
    expect(JSON.stringify(user)).not.toContain('$2'); // never a bcrypt hash

    const login = await post('/api/auth/login', account);
    const session = (await login.json()) as { token: string; refreshToken: unknown };
    expect(login.status).toBe(200);
    expect(session).toMatchObject({ success: true, expiresIn: 900, user: { id: user.id } });
    expect(session.token).toMatch(/^eyJ/);
    expect(typeof session.refreshToken).toBe('string');

    const own = await get(`/api/users/${user.id}`, session.token);
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ success: true, user: { id: user.id } });

    const anonymous = await get(`/api/users/${user.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await anonymous.json()).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });

    const other = await get('/api/users/someone-else', session.token);
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ success: false, code: 'FORBIDDEN' });

    const logout = await post('/api/auth/logout', undefined, session.token);
    expect(logout.status).toBe(200);
    const afterLogout = await get(`/api/users/${user.id}`, session.token);
    expect(afterLogout.status).toBe(401);
    expect(await afterLogout.json()).toMatchObject({ success: false, code: 'TOKEN_INVALID' });
  });

  it('a wrong password gets 401 INVALID_CREDENTIALS, the same as an unknown email', async () => {
    const wrong = await post('/api/auth/login', {
      email: 'ada@example.com',
      password: 'not the right password at all',
    });
    const unknown = await post('/api/auth/login', {
      email: 'nobody@example.com',
      password: 'not the right password at all',
    });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(await wrong.json()).toEqual(await unknown.json());
  });
});
