import { call, ensureCsrfToken, MESSAGES, messageFor } from './api.js';
import { showEnrolmentStep, showMfaStep } from './mfa-login.js';

const form = document.getElementById('login-form');
const error = document.getElementById('form-error');
const submit = document.getElementById('submit');
const submitText = document.getElementById('submit-text');
const email = document.getElementById('email');
const password = document.getElementById('password');

function setLoading(loading) {
  for (const el of [email, password, submit]) el.disabled = loading;
  form.setAttribute('aria-busy', String(loading));
  submit.classList.toggle('loading', loading);
  submitText.textContent = loading ? 'Signing in...' : 'Sign In';
}

function showError(message) {
  // textContent, never innerHTML: nothing from the server is parsed as markup.
  error.textContent = message;
  error.hidden = false;
  for (const el of [email, password]) el.setAttribute('aria-invalid', 'true');
}

// Already signed in? Go straight to the dashboard.
call('GET', '/me').then(
  (r) => {
    if (r.ok) location.replace('/dashboard.html');
  },
  () => {},
);
ensureCsrfToken().catch(() => {});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  setLoading(true);
  let result;
  try {
    await ensureCsrfToken();
    result = await call('POST', '/login', { email: email.value, password: password.value });
  } catch {
    setLoading(false);
    showError(MESSAGES.NETWORK);
    password.focus();
    return;
  }
  if (result.ok) {
    location.assign('/dashboard.html');
    return;
  }
  setLoading(false);
  // The password was right; the account has two-factor sign-in: the code step.
  if (result.body?.code === 'MFA_REQUIRED' && typeof result.body.challenge === 'string') {
    password.value = '';
    showMfaStep(result.body.challenge);
    return;
  }
  // The role requires two-factor sign-in and the account has none yet: enrol, then signed in.
  if (
    result.body?.code === 'MFA_ENROLLMENT_REQUIRED' &&
    typeof result.body.challenge === 'string'
  ) {
    password.value = '';
    showEnrolmentStep(result.body.challenge, showError);
    return;
  }
  showError(messageFor(result));
  password.value = '';
  password.focus();
});
