// The two-factor steps of the login page. After a correct password, an account with two-factor
// sign-in answers MFA_REQUIRED with a challenge: the code step finishes the login with a code from
// the authenticator app or a recovery code. An account whose role requires it but has none
// answers MFA_ENROLLMENT_REQUIRED: the enrolment step sets it up with that challenge, and the
// confirmation signs in (the recovery codes are shown once before the dashboard).
import { call, ensureCsrfToken, MESSAGES } from './api.js';
import {
  drawQr,
  MFA_MESSAGES,
  mfaMessageFor,
  showRecoveryCodes,
  totpCodeOf,
} from './mfa-common.js';

const $ = (id) => document.getElementById(id);
const loginForm = $('login-form');
const form = $('mfa-form');
const error = $('mfa-error');
const label = $('mfa-code-label');
const hint = $('mfa-hint');
const input = $('mfa-code');
const submit = $('mfa-submit');
const submitText = $('mfa-submit-text');
const toggle = $('mfa-use-recovery');

let challenge = '';
let recovery = false;

function setMode(useRecovery) {
  recovery = useRecovery;
  label.textContent = recovery ? 'Recovery code' : 'Code from your authenticator app';
  hint.textContent = recovery
    ? 'Each recovery code works once.'
    : 'Open your authenticator app and enter the 6-digit code it shows.';
  toggle.textContent = recovery ? 'Use a code from the app instead' : 'Use a recovery code instead';
  input.value = '';
  input.setAttribute('inputmode', recovery ? 'text' : 'numeric');
  input.setAttribute('autocomplete', recovery ? 'off' : 'one-time-code');
  input.removeAttribute('aria-invalid');
  error.hidden = true;
  input.focus();
}

function setLoading(on) {
  for (const el of [input, submit, toggle]) el.disabled = on;
  form.setAttribute('aria-busy', String(on));
  submit.classList.toggle('loading', on);
  submitText.textContent = on ? 'Verifying...' : 'Verify';
}

function showError(message) {
  error.textContent = message;
  error.hidden = false;
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}

/** Back to the password form (the challenge expired or was used). */
function restart(message) {
  form.hidden = true;
  loginForm.hidden = false;
  const loginError = $('form-error');
  loginError.textContent = message;
  loginError.hidden = false;
  $('password').value = '';
  $('password').focus();
}

/** Shows the code step for the challenge of an MFA_REQUIRED answer. */
export function showMfaStep(newChallenge) {
  challenge = newChallenge;
  loginForm.hidden = true;
  form.hidden = false;
  setMode(false);
}

toggle.addEventListener('click', () => setMode(!recovery));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  let body;
  if (recovery) {
    const code = input.value.trim();
    if (code === '') return showError(MFA_MESSAGES.RECOVERY_FORMAT);
    body = { challenge, recoveryCode: code };
  } else {
    const code = totpCodeOf(input.value);
    if (code === null) return showError(MFA_MESSAGES.CODE_FORMAT);
    body = { challenge, code };
  }
  setLoading(true);
  let result;
  try {
    await ensureCsrfToken();
    result = await call('POST', '/mfa/verify', body);
  } catch {
    setLoading(false);
    return showError(MESSAGES.NETWORK);
  }
  if (result.ok) {
    location.assign('/dashboard.html');
    return;
  }
  setLoading(false);
  if (result.body?.code === 'MFA_CHALLENGE_INVALID')
    return restart(MFA_MESSAGES.MFA_CHALLENGE_INVALID);
  showError(mfaMessageFor(result, { recovery }));
});

const enrolStep = $('mfa-enrol-step');
const enrolError = $('mfa-enrol-error');
const enrolForm = $('mfa-enrol-form');
const enrolCode = $('mfa-enrol-code');
const enrolSecret = $('mfa-enrol-secret');
const enrolQr = $('mfa-enrol-qr');
const enrolCodesBox = $('mfa-enrol-codes-box');
let enrolChallenge = '';

function showEnrolError(message) {
  enrolError.textContent = message;
  enrolError.hidden = false;
  enrolCode.setAttribute('aria-invalid', 'true');
  enrolCode.focus();
}

/**
 * The enrolment step for the challenge of an MFA_ENROLLMENT_REQUIRED answer; `loginError` shows
 * a failure on the password form (the challenge no longer works: sign in again).
 */
export async function showEnrolmentStep(challenge, loginError) {
  enrolChallenge = challenge;
  let result;
  try {
    await ensureCsrfToken();
    result = await call('POST', '/mfa/totp/enroll', { challenge });
  } catch {
    return loginError(MESSAGES.NETWORK);
  }
  if (!result.ok) return loginError(mfaMessageFor(result));
  loginForm.hidden = true;
  enrolStep.hidden = false;
  enrolSecret.textContent = result.body.secret;
  try {
    await drawQr(enrolQr, result.body.uri);
  } catch {
    // The key is on screen as text: the QR code is a convenience.
    enrolQr.setAttribute('hidden', '');
  }
  enrolCode.focus();
}

enrolForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  enrolError.hidden = true;
  const code = totpCodeOf(enrolCode.value);
  if (code === null) return showEnrolError(MFA_MESSAGES.CODE_FORMAT);
  for (const el of enrolForm.querySelectorAll('input, button')) el.disabled = true;
  let result;
  try {
    await ensureCsrfToken();
    result = await call('POST', '/mfa/totp/confirm', { challenge: enrolChallenge, code });
  } catch {
    result = null;
  }
  for (const el of enrolForm.querySelectorAll('input, button')) el.disabled = false;
  if (result === null) return showEnrolError(MESSAGES.NETWORK);
  if (!result.ok) {
    if (result.body?.code === 'MFA_CHALLENGE_INVALID') {
      enrolStep.hidden = true;
      return restart(MFA_MESSAGES.MFA_CHALLENGE_INVALID);
    }
    return showEnrolError(mfaMessageFor(result));
  }
  // Signed in (the session cookies came with this answer). The key leaves the page; the codes
  // are shown once, then the dashboard.
  enrolSecret.textContent = '';
  enrolQr.replaceChildren();
  enrolForm.hidden = true;
  showRecoveryCodes($('mfa-enrol-codes'), result.body.recoveryCodes);
  enrolCodesBox.hidden = false;
  $('mfa-enrol-continue').focus();
});

$('mfa-enrol-continue').addEventListener('click', () => {
  location.assign('/dashboard.html');
});
