// One example app under test: a child process on a free port, on the suite's PostgreSQL server,
// started with the suite's limits (workload.ts), its RSS readable from /proc.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type RunningExample, startExample } from '../e2e/example-process.js';
import { appEnv } from './workload.js';

export type AppName = 'express' | 'fastify';

export interface AppUnderTest {
  name: AppName;
  baseUrl: string;
  identifierKey: string;
  /** The env's HTTP timeouts, in ms. */
  timeouts: { headersMs: number; requestMs: number };
  process: RunningExample;
  alive(): boolean;
  /** VmRSS of the app process, in bytes. */
  rss(): number;
}

export async function startApp(name: AppName, databaseUrl: string): Promise<AppUnderTest> {
  const identifierKey = randomBytes(24).toString('hex');
  const running = await startExample(name === 'express' ? 'express-api' : 'fastify-api', {
    ...appEnv(identifierKey),
    DATABASE_URL: databaseUrl,
  });
  const child = running.child;
  return {
    name,
    baseUrl: running.url,
    identifierKey,
    timeouts: { headersMs: 3000, requestMs: 6000 },
    process: running,
    alive: () => child.exitCode === null && child.signalCode === null,
    rss: () => rssOf(child.pid!),
  };
}

/** VmRSS of a process, in bytes (0 when it is gone). */
export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}
