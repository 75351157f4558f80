import type { Logger } from '../runtime.js';

/**
 * Work started by a request that the request does not wait for (issuing a reset link and its
 * mail), so that the request costs the same whatever the work turns out to be. Each task starts
 * on a later turn of the event loop (never inside the caller's await), is tracked until it
 * settles, and its failure is logged with its cause, never thrown. `idle()` waits for every task,
 * including those started while waiting: `auth.mail.flush()` and `auth.close()` use it.
 */
export class BackgroundTasks {
  readonly #pending = new Set<Promise<void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Runs `task` soon, off the caller's path. */
  run(label: string, task: () => Promise<void>): void {
    const tracked: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(task)
      .catch((err: unknown) => {
        this.#logger.error(`${label} failed`, describeError(err));
      })
      .finally(() => {
        this.#pending.delete(tracked);
      });
    this.#pending.add(tracked);
  }

  /** How many tasks have not settled yet. */
  get size(): number {
    return this.#pending.size;
  }

  /** Resolves once no task is pending (tasks started meanwhile included). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}

/** An error as log fields: its message, code and the message of its cause (never a stack of secrets). */
export function describeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const fields: Record<string, unknown> = { error: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') fields['code'] = code;
  if (err.cause !== undefined) {
    fields['cause'] = err.cause instanceof Error ? err.cause.message : String(err.cause);
  }
  return fields;
}
