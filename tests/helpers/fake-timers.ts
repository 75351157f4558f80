import type { Clock } from '../../src/index.js';
import type { MailWorkerTimers } from '../../src/mail/worker.js';

/** Lets pending promise callbacks run (store operations, mailer promises) without waiting on time. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock and timers the test moves by hand: `advance(ms)` fires every timer that falls due, in
 * order, at its own time, letting promises settle after each. Nothing waits on wall-clock time.
 */
export class FakeTime {
  time: number;
  readonly #timers = new Map<number, { at: number; seq: number; callback: () => void }>();
  #seq = 0;

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  readonly clock: Clock = { now: () => this.time };

  readonly timers: MailWorkerTimers = {
    setTimeout: (callback, ms) => {
      this.#seq += 1;
      this.#timers.set(this.#seq, { at: this.time + Math.max(0, ms), seq: this.#seq, callback });
      return this.#seq;
    },
    clearTimeout: (handle) => {
      this.#timers.delete(handle as number);
    },
  };

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; seq: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at > end) continue;
        if (
          !next ||
          entry[1].at < next[1].at ||
          (entry[1].at === next[1].at && entry[1].seq < next[1].seq)
        ) {
          next = entry;
        }
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].callback();
      await settle();
    }
    this.time = end;
    await settle();
  }
}
