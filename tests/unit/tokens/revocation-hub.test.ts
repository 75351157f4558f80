import { describe, expect, it } from 'vitest';
import { RevocationHub } from '../../../src/stores/revocation-hub.js';
import type { RevocationEvent } from '../../../src/stores/types.js';

function hubWithCounters() {
  const calls = { start: 0, stop: 0 };
  const hub = new RevocationHub({
    start: () => {
      calls.start++;
    },
    stop: async () => {
      calls.stop++;
    },
  });
  return { hub, calls };
}

describe('RevocationHub (the listeners of a Postgres LISTEN or a Redis subscription)', () => {
  it('a listener that throws does not stop delivery to the others', () => {
    const { hub } = hubWithCounters();
    const seen: RevocationEvent[] = [];
    hub.watch({
      onRevoked: () => {
        throw new Error('a faulty listener');
      },
      onLiveChange: () => {
        throw new Error('a faulty listener');
      },
    });
    hub.watch({ onRevoked: (e) => seen.push(e), onLiveChange: () => {} });
    hub.up();
    hub.emit({ kind: 'session', sessionId: 's1' });
    expect(seen).toEqual([{ kind: 'all' }, { kind: 'session', sessionId: 's1' }]);
  });

  it('announces { kind: all } before turning live, and tells "down" once per outage', () => {
    const { hub } = hubWithCounters();
    const log: string[] = [];
    const watch = hub.watch({
      onRevoked: (e) => log.push(`event ${e.kind} live=${hub.live}`),
      onLiveChange: (live) => log.push(`live ${live}`),
    });
    hub.down(); // a failed start: told once
    hub.down();
    hub.up();
    hub.up(); // already live: nothing
    hub.down();
    hub.down(); // the same outage: not told again
    expect(log).toEqual(['live false', 'event all live=false', 'live true', 'live false']);
    expect(watch.live).toBe(false);
  });

  it('starts with the first watch and stops with the last; a closed watch is never live', async () => {
    const { hub, calls } = hubWithCounters();
    const listener = { onRevoked: () => {}, onLiveChange: () => {} };
    const a = hub.watch(listener);
    const b = hub.watch(listener);
    hub.up();
    expect([calls.start, a.live, b.live]).toEqual([1, true, true]);
    await a.close();
    await a.close();
    expect([calls.stop, a.live, b.live]).toEqual([0, false, true]);
    await b.close();
    expect(calls.stop).toBe(1);
  });
});
