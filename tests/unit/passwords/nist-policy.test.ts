import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  commonPasswordList,
  OUTPUT,
  renderModule,
  SOURCE_PACKAGE,
  sourceVersion,
} from '../../../scripts/build-common-passwords.js';
import { checkNewPassword, isCommonPassword, isRepetitivePassword } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { commonPasswords, decodeCommonPasswords } from '../../../src/passwords/common-passwords.js';
import {
  COMMON_PASSWORDS_COUNT,
  COMMON_PASSWORDS_DATA,
  COMMON_PASSWORDS_SOURCE,
} from '../../../src/passwords/common-passwords-data.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';

/** The reason a password is refused with, or 'accepted'. */
async function verdict(
  password: string,
  context: { email?: string; name?: string } = {},
  rules: { minLength?: number; productName?: string } = {},
): Promise<string> {
  try {
    await checkNewPassword(password, { minLength: 15, ...rules }, context);
    return 'accepted';
  } catch (err) {
    const e = err as { code: string; details?: { reason?: string } };
    expect(e.code).toBe('VALIDATION_ERROR');
    return e.details?.reason ?? 'no reason';
  }
}

function configError(options: Parameters<typeof makeAuth>[0]): string {
  try {
    makeAuth(options);
  } catch (err) {
    expect(err).toMatchObject({ code: 'INVALID_CONFIG' });
    return (err as Error).message;
  }
  throw new Error('createAuth accepted invalid options');
}

