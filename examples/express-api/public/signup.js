// The sign-up form of the login page. With AUTH_REQUIRE_VERIFIED_EMAIL the server answers 202 with
// the same message whether the email is new or taken (the owner of a taken one gets a mail);
// otherwise 201 with the account, or 409 EMAIL_TAKEN.
import { accountMessageFor, call, ensureCsrfToken, formStates, MESSAGES } from './api.js';

const form = document.getElementById('signup-form');
const name = document.getElementById('signup-name');
const email = document.getElementById('signup-email');
const password = document.getElementById('signup-password');
const states = formStates({
  form,
  fields: [name, email, password],
  button: document.getElementById('signup-submit'),
  buttonText: document.getElementById('signup-submit-text'),
  idleText: 'Create account',
  busyText: 'Creating account...',
  error: document.getElementById('signup-error'),
  success: document.getElementById('signup-success'),
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  states.clear();
  if (!email.value.trim()) return states.error(MESSAGES.EMAIL_REQUIRED, email);
  states.loading(true);
  let result;
  try {
    await ensureCsrfToken();
    result = await call('POST', '/register', {
      name: name.value,
      email: email.value,
      password: password.value,
    });
  } catch {
    states.loading(false);
    return states.error(MESSAGES.NETWORK, email);
  }
  states.loading(false);
  if (result.status === 202) {
    form.reset();
    return states.success(result.body.message);
  }
  if (result.ok) {
    form.reset();
    return states.success(
      'Account created. You can sign in now; we also sent you a link to verify your email address.',
    );
  }
  const field = result.body?.details?.field;
  states.error(
    accountMessageFor(result),
    field === 'password' ? password : field === 'name' ? name : email,
  );
  password.value = '';
});
