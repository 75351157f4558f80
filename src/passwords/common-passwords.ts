import { inflateRawSync } from 'node:zlib';
import { COMMON_PASSWORDS_COUNT, COMMON_PASSWORDS_DATA } from './common-passwords-data.js';
import { foldPassword } from './fold.js';

let loaded: ReadonlySet<string> | undefined;

/** Decodes the committed corpus (see scripts/build-common-passwords.ts for the encoding). */
export function decodeCommonPasswords(data: string): string[] {
  const text = inflateRawSync(Buffer.from(data, 'base64')).toString('utf8');
  const words: string[] = [];
  let previous = '';
  for (const line of text.split('\n')) {
    const word = previous.slice(0, line.charCodeAt(0) - 48) + line.slice(1);
    words.push(word);
    previous = word;
  }
  return words;
}

/** The corpus as a Set, decoded on first use (a few milliseconds) and kept for the process. */
export function commonPasswords(): ReadonlySet<string> {
  if (!loaded) {
    const words = decodeCommonPasswords(COMMON_PASSWORDS_DATA);
    if (words.length !== COMMON_PASSWORDS_COUNT) {
      throw new Error(
        `gatehouse: the common-password list is damaged (${words.length} of ${COMMON_PASSWORDS_COUNT} entries)`,
      );
    }
    loaded = new Set(words);
  }
  return loaded;
}

/**
 * True when the whole password, after NFKC and lower-casing, is one of the ~49 000 common
 * passwords of the corpus built into gatehouse (the list of `@zxcvbn-ts/language-common`,
 * compiled in at build time). Registration and password changes refuse these with
 * `VALIDATION_ERROR` reason `common`; use this to warn earlier, e.g. in a sign-up form's API.
 *
 * @example
 * ```ts
 * import { isCommonPassword } from 'gatehouse';
 * isCommonPassword('PasswordPassword'); // true
 * isCommonPassword('mauve lantern orbit pickle'); // false
 * ```
 */
export function isCommonPassword(password: string): boolean {
  return commonPasswords().has(foldPassword(password));
}
