import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../examples/common/env.js';
import { envError as configError } from '../../helpers/config-errors.js';

describe('example configuration from the environment', () => {
  it('uses the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      JWT_ALGORITHM: 'HS256',
      BCRYPT_COST: 10,
      AUTH_LOCKOUT_THRESHOLD: 5,
      LOG_LEVEL: 'info',
      INSECURE_COOKIES: true,
    });
    expect(config.JWT_EXPIRES_IN.ms).toBe(15 * 60_000);
    expect(config.REFRESH_EXPIRES_IN.ms).toBe(30 * 86_400_000);
    expect(config.AUTH_LOGIN_RATE_LIMIT).toMatchObject({ limit: 5, windowMs: 60_000 });
    expect(config.AUTH_LOCKOUT_DURATION.ms).toBe(60_000);
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT: must be a whole number/],
    [{ JWT_ALGORITHM: 'none' }, /JWT_ALGORITHM:/],
    [{ JWT_EXPIRES_IN: 'forever' }, /JWT_EXPIRES_IN: must be a duration/],
    [{ BCRYPT_COST: '8' }, /BCRYPT_COST: must be a whole number from 10/],
    [{ AUTH_LOGIN_RATE_LIMIT: 'lots' }, /AUTH_LOGIN_RATE_LIMIT: must look like/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL:/],
    [{ ADMIN_EMAIL: 'root@example.com' }, /ADMIN_PASSWORD: must be set together/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET: must be at least 32 characters/],
    [
      { ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'short admin' },
      /ADMIN_PASSWORD: must be at least 15 characters/,
    ],
  ])('names the variable of a bad value: %j', (env, message) => {
    expect(configError(env)).toMatch(message);
  });

  it('requires a signing secret in production and refuses insecure cookies there', () => {
    const message = configError({ NODE_ENV: 'production', INSECURE_COOKIES: 'true' });
    expect(message).toMatch(/JWT_SECRET: is required when NODE_ENV=production/);
    expect(message).toMatch(/INSECURE_COOKIES: cannot be enabled when NODE_ENV=production/);
    expect(message).toMatch(/AUTH_IDENTIFIER_KEY: is required when NODE_ENV=production/);
    expect(configError({ NODE_ENV: 'production', JWT_ALGORITHM: 'EdDSA' })).toMatch(
      /JWT_PRIVATE_KEY: is required/,
    );
  });

  it('never echoes a secret value in its message', () => {
    expect(configError({ JWT_SECRET: 'tiny-secret' })).not.toContain('tiny-secret');
  });

  it('stops the app with exit code 1 and the message naming the variable', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'examples/express-api/server.ts'],
      {
        env: { PATH: process.env.PATH ?? '', PORT: 'not-a-port' },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/Invalid configuration:\n\s+PORT: must be a whole number/);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
