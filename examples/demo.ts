// A short tour of gatehouse on memory stores: register, login, a failed login, and a lockout.
// Run with `npm run demo`.
import { type AuditEvent, AuthError, createAuth } from '../src/index.js';

const events: AuditEvent[] = [];
const auth = createAuth({
  lockout: { maxAttempts: 3, duration: '1m' },
  audit: (event) => void events.push(event),
});

function show(step: string, detail: unknown): void {
  console.log(`\n▸ ${step}`);
  console.log(`  ${JSON.stringify(detail)}`);
}

async function attempt(password: string) {
  try {
    return await auth.login({ email: 'ada@example.com', password }, { ip: '127.0.0.1' });
  } catch (err) {
    if (err instanceof AuthError) return err.toJSON();
    throw err;
  }
}

const user = await auth.register({
  email: 'Ada@Example.com',
  password: 'correct horse battery',
  name: 'Ada Lovelace',
});
show('register Ada@Example.com (email normalised, no hash in the result)', user);

const ok = await attempt('correct horse battery');
show('login with the right password', ok);

show('login with a wrong password', await attempt('wrong password'));
show(
  'login with an unknown email (same answer: no enumeration)',
  await auth
    .login({ email: 'nobody@example.com', password: 'whatever1' })
    .catch((err: AuthError) => err.toJSON()),
);

show('second wrong password', await attempt('still wrong'));
show('third wrong password (the threshold is 3 in this demo)', await attempt('wrong again'));
try {
  await auth.login({ email: 'ada@example.com', password: 'correct horse battery' });
} catch (err) {
  const e = err as AuthError;
  show('the right password while locked', { ...e.toJSON(), retryAfter: e.retryAfter });
}

show(
  'a 73-byte password is refused, never truncated',
  await auth
    .register({ email: 'long@example.com', password: 'x'.repeat(73), name: 'Long' })
    .catch((err: AuthError) => err.toJSON()),
);

console.log('\n▸ audit events (emails only as keyed hashes, never a password or hash)');
for (const e of events)
  console.log(
    `  ${e.timestamp} ${e.event.padEnd(16)} ${e.status.padEnd(7)} ${JSON.stringify(e.metadata)}`,
  );
console.log('\nNext: read README.md and docs/ for Express, Fastify and Postgres.');
