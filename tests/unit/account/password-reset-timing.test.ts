import { describe, expect, it } from 'vitest';
import { registerUser } from '../../helpers/auth.js';
import { makeMailAuth } from './account-auth.js';

const SAMPLES = 2000;
const WARM_UP = 200;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe('password reset timing', () => {
  it('a reset request costs the same for an existing, an unknown and a disabled account (medians within 10 %)', async () => {
    const made = makeMailAuth();
    const { auth, clock } = made;
    await registerUser(auth, 'ada@example.com');
    const disabled = await registerUser(auth, 'bob@example.com');
    await auth.disableUser(disabled.id);
    const kinds = {
      existing: 'ada@example.com',
      unknown: 'nobody@example.com',
      disabled: 'bob@example.com',
    } as const;
    const names = Object.keys(kinds) as (keyof typeof kinds)[];
    const durations: Record<keyof typeof kinds, number[]> = {
      existing: [],
      unknown: [],
      disabled: [],
    };

    async function measure() {
      for (const name of names) durations[name].length = 0;
      await run();
      return Object.fromEntries(names.map((n) => [n, median(durations[n])])) as Record<
        keyof typeof kinds,
        number
      >;
    }
    const worst = (m: Record<keyof typeof kinds, number>) =>
      Math.max(...names.map((n) => Math.abs(m[n] - m.unknown) / m.unknown));

    async function run() {
      for (let round = 0; round < WARM_UP + SAMPLES; round++) {
        // Past the per-email window each round, so that every request takes the full path.
        clock.advance(15 * 60_000);
        // Interleaved, in a rotating order, so that drift in the machine's load hits all alike.
        for (let i = 0; i < names.length; i++) {
          const name = names[(round + i) % names.length]!;
          const started = performance.now();
          await auth.requestPasswordReset(kinds[name]);
          const elapsed = performance.now() - started;
          if (round >= WARM_UP) durations[name].push(elapsed);
        }
        // The background work (issuing the link, delivering it) runs between rounds, off the clock.
        await auth.mail.flush();
      }
    }

    // A shared 2-core machine can disturb one run of microsecond timings: up to three runs, and
    // the test holds if one of them is within bounds. A systematic difference (work done on the
    // request path for existing accounts only) fails all three: it measured 36 µs against 9 µs.
    let medians = await measure();
    for (let attempt = 1; attempt < 3 && worst(medians) > 0.1; attempt++) {
      medians = await measure();
    }
    const reference = medians.unknown;
    for (const name of names) {
      expect(
        Math.abs(medians[name] - reference) / reference,
        `median of ${name}: ${medians[name].toFixed(4)} ms against ${reference.toFixed(4)} ms for unknown`,
      ).toBeLessThanOrEqual(0.1);
    }
    // The work behind the answer did happen: one link per round to the existing account only.
    expect(made.sent.filter((m) => m.kind === 'password_reset').length).toBeGreaterThanOrEqual(
      WARM_UP + SAMPLES,
    );
    console.log('reset request medians (ms):', medians);
  }, 180_000);
});
