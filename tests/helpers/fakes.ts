import type { AuditEvent, Clock, PasswordHasher } from '../../src/index.js';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(public time = Date.UTC(2030, 0, 1, 12)) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/**
 * A fast, transparent hasher for tests of login logic (real bcrypt has its own tests):
 * `$fake$<cost>$<password>`. Counts every verify, which is what lockout tests measure.
 */
export class CountingHasher implements PasswordHasher {
  verifyCalls = 0;
  hashCalls = 0;
  async hash(password: string, cost: number): Promise<string> {
    this.hashCalls++;
    return `$fake$${cost}$${password}`;
  }
  async verify(password: string, hash: string): Promise<boolean> {
    this.verifyCalls++;
    // Yield so concurrent logins really interleave, as they would around a native bcrypt call.
    await new Promise((resolve) => setImmediate(resolve));
    return hash === `$fake$${/^\$fake\$(\d+)\$/.exec(hash)?.[1]}$${password}`;
  }
  costOf(hash: string): number | null {
    const m = /^\$fake\$(\d+)\$/.exec(hash);
    return m ? Number(m[1]) : null;
  }
  needsRehash(hash: string, cost: number): boolean {
    return this.costOf(hash) !== cost;
  }
}

/** Collects audit events. */
export function auditCollector(): { events: AuditEvent[]; sink: (e: AuditEvent) => void } {
  const events: AuditEvent[] = [];
  return { events, sink: (e) => void events.push(e) };
}
