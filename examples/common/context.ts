import { createAuth, seedPolicy, type TokenStore } from 'gatehouse';
import { createPostgresStores } from 'gatehouse/postgres';
import { createRedisStores, type RedisStores, withRedisRevocations } from 'gatehouse/redis';
import { type Database, openDatabase } from './database.js';
import type { ExampleConfig } from './env.js';
import { createReadiness, type Readiness } from './health.js';
import { identifierKey, signingKey } from './keys.js';
import { createLogger, type JsonLogger } from './logger.js';
import { createExampleMailer, type ExampleMailer } from './mailer.js';
import { MFA_ISSUER, mfaEncryptionKeys } from './mfa.js';
import { OrderRepository } from './orders.js';
import { type ExampleRedis, openRedis } from './redis.js';
import { seed } from './seed.js';
import { type ExampleMetrics, startExampleMetrics } from './telemetry.js';

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
  /** With REDIS_URL: where the lockout and rate-limit counters live (`host:port`). */
  redis?: string | undefined;
  /** Where reset and verification mails go: SMTP (SMTP_URL) or the log (development). */
  mail: ExampleMailer['transport'];
  /** The checks of /readyz: the database, Redis (with REDIS_URL) and the mail outbox. */
  readiness: Readiness;
  /** With METRICS=1: the Prometheus metrics served at /metrics. */
  metrics?: ExampleMetrics | undefined;
  /** Stops both instances' mail workers, then closes SMTP and the database. */
  close(): Promise<void>;
}

export type ExampleAuth = ReturnType<typeof createExampleAuth>;

/**
 * PostgreSQL's stores; with REDIS_URL, the counters (attempts, rateLimits) in Redis and the token
 * store's revocations fanned out over Redis pub/sub.
 */
type ExampleStores = Omit<
  ReturnType<typeof createPostgresStores>['stores'],
  'attempts' | 'rateLimits' | 'tokens'
> &
  Pick<
    ReturnType<typeof createPostgresStores>['stores'] | RedisStores['stores'],
    'attempts' | 'rateLimits'
  > & { tokens: TokenStore };

function createExampleAuth(
  config: ExampleConfig,
  logger: JsonLogger,
  stores: ExampleStores,
  key: ReturnType<typeof signingKey>,
  mail: { mailer: ExampleMailer['mailer']; publicUrl: string } | null,
  orders: OrderRepository,
  cookies?: { trustedOrigins: string[] },
) {
  return createAuth({
    // The TOTP second factor (docs/mfa.md): secrets encrypted with MFA_KEY (or a dev key).
    mfa: {
      issuer: MFA_ISSUER,
      encryptionKeys: mfaEncryptionKeys(config, logger),
      requireForRoles: config.AUTH_MFA_REQUIRED_ROLES,
    },
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
    // The app's own data about a user: their orders go into the data export, and are deleted
    // first when the account is erased (docs/accounts.md).
    account: {
      dataExport: {
        extend: async (user) => ({ orders: await orders.listOfUser(user.id) }),
        erase: async (user) => {
          await orders.deleteOfUser(user.id);
        },
      },
    },
    ...(cookies ? { cookies: { ...cookies, insecureDevelopment: config.INSECURE_COOKIES } } : {}),
    // Both instances deliver from the one outbox in the database (claimed with FOR UPDATE SKIP
    // LOCKED): each mail goes out once; links are {PUBLIC_URL}/reset-password?token=... etc.
    ...(mail
      ? {
          mail,
          emailVerification: { required: config.AUTH_REQUIRE_VERIFIED_EMAIL },
        }
      : {}),
  });
}

/**
 * Opens the database, creates the gatehouse instances and seeds the accounts. Tests may pass
 * the logger and an already open database.
 */
