// The dashboard's two-factor section: enrol an authenticator app (QR code drawn from the URI,
// the key as text), the recovery codes shown once, new recovery codes, and turning it off.
import { call, ensureCsrfToken, MESSAGES } from './api.js';
import {
  drawQr,
  MFA_MESSAGES,
  mfaMessageFor,
  showRecoveryCodes,
  totpCodeOf,
} from './mfa-common.js';

const $ = (id) => document.getElementById(id);
const section = $('mfa-section');
const state = $('mfa-state');
const error = $('mfa-error');
const start = $('mfa-start');
const enrollForm = $('mfa-enroll-form');
const qr = $('mfa-qr');
const secret = $('mfa-secret');
const confirmCode = $('mfa-confirm-code');
const codesBox = $('mfa-codes-box');
const codes = $('mfa-codes');
const manage = $('mfa-manage');
const regenerateForm = $('mfa-regenerate-form');
const regenerateCode = $('mfa-regenerate-code');
const disableForm = $('mfa-disable-form');
const disablePassword = $('mfa-disable-password');
const disableCode = $('mfa-disable-code');

function showError(message, focus) {
  // textContent, never innerHTML: nothing from the server is parsed as markup.
  error.textContent = message;
  error.hidden = false;
  focus?.setAttribute('aria-invalid', 'true');
  focus?.focus();
}

function clearError() {
  error.hidden = true;
  for (const input of section.querySelectorAll('input')) input.removeAttribute('aria-invalid');
}

/** Disables a form's fields and button while its request runs. */
function busy(form, on) {
  for (const el of form.querySelectorAll('input, button')) el.disabled = on;
  form.setAttribute('aria-busy', String(on));
  form.querySelector('button[type="submit"]')?.classList.toggle('loading', on);
}

async function request(method, path, body) {
  try {
    await ensureCsrfToken();
    return await call(method, path, body);
  } catch {
    return { ok: false, status: 0, body: {}, network: true, retryAfter: 0 };
  }
}

function messageOf(result) {
  return result.network ? MESSAGES.NETWORK : mfaMessageFor(result);
}

function show(view, enabled) {
  start.hidden = view !== 'off';
  enrollForm.hidden = view !== 'enrolling';
  codesBox.hidden = view !== 'codes';
  manage.hidden = view !== 'on';
  if (enabled !== undefined) {
    state.textContent = enabled
      ? 'Two-factor sign-in is on: signing in asks for a code from your authenticator app.'
      : 'Two-factor sign-in is off.';
  }
  section.hidden = false;
}

async function load() {
  const result = await request('GET', '/mfa');
  // No second factor on this server (404), or signed out: the section stays hidden.
  if (!result.ok) return;
  show(result.body.enrolled ? 'on' : 'off', result.body.enrolled === true);
}

start.addEventListener('click', async () => {
  clearError();
  start.disabled = true;
  const result = await request('POST', '/mfa/totp/enroll');
  start.disabled = false;
  if (!result.ok) {
    showError(messageOf(result));
    return;
  }
  secret.textContent = result.body.secret;
  try {
    await drawQr(qr, result.body.uri);
    qr.removeAttribute('hidden');
  } catch {
    // The key is on screen as text: the QR code is a convenience.
    qr.setAttribute('hidden', '');
  }
  show('enrolling');
  confirmCode.value = '';
  confirmCode.focus();
});

enrollForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearError();
  const code = totpCodeOf(confirmCode.value);
  if (code === null) {
    showError(MFA_MESSAGES.CODE_FORMAT, confirmCode);
    return;
  }
  busy(enrollForm, true);
  const result = await request('POST', '/mfa/totp/confirm', { code });
  busy(enrollForm, false);
  if (!result.ok) {
    showError(messageOf(result), confirmCode);
    return;
  }
  // The key is not needed any more: off the screen.
  secret.textContent = '';
  qr.replaceChildren();
  showRecoveryCodes(codes, result.body.recoveryCodes);
  show('codes', true);
  $('mfa-codes-done').focus();
});

$('mfa-codes-done').addEventListener('click', () => {
  // Shown once: gone from the page as soon as the user says they have them.
  codes.replaceChildren();
  show('on');
});

regenerateForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearError();
  const code = totpCodeOf(regenerateCode.value);
  if (code === null) {
    showError(MFA_MESSAGES.CODE_FORMAT, regenerateCode);
    return;
  }
  busy(regenerateForm, true);
  const result = await request('POST', '/mfa/recovery-codes', { code });
  busy(regenerateForm, false);
  regenerateCode.value = '';
  if (!result.ok) {
    showError(messageOf(result), regenerateCode);
    return;
  }
  showRecoveryCodes(codes, result.body.recoveryCodes);
  show('codes');
  $('mfa-codes-done').focus();
});

disableForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearError();
  // A code from the app, or (the phone is lost) one of the recovery codes.
  const typed = disableCode.value.trim();
  const code = totpCodeOf(typed);
  if (typed === '') {
    showError(MFA_MESSAGES.CODE_FORMAT, disableCode);
    return;
  }
  const proof = code !== null ? { code } : { recoveryCode: typed };
  busy(disableForm, true);
  const result = await request('DELETE', '/mfa/totp', {
    password: disablePassword.value,
    ...proof,
  });
  busy(disableForm, false);
  disablePassword.value = '';
  disableCode.value = '';
  if (!result.ok) {
    const focus = result.body?.code === 'INVALID_CREDENTIALS' ? disablePassword : disableCode;
    const message = result.network
      ? MESSAGES.NETWORK
      : mfaMessageFor(result, { recovery: code === null });
    showError(message, focus);
    return;
  }
  show('off', false);
});

load();
