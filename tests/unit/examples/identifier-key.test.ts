import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../examples/common/env.js';
import { identifierKey, signingKey } from '../../../examples/common/keys.js';
import { createLogger } from '../../../examples/common/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-idkey-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logger = createLogger('silent');
const SECRET = 'a-jwt-secret-of-at-least-32-characters!!';

function keyFor(env: Record<string, string>) {
  const config = loadConfig({ DATA_DIR: dir, ...env });
  return Buffer.from(identifierKey(config, signingKey(config, logger))).toString('hex');
}

describe('the example identifier key (split lockout across instances)', () => {
  it('is the same for every process signing with one key, and differs for another signing key', () => {
    expect(keyFor({ JWT_SECRET: SECRET })).toBe(keyFor({ JWT_SECRET: SECRET }));
    expect(keyFor({ JWT_SECRET: SECRET })).not.toBe(keyFor({ JWT_SECRET: `${SECRET}-2` }));
    // The development key persisted in DATA_DIR, asymmetric too: stable across restarts.
    expect(keyFor({ JWT_ALGORITHM: 'EdDSA' })).toBe(keyFor({ JWT_ALGORITHM: 'EdDSA' }));
  });

  it('is derived, never the signing secret itself', () => {
    expect(keyFor({ JWT_SECRET: SECRET })).not.toContain(Buffer.from(SECRET).toString('hex'));
  });

  it('takes AUTH_IDENTIFIER_KEY when set, and redacts it in a configuration error', () => {
    const given = 'an-identifier-key-of-32-characters!!';
    expect(keyFor({ JWT_SECRET: SECRET, AUTH_IDENTIFIER_KEY: given })).toBe(
      Buffer.from(given).toString('hex'),
    );
    expect(() => loadConfig({ AUTH_IDENTIFIER_KEY: 'short-secret' })).toThrow(
      /AUTH_IDENTIFIER_KEY: must be at least 32 characters \(got "\[redacted\]"\)/,
    );
  });
});
