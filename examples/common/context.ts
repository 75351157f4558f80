import { createAuth, seedPolicy } from 'gatehouse';
import { createPostgresStores } from 'gatehouse/postgres';
import { type Database, openDatabase } from './database.js';
import type { ExampleConfig } from './env.js';
import { identifierKey, signingKey } from './keys.js';
import { createLogger, type JsonLogger } from './logger.js';
import { OrderRepository } from './orders.js';
import { seed } from './seed.js';

/** Everything an example app needs, built the same way for Express and Fastify. */
export interface ExampleContext {
  config: ExampleConfig;
  logger: JsonLogger;
  /** Bearer mode: tokens in JSON bodies and the Authorization header (the HTTP contract). */
  auth: ExampleAuth;
  /**
   * Cookie mode with the CSRF defence, for the login page: the same stores, keys and policy,
   * so a session started in either mode is the same kind of session.
   */
  cookieAuth: ExampleAuth;
  orders: OrderRepository;
  /** The origin the app is reached at, e.g. http://127.0.0.1:3000. */
  origin: string;
  /** True for the embedded PGlite database (demo accounts were seeded). */
  embedded: boolean;
  close(): Promise<void>;
}

export type ExampleAuth = ReturnType<typeof createExampleAuth>;

function createExampleAuth(
  config: ExampleConfig,
  logger: JsonLogger,
  stores: ReturnType<typeof createPostgresStores>['stores'],
  key: ReturnType<typeof signingKey>,
  cookies?: { trustedOrigins: string[] },
) {
  return createAuth({
    stores,
    // The same for both instances of this process and for every process on one database.
    identifierKey: identifierKey(config, key),
    policy: seedPolicy,
    logger,
    audit: (event) => logger.audit(event),
    passwords: { cost: config.BCRYPT_COST, productName: 'gatehouse-example' },
    lockout: {
      maxAttempts: config.AUTH_LOCKOUT_THRESHOLD,
      duration: config.AUTH_LOCKOUT_DURATION.text,
    },
    rateLimits: {
      login: {
        limit: config.AUTH_LOGIN_RATE_LIMIT.limit,
        window: `${config.AUTH_LOGIN_RATE_LIMIT.windowMs}ms`,
      },
      register: {
        limit: config.AUTH_REGISTER_RATE_LIMIT.limit,
        window: `${config.AUTH_REGISTER_RATE_LIMIT.windowMs}ms`,
      },
    },
    tokens: {
      keys: [key],
      issuer: 'gatehouse-example',
      audience: 'gatehouse-example',
      accessTtl: config.JWT_EXPIRES_IN.text,
      refreshIdleTtl: config.REFRESH_EXPIRES_IN.text,
    },
    ...(cookies ? { cookies: { ...cookies, insecureDevelopment: config.INSECURE_COOKIES } } : {}),
  });
}

/**
 * Opens the database, creates the gatehouse instances and seeds the accounts. Tests may pass
 * the logger and an already open database.
 */
export async function createExampleContext(
  config: ExampleConfig,
  given: { logger?: JsonLogger; database?: Database } = {},
): Promise<ExampleContext> {
  const logger = given.logger ?? createLogger(config.LOG_LEVEL);
  const db = given.database ?? (await openDatabase(config, logger));
  try {
    // One client for gatehouse's stores and the orders: one error mapping, one outage log.
    const { stores, client } = createPostgresStores(db.client, { logger });
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
    const origin = `http://${host}:${config.PORT}`;
    const trustedOrigins = config.TRUSTED_ORIGINS?.split(',').map((o) => o.trim()) ?? [
      origin,
      `http://localhost:${config.PORT}`,
    ];
    const key = signingKey(config, logger);
    const auth = createExampleAuth(config, logger, stores, key);
    // One process: the CSRF key is gatehouse's random per-instance default.
    const cookieAuth = createExampleAuth(config, logger, stores, key, {
      trustedOrigins: [...new Set(trustedOrigins)],
    });
    const admin =
      config.ADMIN_EMAIL && config.ADMIN_PASSWORD
        ? { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD }
        : undefined;
    await seed(auth, { demo: db.embedded, admin }, logger);
    return {
      config,
      logger,
      auth,
      cookieAuth,
      orders: new OrderRepository(client),
      origin,
      embedded: db.embedded,
      close: () => db.close(),
    };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
