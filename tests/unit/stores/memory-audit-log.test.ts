import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/audit/events.js';
import { MemoryAuditLog } from '../../../src/stores/memory-audit-log.js';
import { describeAuditLogStore } from '../../../src/testing/index.js';

describeAuditLogStore('MemoryAuditLog', () => new MemoryAuditLog(), { describe, it });

const event = (userId: string, i: number): AuditEvent => ({
  timestamp: new Date(Date.UTC(2030, 0, 1) + i).toISOString(),
  event: 'LOGIN_SUCCEEDED',
  status: 'success',
  userId,
  metadata: { i },
});

describe('MemoryAuditLog bounds', () => {
  it('a flood of events keeps at most maxEvents, the newest (memory stays bounded)', async () => {
    const log = new MemoryAuditLog({ maxEvents: 100 });
    for (let i = 0; i < 1_000; i++) await log.write(event('u', i));
    const kept = await log.listForUser('u', { limit: 1_000 });
    expect(kept).toHaveLength(100);
    expect(kept[0]!.metadata).toEqual({ i: 999 });
    expect(kept[99]!.metadata).toEqual({ i: 900 });
  });

  it('refuses a maxEvents that is not a positive integer', () => {
    expect(() => new MemoryAuditLog({ maxEvents: 0 })).toThrow(/maxEvents/);
    expect(() => new MemoryAuditLog({ maxEvents: 1.5 })).toThrow(/maxEvents/);
  });
});
