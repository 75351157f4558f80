import { call, ensureCsrfToken, MESSAGES } from './api.js';

const error = document.getElementById('dashboard-error');

async function load() {
  let result;
  try {
    result = await call('GET', '/me');
  } catch {
    error.textContent = MESSAGES.NETWORK;
    error.hidden = false;
    return;
  }
  if (!result.ok) {
    location.replace('/');
    return;
  }
  document.getElementById('user-name').textContent = result.body.user.name;
  document.getElementById('user-email').textContent = result.body.user.email;
  document.getElementById('user-role').textContent = result.body.user.role;
}

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
