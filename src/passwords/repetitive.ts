import { foldPassword } from './fold.js';

/**
 * Sequences a person types by sliding along a row or counting: the digits, the alphabet, the letter rows of QWERTY, AZERTY and QWERTZ
 * read row after row, the number row with its symbols, and the keyboard columns.
 */
const SEQUENCES = [
  '0123456789',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiopasdfghjklzxcvbnm',
  "qwertyuiop[]asdfghjkl;'zxcvbnm,./",
  'azertyuiopqsdfghjklmwxcvbn',
  'qwertzuiopasdfghjklyxcvbnm',
  '`1234567890-=',
  '~!@#$%^&*()_+',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/',
];
/** A unit this short repeated (`abababab`, `123123123`) is refused as well. */
const MAX_REPEATED_UNIT = 4;

/** Runs may wrap around: `1234567890123456`, `bnmqwerty`. */
function withinSequence(text: string, sequence: string): boolean {
  const laps = Math.ceil(text.length / sequence.length) + 1;
  return sequence.repeat(laps).includes(text);
}

function repeatsShortUnit(chars: readonly string[]): boolean {
  for (let unit = 1; unit <= MAX_REPEATED_UNIT && unit < chars.length; unit++) {
    let repeats = true;
    for (let i = unit; i < chars.length && repeats; i++) repeats = chars[i] === chars[i - unit];
    if (repeats) return true;
  }
  return false;
}

/**
 * True when the password, after NFKC and lower-casing, is one character or a unit of up to 4
 * characters repeated (`aaaaaaaaaaaaaaaa`, `abcabcabcabcabc`), or a run along one sequence,
 * forwards or backwards and wrapping around (`1234567890123456`): the digits, the alphabet, the
 * letter rows of QWERTY, AZERTY or QWERTZ (`qwertyuiopasdfg`), the number row or the keyboard
 * columns (`1qaz2wsx3edc4rfv`). Registration and password changes refuse these with
 * `VALIDATION_ERROR` reason `repetitive`.
 *
 * @example
 * ```ts
 * import { isRepetitivePassword } from 'gatehouse';
 * isRepetitivePassword('9876543210987654'); // true
 * isRepetitivePassword('mauve lantern orbit pickle'); // false
 * ```
 */
export function isRepetitivePassword(password: string): boolean {
  const folded = foldPassword(password);
  const chars = [...folded];
  if (chars.length < 2) return false;
  if (repeatsShortUnit(chars)) return true;
  const reversed = chars.reverse().join('');
  return SEQUENCES.some(
    (sequence) => withinSequence(folded, sequence) || withinSequence(reversed, sequence),
  );
}
