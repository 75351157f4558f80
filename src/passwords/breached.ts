import { createHash } from 'node:crypto';

/** The Pwned Passwords range API of Have I Been Pwned. */
export const DEFAULT_BREACHED_BASE_URL = 'https://api.pwnedpasswords.com';
export const DEFAULT_BREACHED_TIMEOUT_MS = 2000;
/** A padded answer holds about 1 000 lines of 40 bytes; anything past this is not the API. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Options of {@link checkBreachedPassword}.
 *
 * @example
 * ```ts
 * const options: BreachedPasswordCheckOptions = { timeoutMs: 1500 };
 * const result = await checkBreachedPassword('correct horse battery', options);
 * ```
 */
export interface BreachedPasswordCheckOptions {
  /** Origin of a Pwned Passwords compatible range API (a mirror, a test server). @default 'https://api.pwnedpasswords.com' */
  baseUrl?: string;
  /** Time allowed for the whole request and answer, in milliseconds. @default 2000 */
  timeoutMs?: number;
}

/**
 * The outcome of {@link checkBreachedPassword}: the number of times the password appears in
 * known breaches, or why the service could not tell.
 *
 * @example
 * ```ts
 * const result: BreachedPasswordCheckResult = await checkBreachedPassword(password);
 * if (result.status === 'unavailable') logger.warn('breach check skipped', { reason: result.reason });
 * ```
 */
export type BreachedPasswordCheckResult =
  | { status: 'found'; count: number }
  | { status: 'not_found' }
  | { status: 'unavailable'; reason: string };

/** Reads a body up to a limit; null when it is longer. */
async function readLimited(body: ReadableStream<Uint8Array> | null): Promise<string | null> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The count of `suffix` in a range answer; padding lines (count 0) and malformed lines count as absent. */
function countIn(body: string, suffix: string): number {
  for (const line of body.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toUpperCase() !== suffix) continue;
    const count = Number.parseInt(line.slice(colon + 1).trim(), 10);
    return Number.isSafeInteger(count) && count > 0 ? count : 0;
  }
  return 0;
}

/**
 * Asks the Have I Been Pwned range API whether a password appears in known breaches, with
 * k-anonymity: only the first 5 hex characters of the password's SHA-1 leave the process
 * (`GET {baseUrl}/range/{prefix}` with `Add-Padding: true`, so the answer's size reveals nothing
 * either); the rest of the hash is compared locally. Never throws: an unreachable service, a
 * timeout or a non-200 answer gives `{ status: 'unavailable', reason }`. Pass the password as
 * it will be stored (gatehouse checks the NFKC form).
 *
 * @example
 * ```ts
 * import { checkBreachedPassword } from 'gatehouse';
 * const result = await checkBreachedPassword('P@ssw0rd', { timeoutMs: 2000 });
 * if (result.status === 'found') console.log(`seen ${result.count} times in breaches`);
 * ```
 */
export async function checkBreachedPassword(
  password: string,
  options: BreachedPasswordCheckOptions = {},
): Promise<BreachedPasswordCheckResult> {
  const hash = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
  const prefix = hash.slice(0, 5);
  const suffix = hash.slice(5);
  const base = (options.baseUrl ?? DEFAULT_BREACHED_BASE_URL).replace(/\/+$/, '');
  try {
    const response = await fetch(`${base}/range/${prefix}`, {
      headers: { 'Add-Padding': 'true', 'User-Agent': 'gatehouse' },
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_BREACHED_TIMEOUT_MS),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      return { status: 'unavailable', reason: `the service answered ${response.status}` };
    }
    const body = await readLimited(response.body);
    if (body === null) return { status: 'unavailable', reason: 'the answer was too large' };
    const count = countIn(body, suffix);
    return count > 0 ? { status: 'found', count } : { status: 'not_found' };
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return { status: 'unavailable', reason: 'the service did not answer in time' };
    }
    // undici reports "fetch failed" and keeps the system error (ECONNREFUSED, ENOTFOUND) as cause.
    const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
    const detail = String(cause?.code ?? cause?.message ?? (err as Error)?.message ?? err);
    const reason = `the service could not be reached (${detail})`;
    return { status: 'unavailable', reason };
  }
}
