// Opened from the verification mail: /verify-email?token=... The token is sent when the user
// confirms (a button, not on load): a mail scanner that opens links does not verify an address
// on behalf of its owner, for an account someone else may have created with it.
import {
  accountMessageFor,
  call,
  ensureCsrfToken,
  formStates,
  MESSAGES,
  takeTokenFromUrl,
} from './api.js';

const token = takeTokenFromUrl();
const form = document.getElementById('verify-form');
const button = document.getElementById('submit');
const states = formStates({
  form,
  fields: [],
  button,
  buttonText: document.getElementById('submit-text'),
  idleText: 'Confirm my email address',
  busyText: 'Verifying...',
  error: document.getElementById('form-error'),
  success: document.getElementById('form-success'),
});

if (!token) {
  states.error(MESSAGES.LINK_INVALID);
  button.disabled = true;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  states.clear();
  states.loading(true);
  let result;
  try {
    await ensureCsrfToken();
    result = await call('POST', '/email/verify', { token });
  } catch {
    states.loading(false);
    return states.error(MESSAGES.NETWORK, button);
  }
  if (result.ok) {
    form.hidden = true;
    return states.success('Your email address is verified. You can sign in now.');
  }
  states.loading(false);
  if (result.body?.code === 'LINK_INVALID') button.disabled = true;
  states.error(accountMessageFor(result), button);
});