describe('minimum length (NIST SP 800-63B-4: 15 when the password is the only factor)', () => {
  it('defaults to 15 code points: a 14-character password is refused as too_short, 15 pass', async () => {
    const { auth } = makeAuth();
    expect(internalsOf(auth).config.passwords.minLength).toBe(15);
    await expect(
      auth.register({ email: 'ada@example.com', password: 'mauve lantern o', name: 'Ada' }),
    ).resolves.toMatchObject({ email: 'ada@example.com' });
    await expect(
      auth.register({ email: 'bob@example.com', password: 'mauve lantern ', name: 'Bob' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: 'Password must be at least 15 characters long.',
      details: { field: 'password', reason: 'too_short' },
    });
  });

  it('a minimum below 15 is refused at start-up, pointing to passwords.minLengthWithMfa for accounts with a second factor', () => {
    expect(configError({ passwords: { minLength: 14 } })).toMatch(
      /passwords\.minLength: must be at least 15: .*second factor set passwords\.minLengthWithMfa/,
    );
    expect(configError({ passwords: { minLength: 8 } })).toMatch(/passwords\.minLength/);
    expect(
      internalsOf(makeAuth({ passwords: { minLength: 15 } }).auth).config.passwords.minLength,
    ).toBe(15);
  });

  it('a password over 72 UTF-8 bytes is still refused as too_long, not truncated', async () => {
    expect(await verdict('mauve lantern orbit pickle '.repeat(3))).toBe('too_long');
  });
});

describe('common-password blocklist', () => {
  it('holds the whole corpus of @zxcvbn-ts/language-common: at least 40 000 passwords', () => {
    expect(COMMON_PASSWORDS_COUNT).toBeGreaterThanOrEqual(40_000);
    expect(commonPasswords().size).toBe(COMMON_PASSWORDS_COUNT);
  });

  it('the committed data module is not stale against the installed devDependency', () => {
    const list = commonPasswordList();
    expect(COMMON_PASSWORDS_SOURCE).toBe(`${SOURCE_PACKAGE}@${sourceVersion()}`);
    expect(COMMON_PASSWORDS_COUNT).toBe(list.length);
    // Compared decoded, not byte for byte: another zlib may deflate the same list differently.
    expect(decodeCommonPasswords(COMMON_PASSWORDS_DATA)).toEqual(list);
    const regenerated = renderModule(list, sourceVersion());
    const header = (text: string) =>
      text.slice(0, text.indexOf('export const COMMON_PASSWORDS_DATA'));
    expect(header(readFileSync(OUTPUT, 'utf8'))).toBe(header(regenerated));
  });

  it.each([
    'passwordpassword',
    '1qaz2wsx3edc4rfv',
    'qwertyuiop12345',
    'mailcreated5240',
    'momsanaladventure',
  ])('a password from the common-password corpus (%s) is refused as common', async (password) => {
    const { auth } = makeAuth();
    await expect(
      auth.register({ email: 'ada@example.com', password, name: 'Ada' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: 'Password is one of the most common passwords; choose another.',
      details: { field: 'password', reason: 'common' },
    });
  });

  it('a common password disguised by case or full-width letters is refused as common (NFKC + case folding)', async () => {
    expect(await verdict('PassWordPASSWORD')).toBe('common');
    expect(await verdict('ｐａｓｓｗｏｒｄｐａｓｓｗｏｒｄ')).toBe('common');
  });

  it('with minLength 8 (second factor), short corpus entries such as trustno1 are refused as common', async () => {
    for (const password of ['trustno1', 'Sunshine', 'letmein123', 'FOOTBALL']) {
      expect(await verdict(password, {}, { minLength: 8 })).toBe('common');
    }
  });

  it('matches whole passwords only: a passphrase containing a common word is accepted', async () => {
    expect(isCommonPassword('password')).toBe(true);
    expect(isCommonPassword('password is not my password')).toBe(false);
    expect(await verdict('password is not my password')).toBe('accepted');
  });
});

describe('repetitive and sequential passwords', () => {
  it.each([
    ['one repeated character', 'aaaaaaaaaaaaaaaa'],
    ['a repeated emoji', '🔑'.repeat(15)],
    ['a short unit repeated', 'abcabcabcabcabc'],
    ['a digit run', '123456789012345'],
    ['a digit run wrapping past 0', '1234567890123456'],
    ['a reversed digit run', '9876543210987654'],
    ['a keyboard row run', 'qwertyuiopasdfg'],
    ['an AZERTY row run', 'azertyuiopqsdfg'],
    ['the alphabet', 'abcdefghijklmnop'],
    ['the alphabet reversed', 'ponmlkjihgfedcba'],
    ['a keyboard run in capitals', 'QWERTYUIOPASDFGH'],
    ['the number row with its symbols', '`1234567890-=`1'],
    ['the shifted number row', '~!@#$%^&*()_+~!@'],
  ])('%s (%s) is refused as repetitive', async (_, password) => {
    expect(await verdict(password)).toBe('repetitive');
  });

  it('the refusal says why', async () => {
    await expect(checkNewPassword('zzzzzzzzzzzzzzzz', { minLength: 15 })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining('repeated character'),
      details: { field: 'password', reason: 'repetitive' },
    });
  });

  it('passphrases and mixed passwords are not mistaken for sequences', () => {
    for (const password of [
      PASSWORD,
      'mauve lantern orbit pickle',
      '1234 mauve lantern',
      'abcd efgh ijkl mnop',
      'aaaaaaaaaaaaaab',
    ]) {
      expect(isRepetitivePassword(password), password).toBe(false);
    }
  });
});

describe('context words (email, its local part, name, product name)', () => {
  const ada = { email: 'ada.lovelace@example.com', name: 'Ada Lovelace' };

  it("password containing the account's email local part is refused as context", async () => {
    expect(await verdict('my ada.lovelace secret', ada)).toBe('context');
  });

  it('password containing the whole email is refused as context', async () => {
    expect(await verdict('ada.lovelace@example.com!', ada)).toBe('context');
  });

  it("password containing the user's name with other separators or case is refused as context", async () => {
    expect(await verdict('ADA-LOVELACE-1815-rocks', ada)).toBe('context');
    expect(await verdict('adalovelace is here', ada)).toBe('context');
  });

  it('password containing the configured product name is refused as context', async () => {
    expect(
      await verdict('I love Gatehouse Example!', {}, { productName: 'gatehouse-example' }),
    ).toBe('context');
    expect(await verdict('I love Gatehouse Example!')).toBe('accepted');
  });

  it('context words shorter than 4 characters are ignored (no absurd refusals for Bo or ann@)', async () => {
    expect(
      await verdict('bo knows ann rides bikes', { email: 'ann@example.com', name: 'Bo' }),
    ).toBe('accepted');
  });

  it('the refusal says why and names no other account data', async () => {
    await expect(
      checkNewPassword('ada lovelace forever', { minLength: 15 }, ada),
    ).rejects.toMatchObject({
      message:
        'Password must not contain your email address, your name or the name of this service.',
      details: { field: 'password', reason: 'context' },
    });
  });

  it('register refuses the email local part and the productName option', async () => {
    const { auth } = makeAuth({ passwords: { productName: 'Acme Billing' } });
    await expect(
      auth.register({
        email: 'grace.hopper@example.com',
        password: 'grace.hopper 1906',
        name: 'G',
      }),
    ).rejects.toMatchObject({ details: { reason: 'context' } });
    await expect(
      auth.register({ email: 'grace@example.com', password: 'acme billing rocks', name: 'G' }),
    ).rejects.toMatchObject({ details: { reason: 'context' } });
  });

  it("a password change to one containing the user's name is refused as context", async () => {
    const { auth } = makeAuth();
    const user = await registerUser(auth);
    await expect(
      auth.changePassword(user.id, {
        currentPassword: PASSWORD,
        newPassword: 'Ada Lovelace 1815 forever',
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { reason: 'context' } });
  });

  it('an empty productName is refused at start-up, naming the option', () => {
    expect(configError({ passwords: { productName: '  ' } })).toMatch(/passwords\.productName/);
  });
});

describe('order of the checks', () => {
  it("the user's check hook runs only after the built-in rules, and keeps reason refused", async () => {
    let calls = 0;
    const check = () => {
      calls++;
      return 'not on my list';
    };
    await expect(
      checkNewPassword('passwordpassword', { minLength: 15, check }),
    ).rejects.toMatchObject({ details: { reason: 'common' } });
    expect(calls).toBe(0);
    await expect(
      checkNewPassword('mauve lantern orbit', { minLength: 15, check }),
    ).rejects.toMatchObject({ details: { reason: 'refused' } });
    expect(calls).toBe(1);
  });
});
