import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  bcryptHasher,
  checkNewPassword,
  hashPassword,
  isCommonPassword,
  isRepetitivePassword,
  normalizePassword,
  verifyPassword,
} from '../../../src/index.js';

const bytes = (s: string) => new TextEncoder().encode(s).length;

describe('hashPassword / verifyPassword', () => {
  it('makes $2b$ hashes with cost 10 by default', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^\$2b\$10\$/);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
  });

  it('uses the cost it is given', async () => {
    expect(await hashPassword('correct horse battery', { cost: 11 })).toMatch(/^\$2b\$11\$/);
  });

  it('refuses a cost below 10 as too weak', async () => {
    await expect(hashPassword('correct horse battery', { cost: 9 })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining('cost'),
    });
  });

  it('verifies a $2a$ hash made by OpenBSD bcrypt (published test vector)', async () => {
    expect(
      await verifyPassword('U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
    ).toBe(true);
  });

  it('verifies a $2y$ hash made by PHP password_hash (PHP manual example)', async () => {
    expect(
      await verifyPassword(
        'rasmuslerdorf',
        '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a',
      ),
    ).toBe(true);
  });

  it('verifies a $2b$ hash made by another implementation', async () => {
    // $2a$ and $2b$ agree for passwords under 255 bytes: same vector, $2b$ prefix.
    expect(
      await verifyPassword('U*U', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'),
    ).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['not bcrypt', 'plaintext-password'],
    ['truncated', '$2b$10$abc'],
    ['bad cost', `$2b$99$${'a'.repeat(53)}`],
    ['md5 crypt', '$1$saltsalt$abcdefghijklmnopqrstuv'],
  ])('returns false, never throws, for a malformed hash (%s)', async (_, hash) => {
    expect(await verifyPassword('whatever-password', hash)).toBe(false);
  });

  it('returns false for a password over 72 bytes instead of truncating it (truncation attack)', async () => {
    const base = 'a'.repeat(72);
    const hash = await hashPassword(base);
    expect(await verifyPassword(`${base}anything-after-byte-72`, hash)).toBe(false);
  });

  const VECTOR_2A = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';
  const VECTOR_2B = VECTOR_2A.replace('$2a$', '$2b$');

  it('reports the cost of a bcrypt hash and null for anything else', () => {
    expect(bcryptHasher.costOf(VECTOR_2B)).toBe(5);
    expect(bcryptHasher.costOf('nope')).toBeNull();
    expect(bcryptHasher.costOf(`$2b$10$${'a'.repeat(53)}`)).toBeNull();
  });

  it('asks for a rehash when the cost or the version differs', () => {
    expect(bcryptHasher.needsRehash(VECTOR_2B, 5)).toBe(false);
    expect(bcryptHasher.needsRehash(VECTOR_2B, 10)).toBe(true);
    expect(bcryptHasher.needsRehash(VECTOR_2A, 5)).toBe(true);
  });
});

describe('password length and normalisation', () => {
  it('accepts a 72-byte password', () => {
    expect(normalizePassword('a'.repeat(72))).toHaveLength(72);
  });

  it('refuses a 73-byte password with VALIDATION_ERROR saying why', () => {
    expect(() => normalizePassword('a'.repeat(73))).toThrowError(
      expect.objectContaining({
        code: 'VALIDATION_ERROR',
        message: expect.stringMatching(/72 bytes/),
      }),
    );
  });

  it('counts bytes, not characters: 24 three-byte characters fit, 25 do not', () => {
    expect(bytes('€'.repeat(24))).toBe(72);
    expect(() => normalizePassword('€'.repeat(24))).not.toThrow();
    expect(() => normalizePassword('€'.repeat(25))).toThrow(AuthError);
  });

  it('refuses a 1 MiB password without normalising it', () => {
    const huge = 'x'.repeat(1024 * 1024);
    const start = performance.now();
    expect(() => normalizePassword(huge)).toThrowError(
      expect.objectContaining({ code: 'VALIDATION_ERROR' }),
    );
    expect(performance.now() - start).toBeLessThan(50);
  });

  it('normalises NFC and NFD forms to the same password', () => {
    const nfc = 'caf\u00e9-p\u00e4ssw\u00f6rd';
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    expect(normalizePassword(nfd)).toBe(normalizePassword(nfc));
  });

  it('folds compatibility forms under NFKC (full-width letters)', () => {
    expect(normalizePassword('ｐａｓｓｗｏｒｄ')).toBe('password');
  });

  it('counts length in code points: 8 emoji meet a minimum of 8', async () => {
    const emoji = '🔑🐎🔋📎🌵🦀🎲🧭';
    await expect(checkNewPassword(emoji, { minLength: 8 })).resolves.toBe(emoji);
  });

  it('refuses 7 emoji for a minimum of 8 although they are 14 UTF-16 units', async () => {
    await expect(checkNewPassword('🔑'.repeat(7), { minLength: 8 })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining('at least 8'),
    });
  });

  it('refuses a password the check hook rejects, with its reason', async () => {
    const check = (pw: string) => (pw === 'blocked-by-hook' ? 'it is on the blocklist' : null);
    await expect(
      checkNewPassword('blocked-by-hook', { minLength: 8, check }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: 'Password refused: it is on the blocklist',
    });
    await expect(checkNewPassword('unlisted-pass', { minLength: 8, check })).resolves.toBe(
      'unlisted-pass',
    );
  });

  it('passes the email and name to the check hook', async () => {
    let seen: unknown;
    await checkNewPassword(
      'some-password',
      {
        minLength: 8,
        check: (_, context) => {
          seen = context;
          return null;
        },
      },
      { email: 'a@example.com', name: 'A' },
    );
    expect(seen).toEqual({ email: 'a@example.com', name: 'A' });
  });

  it('refuses a missing or non-string password', async () => {
    for (const value of [undefined, null, 42, {}, '']) {
      await expect(checkNewPassword(value, { minLength: 8 })).rejects.toMatchObject({
        code: 'VALIDATION_ERROR',
      });
    }
  });
});

describe('password policy properties', () => {
  it('refuses every password whose NFKC form is over 72 UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 }), (pw) => {
        const tooLong = bytes(pw.normalize('NFKC')) > 72;
        let refused = false;
        try {
          normalizePassword(pw);
        } catch (err) {
          refused = (err as AuthError).code === 'VALIDATION_ERROR';
        }
        return refused === tooLong;
      }),
    );
  });

  it('accepts exactly the passwords with enough code points that fit in 72 bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 80 }), async (pw) => {
        const normalized = pw.normalize('NFKC');
        const expected =
          pw.length > 0 &&
          bytes(normalized) <= 72 &&
          [...normalized].length >= 8 &&
          !isCommonPassword(normalized) &&
          !isRepetitivePassword(normalized);
        const accepted = await checkNewPassword(pw, { minLength: 8 }).then(
          () => true,
          () => false,
        );
        return accepted === expected;
      }),
    );
  });

  it('normalisation is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), (pw) => {
        const once = normalizePassword(pw);
        return normalizePassword(once) === once;
      }),
    );
  });
});
