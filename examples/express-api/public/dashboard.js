import { call, ensureCsrfToken, MESSAGES } from './api.js';

const error = document.getElementById('dashboard-error');
const devices = document.getElementById('devices');
const devicesStatus = document.getElementById('devices-status');
const devicesError = document.getElementById('devices-error');
const revokeOthers = document.getElementById('revoke-others');
const exportLink = document.getElementById('export-link');
const deleteButton = document.getElementById('delete-account');
const deleteForm = document.getElementById('delete-form');
const deleteError = document.getElementById('delete-error');
const deletePassword = document.getElementById('delete-password');
const deleteConfirm = document.getElementById('delete-confirm');
const deleteConfirmText = document.getElementById('delete-confirm-text');

/** Back to the login page: this browser's session has ended (signed out here or elsewhere). */
function toLogin() {
  sessionStorage.removeItem('csrf');
  location.replace('/');
}

/**
 * A state-changing call with a fresh CSRF token. Resolves to the result, or to null after
 * leaving for the login page when the session no longer works (401).
 */
async function act(method, path, body) {
  await ensureCsrfToken();
  const result = await call(method, path, body);
  if (result.status === 401) {
    toLogin();
    return null;
  }
  return result;
}

function show(element, message) {
  // textContent, never innerHTML: nothing from the server is parsed as markup.
  element.textContent = message;
  element.hidden = false;
}

async function load() {
  let result;
  try {
    result = await call('GET', '/me');
  } catch {
    show(error, MESSAGES.NETWORK);
    return;
  }
  if (!result.ok) {
    location.replace('/');
    return;
  }
  const user = result.body.user;
  document.getElementById('user-name').textContent = user.name;
  document.getElementById('user-email').textContent = user.email;
  document.getElementById('user-role').textContent = user.role;
  exportLink.href = `/app/api/users/${encodeURIComponent(user.id)}/export`;
  exportLink.hidden = false;
  await loadDevices();
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : 'never';
}

/** One device of the list: its label or browser, where and when, and a sign-out button. */
function deviceItem(session) {
  const item = document.createElement('li');
  item.dataset.sessionId = session.id;
  if (session.current) item.dataset.current = 'true';
  const name = document.createElement('span');
  name.className = 'device-name';
  name.textContent = session.label ?? session.userAgent ?? 'Unknown device';
  item.append(name);
  if (session.current) {
    const current = document.createElement('span');
    current.className = 'device-current';
    current.textContent = 'This device';
    item.append(current);
  }
  const details = document.createElement('span');
  details.className = 'hint';
  details.textContent = `Signed in ${when(session.createdAt)} · last used ${when(session.lastUsedAt)}${session.ip ? ` · IP ${session.ip}` : ''}`;
  item.append(details);
  if (!session.current) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sign-out-device';
    button.textContent = 'Sign out';
    button.setAttribute('aria-label', `Sign out ${name.textContent}`);
    button.addEventListener('click', () => signOutDevice(session.id, button));
    item.append(button);
  }
  return item;
}

async function loadDevices() {
  devices.setAttribute('aria-busy', 'true');
  let result;
  try {
    result = await call('GET', '/sessions');
  } catch {
    show(devicesError, MESSAGES.NETWORK);
    return;
  }
  if (result.status === 401) {
    toLogin();
    return;
  }
  if (!result.ok) {
    show(devicesError, MESSAGES.SERVER_ERROR);
    return;
  }
  devicesError.hidden = true;
  devices.replaceChildren(...result.body.sessions.map(deviceItem));
  revokeOthers.disabled = !result.body.sessions.some((session) => !session.current);
  devices.setAttribute('aria-busy', 'false');
}

async function signOutDevice(id, button) {
  button.disabled = true;
  devicesStatus.hidden = true;
  try {
    const result = await act('DELETE', `/sessions/${encodeURIComponent(id)}`);
    if (!result) return;
    // 404: that device had already signed out; the list below no longer shows it either way.
    if (result.ok || result.status === 404) show(devicesStatus, 'That device is signed out.');
    else show(devicesError, MESSAGES.SERVER_ERROR);
  } catch {
    show(devicesError, MESSAGES.NETWORK);
  }
  await loadDevices();
}

revokeOthers.addEventListener('click', async () => {
  revokeOthers.disabled = true;
  devicesStatus.hidden = true;
  try {
    const result = await act('POST', '/sessions/revoke-others');
    if (!result) return;
    if (result.ok) {
      const n = result.body.revoked;
      show(devicesStatus, `Signed out ${n} other device${n === 1 ? '' : 's'}.`);
    } else {
      show(devicesError, MESSAGES.SERVER_ERROR);
    }
  } catch {
    show(devicesError, MESSAGES.NETWORK);
  }
  await loadDevices();
});

deleteButton.addEventListener('click', () => {
  deleteButton.hidden = true;
  deleteForm.hidden = false;
  deletePassword.focus();
});

document.getElementById('delete-cancel').addEventListener('click', () => {
  deleteForm.hidden = true;
  deleteError.hidden = true;
  deletePassword.value = '';
  deleteButton.hidden = false;
  deleteButton.focus();
});

function deleteMessage(result) {
  const code = result.body?.code;
  if (code === 'INVALID_CREDENTIALS')
    return 'That password is not right. Your account is unchanged.';
  if (code === 'ACCOUNT_LOCKED')
    return MESSAGES.ACCOUNT_LOCKED(Math.max(1, Math.ceil(result.retryAfter / 60)));
  if (code === 'VALIDATION_ERROR') return 'Please enter your password.';
  if (code === 'RATE_LIMITED') return MESSAGES.TOO_MANY(result.retryAfter || 60);
  return MESSAGES.SERVER_ERROR;
}

deleteForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  deleteError.hidden = true;
  for (const el of [deletePassword, deleteConfirm]) el.disabled = true;
  deleteConfirm.classList.add('loading');
  deleteConfirmText.textContent = 'Deleting...';
  let result;
  try {
    await ensureCsrfToken();
    result = await call('POST', '/account/delete', { password: deletePassword.value });
  } catch {
    result = null;
  }
  if (result?.ok) {
    sessionStorage.removeItem('csrf');
    location.replace('/');
    return;
  }
  // A wrong password answers 401 INVALID_CREDENTIALS: the session is fine, stay here. Another
  // 401 (UNAUTHENTICATED, TOKEN_*) means the session ended.
  if (result && result.status === 401 && result.body?.code !== 'INVALID_CREDENTIALS') {
    toLogin();
    return;
  }
  for (const el of [deletePassword, deleteConfirm]) el.disabled = false;
  deleteConfirm.classList.remove('loading');
  deleteConfirmText.textContent = 'Delete my account for good';
  show(deleteError, result ? deleteMessage(result) : MESSAGES.NETWORK);
  deletePassword.setAttribute('aria-invalid', 'true');
  deletePassword.value = '';
  deletePassword.focus();
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await ensureCsrfToken();
    const out = await call('POST', '/logout');
    // The access cookie expired: end the session with the refresh cookie, which the browser
    // sends only under /refresh.
    if (out.status === 401) await call('POST', '/refresh/logout');
  } finally {
    sessionStorage.removeItem('csrf');
    location.replace('/');
  }
});

load();
