import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
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
