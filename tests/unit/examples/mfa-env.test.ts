import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'uqr';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../examples/common/env.js';
import { createLogger } from '../../../examples/common/logger.js';
import { mfaEncryptionKeys, mfaQrCodeOf, parseMfaKey } from '../../../examples/common/mfa.js';
import { createSecretBox } from '../../../src/mfa/secret-box.js';
import { envError } from '../../helpers/config-errors.js';

const KEY_BYTES = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger('debug', (line) => lines.push(JSON.parse(line))) };
}

describe('example MFA key (MFA_KEY) and QR code', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('production without MFA_KEY refuses to start (every instance must decrypt the same secrets)', () => {
    expect(envError({ NODE_ENV: 'production' })).toMatch(
      /MFA_KEY: is required when NODE_ENV=production/,
    );
  });

  it.each([
    ['base64', KEY_BYTES.toString('base64')],
    ['base64url without padding', KEY_BYTES.toString('base64url')],
    ['hex', KEY_BYTES.toString('hex')],
  ])('accepts a 32-byte key as %s, with an id derived from the key', (_name, text) => {
    const config = loadConfig({ MFA_KEY: text });
    const key = mfaEncryptionKeys(config, capture().logger)[0]!;
    expect(Buffer.from(key.key)).toEqual(KEY_BYTES);
    expect(key.id).toMatch(/^env-[0-9a-f]{8}$/);
  });

  it.each([
    ['too short', KEY_BYTES.subarray(0, 16).toString('base64')],
    ['31 bytes of hex', KEY_BYTES.subarray(0, 31).toString('hex')],
    ['not base64 or hex', 'a passphrase is not a key, even a long one!!'],
  ])('refuses an MFA_KEY that is %s, without echoing it in the error', (_name, text) => {
    const message = envError({ MFA_KEY: text });
    expect(message).toMatch(/MFA_KEY: must be 32 bytes/);
    expect(message).not.toContain(text);
    expect(parseMfaKey(text)).toBeNull();
  });

  it('rotation: after MFA_KEY moves to MFA_PREVIOUS_KEYS behind a new MFA_KEY, a secret sealed with the old key still opens (and is marked for re-sealing), new seals use the new key', () => {
    const oldKey = KEY_BYTES.toString('base64');
    const newKey = Buffer.alloc(32, 9).toString('hex');
    const before = createSecretBox(
      mfaEncryptionKeys(loadConfig({ MFA_KEY: oldKey }), capture().logger),
    );
    const sealed = before.seal('user-1', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    const rotatedKeys = mfaEncryptionKeys(
      loadConfig({ MFA_KEY: newKey, MFA_PREVIOUS_KEYS: oldKey }),
      capture().logger,
    );
    expect(rotatedKeys).toHaveLength(2);
    const after = createSecretBox(rotatedKeys);
    expect(after.open('user-1', sealed)).toEqual({
      plaintext: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
      stale: true,
    });
    const resealed = after.seal('user-1', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect(resealed.split('.')[1]).toBe(rotatedKeys[0]!.id);
    expect(after.open('user-1', resealed).stale).toBe(false);
    expect(envError({ MFA_PREVIOUS_KEYS: `${oldKey},not-a-key` })).toMatch(
      /MFA_PREVIOUS_KEYS: must be comma-separated keys of 32 bytes/,
    );
  });

  it('AUTH_MFA_REQUIRED_ROLES names roles of the policy; a typo is refused rather than silently requiring nothing', () => {
    expect(loadConfig({}).AUTH_MFA_REQUIRED_ROLES).toEqual([]);
    expect(loadConfig({ AUTH_MFA_REQUIRED_ROLES: 'admin, user' }).AUTH_MFA_REQUIRED_ROLES).toEqual([
      'admin',
      'user',
    ]);
    expect(envError({ AUTH_MFA_REQUIRED_ROLES: 'admins' })).toMatch(
      /AUTH_MFA_REQUIRED_ROLES: must be comma-separated roles of the policy \(user, admin\)/,
    );
  });

  it('without MFA_KEY: a development key made once in DATA_DIR (mode 0600), the same after a restart; the warning names the file, never the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mfa-key-'));
    dirs.push(dir);
    const first = capture();
    const key = mfaEncryptionKeys(loadConfig({ DATA_DIR: dir }), first.logger)[0]!;
    const file = join(dir, 'dev-mfa-key.txt');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(key.key)).toEqual(Buffer.from(readFileSync(file, 'utf8'), 'base64'));
    expect(key.id).toMatch(/^dev-[0-9a-f]{8}$/);
    expect(first.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'using a development MFA encryption key; set MFA_KEY in production',
        file,
      }),
    ]);
    expect(JSON.stringify(first.lines)).not.toContain(readFileSync(file, 'utf8'));
    // A restart (a new config object) reads the same key.
    const [again] = mfaEncryptionKeys(loadConfig({ DATA_DIR: dir }), capture().logger);
    expect(again).toEqual(key);
  });

  it('one warning per process however many gatehouse instances ask for the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mfa-key-'));
    dirs.push(dir);
    const config = loadConfig({ DATA_DIR: dir });
    const { lines, logger } = capture();
    for (let i = 0; i < 3; i++) mfaEncryptionKeys(config, logger);
    expect(lines).toHaveLength(1);
  });

  it('the QR code path draws exactly the dark modules of the URI’s QR code', () => {
    const uri = 'otpauth://totp/gatehouse%20example:ada%40example.com?secret=JBSWY3DPEHPK3PXP';
    const { success, size, path } = mfaQrCodeOf({ uri });
    const qr = encode(uri, { ecc: 'M', border: 0 });
    expect(success).toBe(true);
    expect(size).toBe(qr.size);
    const drawn = new Set(
      [...path.matchAll(/M(\d+) (\d+)h1v1h-1z/g)].map((m) => `${m[1]},${m[2]}`),
    );
    const dark = new Set<string>();
    qr.data.forEach((row, y) => {
      row.forEach((on, x) => {
        if (on) dark.add(`${x},${y}`);
      });
    });
    expect(drawn).toEqual(dark);
  });

  it.each([
    ['no body', undefined],
    ['a URI of another scheme', { uri: 'https://evil.example/?secret=JBSWY3DPEHPK3PXP' }],
    ['an HOTP URI', { uri: 'otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP' }],
    ['a URI of 513 characters', { uri: `otpauth://totp/${'a'.repeat(498)}` }],
    ['a number', { uri: 42 }],
  ])(
    'the QR route refuses %s with VALIDATION_ERROR (it renders authenticator URIs only)',
    (_name, body) => {
      expect(() => mfaQrCodeOf(body)).toThrow(
        expect.objectContaining({ code: 'VALIDATION_ERROR' }),
      );
    },
  );
});
