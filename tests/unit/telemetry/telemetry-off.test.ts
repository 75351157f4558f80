// Telemetry off. This file imports no OpenTelemetry package at its top: the first tests check that
// `telemetry: false` never loads @opentelemetry/api into this process.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryTokenStore, MemoryUserStore } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { openTelemetryApiLoads } from '../../../src/telemetry/load.js';
import { noopTelemetry, type Telemetry } from '../../../src/telemetry/telemetry.js';
import { resolveTokenOptions } from '../../../src/tokens/options.js';
import { createTokenService } from '../../../src/tokens/service.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';
import { ManualClock } from '../../helpers/fakes.js';

const require = createRequire(import.meta.url);

/** Whether @opentelemetry/api (its CommonJS build, what gatehouse requires) is in this process. */
function apiLoaded(): boolean {
  return Object.keys(require.cache).some((path) => /[\\/]@opentelemetry[\\/]api[\\/]/.test(path));
}

/** The TypeScript files under `dir`, recursively. */
function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('telemetry off', () => {
  it('telemetry: false never loads @opentelemetry/api and uses the shared frozen no-op', async () => {
    expect(apiLoaded()).toBe(false);
    const { auth } = makeAuth({ telemetry: false });
    await registerUser(auth);
    const { token } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.verifyAccessToken(token);
    expect(internalsOf(auth).telemetry).toBe(noopTelemetry);
    expect(Object.isFrozen(noopTelemetry)).toBe(true);
    expect(noopTelemetry.enabled).toBe(false);
    expect(openTelemetryApiLoads()).toBe(0);
    expect(apiLoaded()).toBe(false);
  });

  it('without a provider given or registered, the API is loaded once and the instance gets the shared no-op (nothing to record into)', async () => {
    const first = makeAuth();
    const second = makeAuth({ telemetry: {} });
    expect(internalsOf(first.auth).telemetry).toBe(noopTelemetry);
    expect(internalsOf(second.auth).telemetry).toBe(noopTelemetry);
    expect(openTelemetryApiLoads()).toBe(1);
    expect(apiLoaded()).toBe(true);
  });

  it('with telemetry off the stores createAuth holds are the very objects it was given (no wrapper)', () => {
    const users = new MemoryUserStore();
    const tokens = new MemoryTokenStore();
    const { auth } = makeAuth({ telemetry: false, stores: { users, tokens } });
    expect(internalsOf(auth).stores.users).toBe(users);
    expect(internalsOf(auth).stores.tokens).toBe(tokens);
  });

  it('the cache-hit path touches nothing of a disabled Telemetry (not even enabled) and answers synchronously', async () => {
    const touched: string[] = [];
    const spy = new Proxy(noopTelemetry, {
      get(target, property, receiver) {
        touched.push(String(property));
        return Reflect.get(target, property, receiver);
      },
    }) as Telemetry;
    const clock = new ManualClock();
    const tokens = createTokenService({
      options: resolveTokenOptions({
        keys: [{ kid: 'k1', alg: 'HS256', key: 'a-test-secret-of-32-characters!!' }],
      }),
      store: new MemoryTokenStore(),
      users: new MemoryUserStore(),
      clock,
      random: { bytes: (n) => randomBytes(n) },
      audit: { emit: () => {} },
      telemetry: spy,
    });
    expect(touched).toEqual(['enabled']);
    touched.length = 0;
    const { token } = await tokens.startSession({
      id: 'u1',
      email: 'ada@example.com',
      role: 'user',
    });
    await tokens.verifyAccessToken(token); // the miss that fills the cache
    touched.length = 0;
    for (let i = 0; i < 100; i++) {
      const hit = tokens.verifyCachedAccessToken(token);
      expect(hit).not.toBeInstanceOf(Promise);
      expect(hit).toMatchObject({ userId: 'u1' });
    }
    expect(touched).toEqual([]);
  });

  it('no module of the core or the adapters imports @opentelemetry/api at run time (types only; it is loaded lazily)', () => {
    const files = [...sourcesUnder('src'), ...sourcesUnder('adapters')];
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.filter((file) => {
      const text = readFileSync(file, 'utf8');
      // Any import or re-export of an @opentelemetry package that is not `import type`.
      return (
        /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+['"]@opentelemetry\//m.test(text) ||
        /\bimport\(\s*['"]@opentelemetry\//.test(text) ||
        /\brequire\(\s*['"]@opentelemetry\/(?!api['"])/.test(text)
      );
    });
    expect(offenders).toEqual([]);
    // The one place that loads it: a createRequire call, reached only when telemetry is not false.
    const loaders = files.filter((file) =>
      /require\('@opentelemetry\/api'\)/.test(readFileSync(file, 'utf8')),
    );
    expect(loaders).toEqual([join('src', 'telemetry', 'load.ts')]);
  });

  it('without @opentelemetry/api installed, providers given only log a warning: telemetry is off and login works', () => {
    // A real process in which resolving @opentelemetry/api fails, as when it is not installed.
    const hideApi = `
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === '@opentelemetry/api') {
          const err = new Error("Cannot find module '@opentelemetry/api'");
          err.code = 'MODULE_NOT_FOUND';
          throw err;
        }
        return resolve.call(this, request, ...rest);
      };`;
    const script = `
      ${hideApi}
      (async () => {
        const { createAuth } = await import('./src/index.ts');
        const { internalsOf } = await import('./src/internal/handle.ts');
        const warnings = [];
        const logger = { debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) };
        const provider = { getMeter() { throw new Error('must not be called'); } };
        const auth = createAuth({ logger, telemetry: { meterProvider: provider } });
        await auth.register({ email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' });
        const { token } = await auth.login({ email: 'ada@example.com', password: 'correct horse battery' });
        await auth.verifyAccessToken(token);
        const plain = createAuth({ logger });
        console.log(JSON.stringify({
          enabled: internalsOf(auth).telemetry.enabled,
          same: internalsOf(auth).telemetry === internalsOf(plain).telemetry,
          warnings: warnings.filter((w) => w.includes('@opentelemetry/api')).length,
        }));
      })().catch((err) => { console.error(err); process.exit(1); });`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: process.cwd(),
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'test' },
      timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      enabled: false,
      same: true,
      warnings: 1,
    });
  }, 40_000);
});
