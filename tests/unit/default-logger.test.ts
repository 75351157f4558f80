// 500s are never silent: without a logger option gatehouse writes warnings and errors to stderr
// as one JSON line each; `logger: false` silences it. The child-process tests run the real thing.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createAuthHttp } from '../../src/http/auth-routes.js';
import { createAuth } from '../../src/index.js';
import { jsonLogLine, stderrLogger } from '../../src/runtime.js';
import { configError } from '../helpers/config-errors.js';

const SRC = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const HTTP = fileURLToPath(new URL('../../src/http/auth-routes.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-logger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEYS = "[{ kid: 'k1', alg: 'HS256', key: 'a-test-secret-of-32-characters!!' }]";

/** Runs a script importing gatehouse as `g` in a fresh Node process; returns its stderr. */
async function runChild(body: string): Promise<{ code: number | null; stderr: string }> {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(
    file,
    `import * as g from ${JSON.stringify(SRC)};\nimport { createAuthHttp } from ${JSON.stringify(HTTP)};\n${body}\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}

const APP_BUG = `
const http = createAuthHttp(auth);
const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5999'), { code: 'ECONNREFUSED' });
const bug = new Error('order total was undefined (postgres://app:hunter2@db/prod)', { cause });
const response = http.errorResponse(bug);
if (response.status !== 500) process.exit(3);
`;

describe('the default logger', () => {
  it('an unexpected error (500) with no logger option is written to stderr as one JSON line with its stack and cause', async () => {
    const { code, stderr } = await runChild(
      `const auth = g.createAuth({ tokens: { keys: ${KEYS} } });${APP_BUG}`,
    );
    expect(code).toBe(0);
    const lines = stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'error', msg: 'request failed' });
    expect(Number.isNaN(Date.parse(String(line['time'])))).toBe(false);
    expect(String(line['error'])).toContain('order total was undefined');
    expect(String(line['stack'])).toContain('child-');
    expect(line['cause']).toEqual({
      error: 'Error: connect ECONNREFUSED 127.0.0.1:5999',
      code: 'ECONNREFUSED',
    });
  });

  it('a database password inside the message of an unexpected error does not reach stderr', async () => {
    const { stderr } = await runChild(
      `const auth = g.createAuth({ tokens: { keys: ${KEYS} } });${APP_BUG}`,
    );
    expect(stderr).toContain('postgres://app:[redacted]@db/prod');
    expect(stderr).not.toContain('hunter2');
  });

  it('logger: false writes nothing to stderr, not even for a 500', async () => {
    const { code, stderr } = await runChild(
      `const auth = g.createAuth({ tokens: { keys: ${KEYS} }, logger: false });${APP_BUG}`,
    );
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });

  it('a start without tokens.keys warns on stderr (one JSON line) that the signing key is ephemeral', async () => {
    const { stderr } = await runChild('g.createAuth();');
    const lines = stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn' });
    expect(lines[0]).toContain('ephemeral');
  });
});

describe('stderrLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  function captureStderr(): string[] {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    return written;
  }

  it('drops info and debug lines', () => {
    const written = captureStderr();
    stderrLogger.info('started', { port: 3000 });
    stderrLogger.debug('detail');
    expect(written).toEqual([]);
  });

  it('writes one line per warning, with the data after time, level and msg', () => {
    const written = captureStderr();
    stderrLogger.warn('rehash on login failed', { userId: 'u1' });
    expect(written).toHaveLength(1);
    expect(written[0]!.endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(written[0]!))).toEqual(['time', 'level', 'msg', 'userId']);
  });

  it('values under secret-sounding keys and JWTs inside texts never reach a line', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const line = jsonLogLine(
      'error',
      `token ${jwt} refused`,
      { password: 'hunter2', nested: { refreshToken: 'abc', authorization: 'Bearer x' } },
      0,
    );
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain('abc');
    expect(line).not.toContain('Bearer x');
    expect(line).not.toContain(jwt);
    expect(JSON.parse(line)).toMatchObject({ msg: 'token [redacted] refused' });
  });

  it('a circular, bigint or Error value in the data is written, never thrown', () => {
    const written = captureStderr();
    const loop: Record<string, unknown> = { id: 1 };
    loop['self'] = loop;
    const err = Object.assign(new Error('boom', { cause: new Error('root cause') }), {
      code: 'E_BOOM',
    });
    stderrLogger.error('failed', { loop, big: 10n, err });
    const line = JSON.parse(written[0]!) as Record<string, Record<string, unknown>>;
    expect(line['loop']).toEqual({ id: 1, self: '[Circular]' });
    expect(line['big']).toBe('10');
    expect(line['err']).toMatchObject({ error: 'Error: boom', code: 'E_BOOM' });
    expect(String(line['err']!['stack'])).toContain('default-logger.test.ts');
    expect(line['err']!['cause']).toMatchObject({ error: 'Error: root cause' });
  });

  it('a broken stderr does not turn a logged failure into a thrown one', () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => {
      throw new Error('EPIPE');
    });
    expect(() => stderrLogger.error('failed')).not.toThrow();
  });
});

describe('the logger option', () => {
  afterEach(() => vi.restoreAllMocks());

  function stderrLinesOf(run: () => void): string[] {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      run();
    } finally {
      vi.restoreAllMocks();
    }
    return written;
  }

  const keys = [{ kid: 'k1', alg: 'HS256' as const, key: 'a-test-secret-of-32-characters!!' }];

  it('unset, an app bug answered as 500 by the http layer is logged to stderr', () => {
    const written = stderrLinesOf(() => {
      createAuthHttp(createAuth({ tokens: { keys } })).errorResponse(new Error('bug'));
    });
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!)).toMatchObject({ level: 'error', msg: 'request failed' });
  });

  it('logger: false makes the http layer log nothing for a 500', () => {
    const written = stderrLinesOf(() => {
      createAuthHttp(createAuth({ tokens: { keys }, logger: false })).errorResponse(
        new Error('bug'),
      );
    });
    expect(written).toEqual([]);
  });

  it('logger: true is refused with a message naming the option', () => {
    expect(configError({ logger: true })).toContain(
      'logger: must be false or a Logger with methods debug, info, warn, error',
    );
  });
});
