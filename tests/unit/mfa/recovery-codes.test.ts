import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  normaliseRecoveryCode,
  RECOVERY_CODE_COUNT,
} from '../../../src/mfa/recovery-codes.js';
import { generateTotpSecret } from '../../../src/mfa/totp.js';
import { cryptoRandom, type RandomSource } from '../../../src/runtime.js';

const SECRET = generateTotpSecret(cryptoRandom);

/** A fixed random source (tests only): the bytes 0, 1, 2, … of a running counter. */
function counter(): RandomSource {
  let next = 0;
  return { bytes: (length) => Uint8Array.from({ length }, () => next++ & 0xff) };
}

describe('recovery codes', () => {
  it('ten distinct codes xxxx-xxxx-xx from an alphabet without i, l, o, u', () => {
    const codes = generateRecoveryCodes(cryptoRandom);
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes)
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{2}$/);
  });

  it('come from the injected randomness, 5 bits per symbol (50 bits per code)', () => {
    const [first] = generateRecoveryCodes(counter(), 1);
    expect(first).toBe('0123-4567-89');
    // Every one of the 32 symbols is reachable (a byte keeps its low 5 bits).
    const seen = new Map<string, number>();
    const all = { bytes: (n: number) => Uint8Array.from({ length: n }, (_, i) => i) };
    for (let start = 0; start < 256; start += 10) {
      const [code] = generateRecoveryCodes(
        { bytes: (n) => all.bytes(n).map((b) => (b + start) & 0xff) },
        1,
      );
      for (const symbol of (code as string).replace(/-/g, '')) {
        seen.set(symbol, (seen.get(symbol) ?? 0) + 1);
      }
    }
    expect(seen.size).toBe(32);
  });

  it('a random source that repeats itself forever is refused instead of looping (broken RNG)', () => {
    const stuck = { bytes: (n: number) => new Uint8Array(n) };
    expect(() => generateRecoveryCodes(stuck)).toThrow(/repeating/);
    expect(() => generateRecoveryCodes({ bytes: () => new Uint8Array(3) })).toThrow(TypeError);
  });

  it('typed input is normalised: case, dashes, spaces, and o/i/l read as 0/1/1', () => {
    expect(normaliseRecoveryCode('ABCD-EFGH-JK')).toBe('abcdefghjk');
    expect(normaliseRecoveryCode(' abcd efgh jk ')).toBe('abcdefghjk');
    expect(normaliseRecoveryCode('abcdefghjk')).toBe('abcdefghjk');
    expect(normaliseRecoveryCode('O1lI-2345-67')).toBe('0111234567');
  });

  it('input that cannot be a code is null (wrong length, letter u, punctuation, huge input)', () => {
    for (const input of [
      '',
      'abcd-efgh-j',
      'abcd-efgh-jkm',
      'abcd-efgh-ju',
      'abcd_efgh_jk',
      "abcd'efgh-jk",
      'a'.repeat(100_000),
      42 as unknown as string,
    ]) {
      expect(normaliseRecoveryCode(input), String(input).slice(0, 20)).toBeNull();
    }
  });

  it('the stored hash is keyed: 43 base64url characters, not the code, not a plain SHA-256', () => {
    const [code] = generateRecoveryCodes(cryptoRandom, 1) as [string];
    const hash = hashRecoveryCode(SECRET, 'user-1', code);
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain(code.replace(/-/g, ''));
    // A different secret (another enrolment, another deployment) gives another hash.
    expect(hashRecoveryCode(generateTotpSecret(cryptoRandom), 'user-1', code)).not.toBe(hash);
  });

  it('the typed variants of a code hash alike, so the lookup finds it', () => {
    const code = 'ab0d-ef1h-jk';
    const hash = hashRecoveryCode(SECRET, 'u', code);
    for (const typed of ['AB0D-EF1H-JK', 'abod efih jk', 'ABOD EFLH JK', 'ab0def1hjk']) {
      expect(hashRecoveryCode(SECRET, 'u', typed), typed).toBe(hash);
    }
  });

  it("a code hashed for one user does not match another user's (a stolen code list is bound to its account)", () => {
    const code = 'abcd-efgh-jk';
    expect(hashRecoveryCode(SECRET, 'user-1', code)).not.toBe(
      hashRecoveryCode(SECRET, 'user-2', code),
    );
  });

  it('malformed input gives null (the caller answers as for a wrong code), and no HMAC is computed over it', () => {
    expect(hashRecoveryCode(SECRET, 'u', 'not a code')).toBeNull();
    expect(hashRecoveryCode(SECRET, 'u', randomBytes(5000).toString('hex'))).toBeNull();
  });
});
