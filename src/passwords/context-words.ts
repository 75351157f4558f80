import { foldPassword } from './fold.js';

/** Shorter context words are ignored: refusing every password containing `ann` or `bob` would be absurd. */
export const MIN_CONTEXT_WORD_LENGTH = 4;

/** Where the context words of a password come from. */
export interface ContextSources {
  email?: string | undefined;
  name?: string | undefined;
  productName?: string | undefined;
}

/** Folded (NFKC, lower case) and reduced to letters and digits, so `Ada.Lovelace` matches `ada lovelace`. */
function squash(text: string): string {
  return foldPassword(text).replace(/[^\p{L}\p{N}]+/gu, '');
}

/**
 * The words a password must not contain: the account's email, its local part, the name and the
 * product name, each folded and reduced to its letters and digits; those under 4 code points are
 * ignored.
 */
export function contextWords(sources: ContextSources): string[] {
  const texts = [sources.email, sources.name, sources.productName];
  const email = sources.email ?? '';
  const at = email.lastIndexOf('@');
  if (at > 0) texts.push(email.slice(0, at));
  const words = new Set<string>();
  for (const text of texts) {
    if (!text) continue;
    const word = squash(text);
    if ([...word].length >= MIN_CONTEXT_WORD_LENGTH) words.add(word);
  }
  return [...words];
}

/**
 * The first context word the password contains, comparing letters and digits only after folding
 * both (so `Ada-Lovelace-1815` contains the name `Ada Lovelace`), or undefined.
 */
export function findContextWord(password: string, sources: ContextSources): string | undefined {
  const squashed = squash(password);
  return contextWords(sources).find((word) => squashed.includes(word));
}
