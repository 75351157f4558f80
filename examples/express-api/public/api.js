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

/** The message to show for a failed response, per the seed's UX table. */
export function messageFor(result) {
  const code = result.body?.code;
  if (code === 'ACCOUNT_LOCKED')
    return MESSAGES.ACCOUNT_LOCKED(Math.max(1, Math.ceil(result.retryAfter / 60)));
  if (code === 'RATE_LIMITED') return MESSAGES.RATE_LIMITED(result.retryAfter || 60);
  if (code === 'INVALID_CREDENTIALS' || code === 'VALIDATION_ERROR') return MESSAGES[code];
  return MESSAGES.SERVER_ERROR;
}