export async function createExampleContext(
  config: ExampleConfig,
  given: {
    logger?: JsonLogger;
    database?: Database;
    /** Seed the demo accounts (default: only into the embedded database). */
    demo?: boolean;
  } = {},
): Promise<ExampleContext> {
  const logger = given.logger ?? createLogger(config.LOG_LEVEL);
  // Registered as the global MeterProvider before any gatehouse instance exists: gatehouse's
  // telemetry records into the global provider.
  const metrics = config.METRICS ? await startExampleMetrics(logger) : undefined;
  let db: Database;
  try {
    db = given.database ?? (await openDatabase(config, logger));
  } catch (err) {
    await metrics?.shutdown();
    throw err;
  }
  if (metrics && db.poolUsage) metrics.observePool(db.poolUsage);
  const instances: ExampleAuth[] = [];
  let mailer: ExampleMailer | undefined;
  let redis: ExampleRedis | undefined;
  try {
    // One client for gatehouse's stores and the orders: one error mapping, one outage log.
    const { stores: pgStores, client } = createPostgresStores(db.client, { logger });
    // REDIS_URL: the counters every instance shares (lockout, rate limits) in Redis, fail closed
    // (503 while Redis is down), and revocations published there (heard by every instance, in
    // place of PostgreSQL's LISTEN/NOTIFY); users, sessions, tokens and the outbox stay in the
    // database.
    redis = config.REDIS_URL ? await openRedis(config.REDIS_URL, logger) : undefined;
    const prefix = 'gatehouse-example:';
    const stores: ExampleStores = redis
      ? {
          ...pgStores,
          ...createRedisStores(redis.client, { prefix, logger }).stores,
          tokens: withRedisRevocations(pgStores.tokens, redis.client, { prefix, logger }),
        }
      : pgStores;
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
    const origin = `http://${host}:${config.PORT}`;
    const trustedOrigins = config.TRUSTED_ORIGINS?.split(',').map((o) => o.trim()) ?? [
      origin,
      `http://localhost:${config.PORT}`,
    ];
    const key = signingKey(config, logger);
    mailer = createExampleMailer(config, logger);
    const mail = { mailer: mailer.mailer, publicUrl: config.PUBLIC_URL ?? origin };
    const orders = new OrderRepository(client);
    const auth = createExampleAuth(config, logger, stores, key, mail, orders);
    // One process: the CSRF key is gatehouse's random per-instance default.
    const cookieAuth = createExampleAuth(config, logger, stores, key, mail, orders, {
      trustedOrigins: [...new Set(trustedOrigins)],
    });
    instances.push(auth, cookieAuth);
    const admin =
      config.ADMIN_EMAIL && config.ADMIN_PASSWORD
        ? { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD }
        : undefined;
    // Seeded through an instance without a mailer: the accounts the operator configured need no
    // verification mail, and are marked verified (they log in with AUTH_REQUIRE_VERIFIED_EMAIL).
    const seeding = createExampleAuth(config, logger, stores, key, null, orders);
    await seed(seeding, { demo: given.demo ?? db.embedded, admin }, logger, {
      markVerified: async (userId) => {
        await stores.users.update(userId, { emailVerified: true });
      },
    });
    await seeding.close();
    const closeAll = async () => {
      await Promise.all(instances.map((instance) => instance.close()));
      mailer?.close();
      await Promise.all([db.close(), redis?.close(), metrics?.shutdown()]);
    };
    return {
      config,
      logger,
      auth,
      cookieAuth,
      orders,
      origin,
      embedded: db.embedded,
      redis: redis?.address,
      mail: mailer.transport,
      readiness: createReadiness({ database: db.client, redis: redis?.client, mail: true, logger }),
      metrics,
      close: closeAll,
    };
  } catch (err) {
    await Promise.all(instances.map((instance) => instance.close().catch(() => {})));
    mailer?.close();
    await redis?.close().catch(() => {});
    await db.close().catch(() => {});
    await metrics?.shutdown().catch(() => {});
    throw err;
  }
}
