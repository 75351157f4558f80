import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthError } from 'gatehouse';
import { encode } from 'uqr';
import type { ExampleConfig } from './env.js';
import type { JsonLogger } from './logger.js';

/** The issuer authenticator apps show next to the account. */
export const MFA_ISSUER = 'gatehouse example';

/** 32 bytes from base64 (44 characters with padding, 43 without) or hex (64); null otherwise. */
export function parseMfaKey(text: string): Uint8Array | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return new Uint8Array(Buffer.from(trimmed, 'hex'));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return new Uint8Array(bytes);
  }
  return null;
}

/** A short, non-secret id of a key (its SHA-256, 8 hex digits): ciphertexts name their key. */
function keyIdOf(prefix: string, key: Uint8Array): string {
  return `${prefix}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

/**
 * The key that encrypts the TOTP secrets at rest: MFA_KEY when set (required in production, which
 * env validation enforces); otherwise a development key generated once and kept in DATA_DIR, so
 * enrolled factors survive a restart. Logged as a warning, never the key itself. Then the keys
 * of MFA_PREVIOUS_KEYS, which only decrypt. Each id is derived from its key: a new MFA_KEY is a
 * new id, and a key moved from MFA_KEY to MFA_PREVIOUS_KEYS keeps its id (docs/mfa.md, "Key
 * rotation").
 */
export function mfaEncryptionKeys(config: ExampleConfig, logger: JsonLogger): MfaKeys {
  // Every gatehouse instance of the process asks: one read, one warning.
  let keys = resolved.get(config);
  if (!keys) {
    keys = resolveKeys(config, logger);
    resolved.set(config, keys);
  }
  return keys;
}

type MfaKeys = { id: string; key: Uint8Array }[];
const resolved = new WeakMap<ExampleConfig, MfaKeys>();

function resolveKeys(config: ExampleConfig, logger: JsonLogger): MfaKeys {
  // Rotation (docs/mfa.md): the keys of MFA_PREVIOUS_KEYS still decrypt; the first key encrypts
  // and re-encrypts each secret at its next use.
  const previous = (config.MFA_PREVIOUS_KEYS?.split(',') ?? []).map((text) => {
    const key = parseMfaKey(text)!;
    return { id: keyIdOf('env', key), key };
  });
  if (config.MFA_KEY) {
    const key = parseMfaKey(config.MFA_KEY)!;
    return [{ id: keyIdOf('env', key), key }, ...previous];
  }
  mkdirSync(config.DATA_DIR, { recursive: true });
  const file = join(config.DATA_DIR, 'dev-mfa-key.txt');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  logger.warn('using a development MFA encryption key; set MFA_KEY in production', { file });
  const key = parseMfaKey(readFileSync(file, 'utf8'))!;
  return [{ id: keyIdOf('dev', key), key }, ...previous];
}

const MAX_URI = 512;

/**
 * `POST /app/mfa/qr {uri}` → `{ success, size, path }`: the QR code of an `otpauth://totp/` URI
 * as an SVG path (one `h1v1h-1z` square per dark module, on a grid of `size`), which the
 * dashboard draws with DOM calls: no image from anywhere, nothing parsed as markup, and the CSP
 * stays `default-src 'self'`. Computed here (the `uqr` devDependency), never by a third-party
 * service: the URI holds the secret. Anything else than such a URI is VALIDATION_ERROR.
 */
export function mfaQrCodeOf(body: unknown): { success: true; size: number; path: string } {
  const uri = (body as { uri?: unknown } | null | undefined)?.uri;
  if (typeof uri !== 'string' || uri.length > MAX_URI || !uri.startsWith('otpauth://totp/')) {
    throw new AuthError(
      'VALIDATION_ERROR',
      `uri must be an otpauth://totp/ URI of at most ${MAX_URI} characters.`,
      { details: { field: 'uri' } },
    );
  }
  const { size, data } = encode(uri, { ecc: 'M', border: 0 });
  let path = '';
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) if (data[y]![x]) path += `M${x} ${y}h1v1h-1z`;
  }
  return { success: true, size, path };
}
