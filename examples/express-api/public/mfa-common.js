// Shared by the two-factor parts of the login page and the dashboard: the messages by error
// code, code input, the recovery-code list and the QR code.
import { MESSAGES } from './api.js';

export const MFA_MESSAGES = {
  MFA_INVALID_CODE: 'That code is not right. Enter the current code from your authenticator app.',
  MFA_INVALID_RECOVERY_CODE: 'That recovery code is not right, or it was already used.',
  MFA_LOCKED: (minutes) =>
    `Too many wrong codes. Two-factor sign-in is locked for this account; try again in ${minutes} minutes.`,
  MFA_CHALLENGE_INVALID: 'This sign-in has expired. Please enter your email and password again.',
  MFA_ALREADY_ENROLLED: 'Two-factor sign-in is already on for this account.',
  INVALID_CREDENTIALS: 'That password is not right.',
  CODE_FORMAT: 'Enter the 6 digits your authenticator app shows.',
  RECOVERY_FORMAT: 'Enter one of your recovery codes, such as abcd-efgh-jk.',
};

/** The message for a failed two-factor call; `recovery` when a recovery code was sent. */
export function mfaMessageFor(result, { recovery = false } = {}) {
  const code = result.body?.code;
  if (code === 'MFA_INVALID_CODE') {
    return recovery ? MFA_MESSAGES.MFA_INVALID_RECOVERY_CODE : MFA_MESSAGES.MFA_INVALID_CODE;
  }
  if (code === 'MFA_LOCKED') {
    return MFA_MESSAGES.MFA_LOCKED(Math.max(1, Math.ceil(result.retryAfter / 60)));
  }
  if (code === 'RATE_LIMITED') return MESSAGES.RATE_LIMITED(result.retryAfter || 60);
  if (code in MFA_MESSAGES && typeof MFA_MESSAGES[code] === 'string') return MFA_MESSAGES[code];
  // The server's own words: which rule (a password too short without the factor, a role that
  // requires it). Shown as text, never as markup.
  if (
    (code === 'VALIDATION_ERROR' || code === 'FORBIDDEN') &&
    typeof result.body?.error === 'string'
  ) {
    return result.body.error;
  }
  return MESSAGES.SERVER_ERROR;
}

/** A 6-digit code as typed (spaces removed), or null. */
export function totpCodeOf(text) {
  const code = text.replace(/\s+/g, '');
  return /^\d{6}$/.test(code) ? code : null;
}

/** Fills an <ol> with recovery codes, as text only. */
export function showRecoveryCodes(list, codes) {
  list.replaceChildren(
    ...codes.map((code) => {
      const item = document.createElement('li');
      item.textContent = code;
      return item;
    }),
  );
  list.hidden = false;
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * Draws the QR code of an otpauth URI into an <svg>: the app's own route computes it (never a
 * third-party service: the URI holds the secret), and it is drawn with DOM calls, no image.
 */
export async function drawQr(svg, uri) {
  const res = await fetch('/app/mfa/qr', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri }),
  });
  if (!res.ok) throw new Error('qr');
  const { size, path } = await res.json();
  svg.setAttribute('viewBox', `-4 -4 ${size + 8} ${size + 8}`);
  const background = document.createElementNS(SVG, 'rect');
  for (const [name, value] of [
    ['x', -4],
    ['y', -4],
    ['width', size + 8],
    ['height', size + 8],
    ['fill', '#fff'],
  ]) {
    background.setAttribute(name, String(value));
  }
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', path);
  modules.setAttribute('fill', '#000');
  svg.replaceChildren(background, modules);
}
