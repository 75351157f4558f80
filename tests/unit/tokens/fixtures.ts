import { createHmac, generateKeyPairSync } from 'node:crypto';
import { cryptoRandom } from '../../../src/runtime.js';
import { MemoryTokenStore } from '../../../src/stores/memory-token-store.js';
import type { TokenStore, UserRecord } from '../../../src/stores/types.js';
import type { TokenKeyInput } from '../../../src/tokens/keys.js';
import { resolveTokenOptions, type TokenOptions } from '../../../src/tokens/options.js';
import { createTokenService, type TokenAuditEmitter } from '../../../src/tokens/service.js';

export const HMAC_SECRET = 'a-test-secret-of-more-than-32-bytes-long!';
export const START = Date.UTC(2025, 0, 1, 12, 0, 0);

/** A clock the test moves by hand. */
export function manualClock(start = START) {
  let now = start;
  return {
    now: () => now,
    set: (ms: number) => {
      now = ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

export function userRecord(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: 'user-1',
    email: 'ada@example.com',
    name: 'Ada',
    role: 'user',
    passwordHash: '$2b$10$notarealhash',
    isActive: true,
    lastLoginAt: null,
    createdAt: new Date(START),
    updatedAt: new Date(START),
    ...overrides,
  };
}

/** Records audit input as the AuditEmitter would receive it. */
export function recordingAudit() {
  const events: Parameters<TokenAuditEmitter['emit']>[0][] = [];
  const audit: TokenAuditEmitter = { emit: (input) => void events.push(input) };
  return { audit, events };
}

export function tokenSetup(
  tokenOptions: TokenOptions = {},
  { keys, store: given }: { keys?: TokenKeyInput[]; store?: TokenStore } = {},
) {
  const clock = manualClock();
  const store = given ?? new MemoryTokenStore();
  const users = new Map<string, UserRecord>([['user-1', userRecord()]]);
  const { audit, events } = recordingAudit();
  const options = resolveTokenOptions({
    keys: keys ?? [{ kid: 'hs-1', alg: 'HS256', key: HMAC_SECRET }],
    clockTolerance: 0,
    ...tokenOptions,
  });
  const service = createTokenService({
    options,
    store,
    users: { findById: async (id) => users.get(id) ?? null },
    clock,
    random: cryptoRandom,
    audit,
  });
  const user = users.get('user-1')!;
  return { clock, store, users, audit, events, service, user };
}

export function b64url(value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64url');
}

export function b64json(value: unknown): string {
  return b64url(JSON.stringify(value));
}

/** Signs any header and payload with HMAC-SHA256 by hand (attacks need headers jose refuses). */
export function forgeHs256(header: unknown, payload: unknown, secret: string | Uint8Array): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** The header and claims of `token`, decoded without verification. */
export function decodeParts(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(p!, 'base64url').toString()),
  };
}

/** The reason an AuthError carries for a refused token. */
export function reasonOf(err: unknown): string | undefined {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : undefined;
}

let pairs: ReturnType<typeof generatePairs> | undefined;
function generatePairs() {
  return {
    ed25519: generateKeyPairSync('ed25519'),
    p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  };
}

/** One key pair per algorithm, generated once per test file (RSA generation is slow). */
export function keyPairs() {
  pairs ??= generatePairs();
  return pairs;
}

/** Awaits a promise that must reject, and returns its error. */
export async function refusal(promise: Promise<unknown>): Promise<{ code?: string } & Error> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string } & Error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}
