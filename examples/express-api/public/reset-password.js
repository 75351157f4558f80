// Opened from the reset mail: /reset-password?token=... Sets the new password; every session of
// the account ends, so the user signs in again with it.
import {
  accountMessageFor,
  call,
  ensureCsrfToken,
  formStates,
  MESSAGES,
  takeTokenFromUrl,
} from './api.js';

const token = takeTokenFromUrl();
const form = document.getElementById('reset-form');
const password = document.getElementById('password');
const confirm = document.getElementById('confirm');
const states = formStates({
  form,
  fields: [password, confirm],
  button: document.getElementById('submit'),
  buttonText: document.getElementById('submit-text'),
  idleText: 'Set new password',
  busyText: 'Saving...',
  error: document.getElementById('form-error'),
  success: document.getElementById('form-success'),
});

if (!token) {
  // Opened without a token (or reloaded: the token left the address bar when the page opened).
  states.error(MESSAGES.LINK_INVALID, document.getElementById('new-link'));
  for (const el of form.elements) el.disabled = true;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  states.clear();
  if (password.value !== confirm.value) return states.error(MESSAGES.PASSWORDS_DIFFER, confirm);
  states.loading(true);
  let result;
  try {
    await ensureCsrfToken();
    result = await call('POST', '/password/reset', { token, password: password.value });
  } catch {
    states.loading(false);
    return states.error(MESSAGES.NETWORK, password);
  }
  if (result.ok) {
    form.hidden = true;
    document.getElementById('new-link').hidden = true;
    document.getElementById('sign-in-link').hidden = false;
    return states.success('Your password has been changed. Sign in with your new password.');
  }
  if (result.body?.code === 'LINK_INVALID') {
    // Used, replaced by a newer link, or expired: only a new link helps.
    return states.error(MESSAGES.LINK_INVALID, document.getElementById('new-link'));
  }
  states.loading(false);
  password.value = '';
  confirm.value = '';
  states.error(accountMessageFor(result), password);
});
