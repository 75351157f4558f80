import type { RevocationEvent, RevocationListener, RevocationWatch } from './types.js';

/**
 * The listeners of one revocation channel (a Postgres LISTEN, a Redis subscription) and its
 * live state, shared by the stores that implement `TokenStore.watchRevocations` over a
 * connection: the first watch starts the connection, the last one stops it; a listener's fault
 * never breaks delivery to the others; `down` is told once per outage (and once for a failed
 * start); `up` announces `{ kind: 'all' }` before turning live, since whatever was revoked while
 * nobody listened is unknown. Internal to the stores of this package.
 *
 * @example
 * ```ts
 * const hub = new RevocationHub({ start: () => connect(), stop: () => disconnect() });
 * store.watchRevocations = (listener) => hub.watch(listener);
 * // connected: hub.up(); notification: hub.emit(event); connection lost: hub.down();
 * ```
 */
export class RevocationHub {
  readonly #listeners = new Set<RevocationListener>();
  readonly #start: () => void;
  readonly #stop: () => Promise<void>;
  #live = false;
  /** `onLiveChange(false)` was told for the current outage (or the failed start). */
  #reportedDown = false;

  constructor({ start, stop }: { start: () => void; stop: () => Promise<void> }) {
    this.#start = start;
    this.#stop = stop;
  }

  /** How many watches are open. */
  get size(): number {
    return this.#listeners.size;
  }

  /** True while every revocation is delivered. */
  get live(): boolean {
    return this.#live;
  }

  /** Opens a watch; the first one starts the channel, closing the last one stops it. */
  watch(listener: RevocationListener): RevocationWatch {
    const entry: RevocationListener = {
      onRevoked: (event) => listener.onRevoked(event),
      onLiveChange: (live) => listener.onLiveChange(live),
    };
    this.#listeners.add(entry);
    if (this.#listeners.size === 1) {
      this.#reportedDown = false;
      this.#start();
    }
    let open = true;
    const hub = this;
    return {
      get live() {
        return open && hub.#live;
      },
      close: async () => {
        if (!open) return;
        open = false;
        this.#listeners.delete(entry);
        if (this.#listeners.size === 0) await this.#stop();
      },
    };
  }

  /** Delivers one revocation to every open watch. */
  emit(event: RevocationEvent): void {
    for (const listener of this.#listeners) safely(() => listener.onRevoked(event));
  }

  /** Connected (again): `{ kind: 'all' }` first, then live. No-op while already live. */
  up(): void {
    if (this.#live) return;
    this.#reportedDown = false;
    this.emit({ kind: 'all' });
    this.#live = true;
    this.#tell(true);
  }

  /** Lost or failed to connect: not live, told once per outage. Returns whether it was live. */
  down(): boolean {
    const wasLive = this.#live;
    this.#live = false;
    if (wasLive || !this.#reportedDown) {
      this.#reportedDown = true;
      this.#tell(false);
    }
    return wasLive;
  }

  /** Stopping: not live, without telling anyone. Returns whether it was live. */
  quiet(): boolean {
    const wasLive = this.#live;
    this.#live = false;
    return wasLive;
  }

  /** Forgets every watch (the connection's owner is going away), telling them if it was live. */
  drop(wasLive: boolean): void {
    if (wasLive) this.#tell(false);
    this.#listeners.clear();
  }

  #tell(live: boolean): void {
    for (const listener of this.#listeners) safely(() => listener.onLiveChange(live));
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A listener's fault must not break delivery to the others.
  }
}
