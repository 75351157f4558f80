import { createPrivateKey, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExampleConfig } from './env.js';
import type { JsonLogger } from './logger.js';

type Algorithm = ExampleConfig['JWT_ALGORITHM'];

function generate(alg: Algorithm): string {
  if (alg === 'HS256') return randomBytes(32).toString('base64url');
  const pair =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * The signing key of the example: JWT_SECRET / JWT_PRIVATE_KEY when set; otherwise (never in
 * production, which env validation enforces) a development key generated once and kept in
 * DATA_DIR, so tokens survive a restart. Logged as a warning, never the key itself.
 */
export function signingKey(config: ExampleConfig, logger: JsonLogger) {
  const alg = config.JWT_ALGORITHM;
  if (alg === 'HS256' && config.JWT_SECRET) {
    return { kid: 'env-hs256', alg, key: config.JWT_SECRET } as const;
  }
  if (alg !== 'HS256' && config.JWT_PRIVATE_KEY) {
    return {
      kid: `env-${alg.toLowerCase()}`,
      alg,
      key: createPrivateKey(config.JWT_PRIVATE_KEY),
    } as const;
  }
  mkdirSync(config.DATA_DIR, { recursive: true });
  const file = join(config.DATA_DIR, `dev-jwt-key-${alg.toLowerCase()}.txt`);
  if (!existsSync(file)) {
    writeFileSync(file, generate(alg), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  logger.warn('using a development signing key; set JWT_SECRET or JWT_PRIVATE_KEY in production', {
    algorithm: alg,
    file,
  });
  const material = readFileSync(file, 'utf8');
  const key = alg === 'HS256' ? material : createPrivateKey(material);
  return { kid: `dev-${alg.toLowerCase()}`, alg, key } as const;
}

/**
 * The key that hashes login identifiers (lockout counters, audit `emailHash`): AUTH_IDENTIFIER_KEY
 * when set (required in production, which env validation enforces); otherwise derived with HKDF
 * from the signing key material. Both gatehouse instances of one process, and every process that
 * signs with the same key on one database, then count an identifier under the same key.
 */
export function identifierKey(
  config: ExampleConfig,
  signing: ReturnType<typeof signingKey>,
): string | Uint8Array {
  if (config.AUTH_IDENTIFIER_KEY) return config.AUTH_IDENTIFIER_KEY;
  const material =
    typeof signing.key === 'string'
      ? Buffer.from(signing.key, 'utf8')
      : signing.key.export({ type: 'pkcs8', format: 'der' });
  const info = 'gatehouse-example/identifier-key/v1';
  return new Uint8Array(hkdfSync('sha256', material, new Uint8Array(0), info, 32));
}
