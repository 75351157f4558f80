// Asks for a reset link. The server answers 202 with the same message for every email, so the
// page can say nothing more than it does.
import { accountMessageFor, call, ensureCsrfToken, formStates, MESSAGES } from './api.js';

const form = document.getElementById('forgot-form');
const email = document.getElementById('email');
const states = formStates({
  form,
  fields: [email],
  button: document.getElementById('submit'),
  buttonText: document.getElementById('submit-text'),
  idleText: 'Send reset link',
  busyText: 'Sending...',
  error: document.getElementById('form-error'),
  success: document.getElementById('form-success'),
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  states.clear();
  if (!email.value.trim()) return states.error(MESSAGES.EMAIL_REQUIRED);
  states.loading(true);
  let result;
  try {
    await ensureCsrfToken();
    result = await call('POST', '/password/forgot', { email: email.value });
  } catch {
    states.loading(false);
    return states.error(MESSAGES.NETWORK);
  }
  states.loading(false);
  if (result.ok) return states.success(result.body.message);
  states.error(accountMessageFor(result));
});
