/**
 * The form in which passwords are compared with the blocklist and the context words: NFKC, then
 * lower case. `toLowerCase()` uses the locale-independent Unicode mapping (the same as
 * `toLocaleLowerCase('und')`), so a server's locale cannot change what is refused.
 */
export function foldPassword(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}
