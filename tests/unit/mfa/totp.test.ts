import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  decodeBase32,
  encodeBase32,
  generateTotpSecret,
  totpCodeAt,
  totpCodeAtStep,
  totpStepAt,
  totpUri,
  verifyTotp,
} from '../../../src/mfa/totp.js';
import type { RandomSource } from '../../../src/runtime.js';

// The real node:crypto, with timingSafeEqual observed (it still compares): the constant-time
// test counts the comparisons verifyTotp makes.
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890", 8 digits.
const RFC_SEED = new TextEncoder().encode('12345678901234567890');
const RFC_VECTORS: [seconds: number, code: string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

/** A fixed random source: the bytes 0, 1, 2, … (only for tests). */
const counting: RandomSource = {
  bytes: (length) => Uint8Array.from({ length }, (_, i) => i),
};

const T0 = Date.parse('2026-03-01T12:00:10Z'); // 10 s into a step
const SECRET = encodeBase32(RFC_SEED);

describe('TOTP arithmetic (@oslojs/otp) against RFC 6238 Appendix B', () => {
  for (const [seconds, code] of RFC_VECTORS) {
    it(`T = ${seconds} s gives ${code} (SHA-1, 8 digits)`, () => {
      expect(totpCodeAtStep(RFC_SEED, totpStepAt(seconds * 1000), 8)).toBe(code);
    });
  }

  it('the 6-digit code is the last six digits of the RFC value (same truncation, mod 10^6)', () => {
    for (const [seconds, code] of RFC_VECTORS) {
      expect(totpCodeAt(SECRET, seconds * 1000)).toBe(code.slice(2));
    }
  });

  it('matches an independent HMAC-SHA1 computation (RFC 4226 dynamic truncation) for many steps', () => {
    for (let step = 0; step < 200; step += 7) {
      const counter = Buffer.alloc(8);
      counter.writeBigUInt64BE(BigInt(step));
      const mac = createHmac('sha1', RFC_SEED).update(counter).digest();
      const offset = (mac[19] as number) & 0x0f;
      const value = mac.readUInt32BE(offset) & 0x7fffffff;
      expect(totpCodeAtStep(RFC_SEED, step)).toBe(String(value % 1_000_000).padStart(6, '0'));
    }
  });
});

describe('base32 (RFC 4648)', () => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  for (const [plain, encoded] of vectors) {
    it(`"${plain}" <-> "${encoded}"`, () => {
      expect(encodeBase32(new TextEncoder().encode(plain))).toBe(encoded);
      expect(new TextDecoder().decode(decodeBase32(encoded))).toBe(plain);
      expect(new TextDecoder().decode(decodeBase32(`${encoded.toLowerCase()}======`))).toBe(plain);
    });
  }

  it('a secret that is not base32 is a TypeError, not a silently different key', () => {
    expect(() => decodeBase32('MZXW6YT1')).toThrow(TypeError);
    expect(() => decodeBase32('M')).toThrow(TypeError);
  });
});

