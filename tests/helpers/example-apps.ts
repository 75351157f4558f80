// Both example apps built in process (buildExpressApp, buildFastifyApp) on a database the test
// opened itself, listening on 127.0.0.1, with every log line captured.

import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, type Queryable } from '../../adapters/postgres/index.js';
import { createExampleContext, type ExampleContext } from '../../examples/common/context.js';
import type { Database } from '../../examples/common/database.js';
import { loadConfig } from '../../examples/common/env.js';
import { createLogger } from '../../examples/common/logger.js';
import { buildExpressApp } from '../../examples/express-api/app.js';
import { buildFastifyApp } from '../../examples/fastify-api/app.js';

/** The example's orders table (as examples/common/database.ts creates it), one statement each. */
const ORDERS_TABLE = [
  `CREATE TABLE IF NOT EXISTS orders (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    total numeric(12, 2) NOT NULL CHECK (total >= 0),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'cancelled')),
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
];

/** Migrates gatehouse's tables (roles of the seed policy) and the example's orders table. */
export async function prepareExampleDatabase(
  client: Queryable,
  options: { schema?: string } = {},
): Promise<void> {
  await migrate(client, { roles: ['user', 'admin'], ...options });
  for (const statement of ORDERS_TABLE) await client.query(statement, []);
}

export interface ExampleApps {
  ctx: ExampleContext;
  /** Every JSON log line written so far. */
  lines: Record<string, unknown>[];
  urls: { express: string; fastify: string };
  close(): Promise<void>;
}

export async function startExampleApps(database: Database): Promise<ExampleApps> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-outage-'));
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', (line) => lines.push(JSON.parse(line)));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    JWT_SECRET: 'an-outage-test-secret-of-more-than-32-bytes',
    AUTH_LOGIN_RATE_LIMIT: '10000/min',
    AUTH_REGISTER_RATE_LIMIT: '10000/min',
  });
  const ctx = await createExampleContext(config, { logger, database });
  const express = buildExpressApp(ctx).listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    express.once('listening', resolve);
    express.once('error', reject);
  });
  const fastify = await buildFastifyApp(ctx);
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const port = (address: AddressInfo) => `http://127.0.0.1:${address.port}`;
  return {
    ctx,
    lines,
    urls: {
      express: port(express.address() as AddressInfo),
      fastify: port(fastify.server.address() as AddressInfo),
    },
    async close() {
      express.closeAllConnections();
      await new Promise<void>((resolve) => express.close(() => resolve()));
      await fastify.close();
      await ctx.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A JSON request; resolves with the status and the parsed body. */
export async function call(
  url: string,
  options: { method?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Registers and logs in one user on `baseUrl`; returns its access token. */
export async function signIn(baseUrl: string, email: string): Promise<string> {
  const password = 'plum-quartz-violin-41';
  const registered = await call(`${baseUrl}/api/auth/register`, {
    body: { email, password, name: 'Outage Tester' },
  });
  if (registered.status !== 201) throw new Error(`register: ${JSON.stringify(registered)}`);
  const login = await call(`${baseUrl}/api/auth/login`, { body: { email, password } });
  if (login.status !== 200) throw new Error(`login: ${JSON.stringify(login)}`);
  return String(login.body['token']);
}

export const GENERIC_SERVER_ERROR = {
  success: false,
  error: "We're experiencing technical difficulties. Please try again in a few moments.",
  code: 'SERVER_ERROR',
};

/** The log lines that are not the per-request access log. */
export function problemLines(lines: Record<string, unknown>[]): Record<string, unknown>[] {
  return lines.filter((l) => l['msg'] !== 'request' && l['msg'] !== 'security event');
}
