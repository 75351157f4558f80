// Shared by the login page and the dashboard: calls the cookie-mode auth routes with the CSRF
// token, and the error messages of the seed's UX table.
const AUTH = '/app/api/auth';

export const MESSAGES = {
  INVALID_CREDENTIALS: 'Invalid email or password. Please try again.',
  ACCOUNT_LOCKED: (minutes) =>
    `Your account has been temporarily locked due to multiple failed login attempts. Please contact support or try again in ${minutes} minutes.`,
  RATE_LIMITED: (seconds) =>
    `Too many sign-in attempts. Please wait ${seconds} seconds and try again.`,
  VALIDATION_ERROR: 'Please enter a valid email address and your password.',
  SERVER_ERROR: "We're experiencing technical difficulties. Please try again in a few moments.",
  NETWORK: 'Unable to connect. Please check your internet connection.',
  EMAIL_NOT_VERIFIED:
    'Please verify your email address first. Check your inbox, or use “Forgot password?” to get a new link.',
  LINK_INVALID: 'This link is invalid or has expired. Please request a new one.',
  TOO_MANY: (seconds) => `Too many requests. Please wait ${seconds} seconds and try again.`,
  EMAIL_REQUIRED: 'Please enter your email address.',
  PASSWORDS_DIFFER: 'The two passwords do not match.',
};

let csrfToken = sessionStorage.getItem('csrf') ?? '';

function remember(token) {
  if (typeof token === 'string' && token) {
    csrfToken = token;
    sessionStorage.setItem('csrf', token);
  }
}

/** Fetches a CSRF token bound to this browser's session (before login, and after a reload). */
export async function ensureCsrfToken() {
  const res = await fetch(`${AUTH}/csrf`, { credentials: 'same-origin' });
  const body = await res.json();
  remember(body.csrfToken);
}

/** Calls an auth route; resolves to { ok, status, body, retryAfter }, rejects on network failure. */
export async function call(method, path, body) {
  const res = await fetch(`${AUTH}${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      ...(method === 'GET' ? {} : { 'x-csrf-token': csrfToken }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  remember(json.csrfToken);
  return {
    ok: res.ok,
    status: res.status,
    body: json,
    retryAfter: Number(res.headers.get('retry-after')) || 0,
  };
}

/** The message to show for a failed login, per the seed's UX table. */
export function messageFor(result) {
  const code = result.body?.code;
  if (code === 'ACCOUNT_LOCKED')
    return MESSAGES.ACCOUNT_LOCKED(Math.max(1, Math.ceil(result.retryAfter / 60)));
  if (code === 'RATE_LIMITED') return MESSAGES.RATE_LIMITED(result.retryAfter || 60);
  if (code === 'INVALID_CREDENTIALS' || code === 'VALIDATION_ERROR') return MESSAGES[code];
  if (code === 'EMAIL_NOT_VERIFIED') return MESSAGES.EMAIL_NOT_VERIFIED;
  return MESSAGES.SERVER_ERROR;
}

/**
 * The message for a failed sign-up, reset or verification. A VALIDATION_ERROR carries the
 * reason (which password rule, which field) in its `error`: shown as text, never as markup.
 */
export function accountMessageFor(result) {
  const code = result.body?.code;
  const text = result.body?.error;
  if ((code === 'VALIDATION_ERROR' || code === 'EMAIL_TAKEN') && typeof text === 'string')
    return text;
  if (code === 'LINK_INVALID') return MESSAGES.LINK_INVALID;
  if (code === 'RATE_LIMITED') return MESSAGES.TOO_MANY(result.retryAfter || 60);
  return MESSAGES.SERVER_ERROR;
}

/**
 * The one-time token of a link from a mail (`?token=...`), then removed from the address bar and
 * the history, so it is not left on screen or in the browser's history.
 */
export function takeTokenFromUrl() {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  if (location.search) history.replaceState(null, '', location.pathname);
  return token;
}

/**
 * A form's UX states: loading (fields and button disabled, the button's text changed), an
 * inline error linked to the fields, and a success message.
 */
export function formStates({
  form,
  fields,
  button,
  buttonText,
  idleText,
  busyText,
  error,
  success,
}) {
  return {
    loading(on) {
      for (const el of [...fields, button]) el.disabled = on;
      form.setAttribute('aria-busy', String(on));
      button.classList.toggle('loading', on);
      buttonText.textContent = on ? busyText : idleText;
    },
    error(message, focus = fields[0]) {
      // textContent, never innerHTML: nothing from the server is parsed as markup.
      error.textContent = message;
      error.hidden = false;
      if (success) success.hidden = true;
      for (const el of fields) el.setAttribute('aria-invalid', 'true');
      focus?.focus();
    },
    success(message) {
      error.hidden = true;
      for (const el of fields) el.removeAttribute('aria-invalid');
      success.textContent = message;
      success.hidden = false;
      success.focus();
    },
    clear() {
      error.hidden = true;
      if (success) success.hidden = true;
    },
  };
}