describe('generateTotpSecret', () => {
  it('is 160 bits of the injected randomness, base32 without padding (32 characters)', () => {
    const secret = generateTotpSecret(counting);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect([...decodeBase32(secret)]).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('a random source that returns too few bytes is refused (never a short secret)', () => {
    expect(() => generateTotpSecret({ bytes: () => new Uint8Array(19) })).toThrow(TypeError);
  });
});

describe('totpUri', () => {
  it('is the Key URI Format with SHA1, 6 digits and 30 s, issuer and account percent-encoded', () => {
    const uri = totpUri({ issuer: 'Acme Shop', account: 'ada+mfa@example.com', secret: SECRET });
    expect(uri).toBe(
      `otpauth://totp/Acme%20Shop:ada%2Bmfa%40example.com?secret=${SECRET}&issuer=Acme%20Shop&algorithm=SHA1&digits=6&period=30`,
    );
    const parsed = new URL(uri);
    expect(parsed.searchParams.get('secret')).toBe(SECRET);
    expect(parsed.searchParams.get('issuer')).toBe('Acme Shop');
  });

  it('an issuer or account with a colon is refused (it would forge the label separator)', () => {
    expect(() =>
      totpUri({ issuer: 'Evil:Bank', account: 'a@example.com', secret: SECRET }),
    ).toThrow(/issuer/);
    expect(() => totpUri({ issuer: 'Acme', account: 'x:y', secret: SECRET })).toThrow(/account/);
    expect(() => totpUri({ issuer: ' ', account: 'a@example.com', secret: SECRET })).toThrow(
      /issuer/,
    );
  });
});

describe('verifyTotp with an injected clock', () => {
  const step = totpStepAt(T0);

  it('the current code is accepted and the matched step returned', () => {
    expect(verifyTotp(SECRET, totpCodeAt(SECRET, T0), T0)).toBe(step);
  });

  it('clock skew of one step either way is tolerated (phone 30 s behind or ahead)', () => {
    expect(verifyTotp(SECRET, totpCodeAt(SECRET, T0 - 30_000), T0)).toBe(step - 1);
    expect(verifyTotp(SECRET, totpCodeAt(SECRET, T0 + 30_000), T0)).toBe(step + 1);
  });

  it('a code two steps old or two steps ahead is refused (skew beyond ±1 step)', () => {
    const old = totpCodeAt(SECRET, T0 - 60_000);
    const ahead = totpCodeAt(SECRET, T0 + 60_000);
    // Guard the test itself: the codes must differ from those inside the window.
    for (const d of [-1, 0, 1]) {
      expect(totpCodeAt(SECRET, T0 + d * 30_000)).not.toBe(old);
      expect(totpCodeAt(SECRET, T0 + d * 30_000)).not.toBe(ahead);
    }
    expect(verifyTotp(SECRET, old, T0)).toBeNull();
    expect(verifyTotp(SECRET, ahead, T0)).toBeNull();
  });

  it('a code expires as the injected clock moves: accepted at +30 s, refused at +60 s (no sleeping)', () => {
    const code = totpCodeAt(SECRET, T0);
    expect(verifyTotp(SECRET, code, T0 + 30_000)).toBe(step);
    expect(verifyTotp(SECRET, code, T0 + 60_000)).toBeNull();
  });

  it('window 0 accepts only the current step', () => {
    expect(verifyTotp(SECRET, totpCodeAt(SECRET, T0), T0, 0)).toBe(step);
    expect(verifyTotp(SECRET, totpCodeAt(SECRET, T0 - 30_000), T0, 0)).toBeNull();
  });

  it('only exactly six ASCII digits are accepted: 8-digit RFC codes, spaces, signs, full-width digits are refused', () => {
    const code = totpCodeAt(SECRET, T0);
    const eight = totpCodeAtStep(decodeBase32(SECRET), step, 8);
    for (const input of [
      eight,
      ` ${code}`,
      `${code} `,
      `${code}\n`,
      code.slice(1),
      `+${code.slice(1)}`,
      code.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))),
      '',
      '１２３４５６',
    ]) {
      expect(verifyTotp(SECRET, input, T0), JSON.stringify(input)).toBeNull();
    }
    expect(verifyTotp(SECRET, 123456 as unknown as string, T0)).toBeNull();
  });

  it('a wrong code is refused', () => {
    const code = totpCodeAt(SECRET, T0);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const inWindow = [-1, 0, 1].map((d) => totpCodeAt(SECRET, T0 + d * 30_000));
    expect(inWindow).not.toContain(wrong);
    expect(verifyTotp(SECRET, wrong, T0)).toBeNull();
  });

  it('a window outside 0–10 or a secret that is not base32 is a TypeError (a bug, not a wrong code)', () => {
    expect(() => verifyTotp(SECRET, '123456', T0, -1)).toThrow(TypeError);
    expect(() => verifyTotp(SECRET, '123456', T0, 11)).toThrow(TypeError);
    expect(() => verifyTotp(SECRET, '123456', T0, 1.5)).toThrow(TypeError);
    expect(() => verifyTotp('not base32!', '123456', T0)).toThrow(TypeError);
  });

  it('constant-time path: a wrong code computes and compares every step of the window, like a right one (no early exit)', () => {
    const compare = vi.mocked(timingSafeEqual);
    const comparisons = (code: string) => {
      compare.mockClear();
      verifyTotp(SECRET, code, T0, 2);
      return compare.mock.calls.length;
    };
    expect(comparisons(totpCodeAt(SECRET, T0 - 60_000))).toBe(5); // matches the first step
    expect(comparisons(totpCodeAt(SECRET, T0))).toBe(5);
    expect(comparisons('000000')).toBe(5);
    expect(comparisons('99999')).toBe(0); // not six digits: refused before any HMAC
  });
});
