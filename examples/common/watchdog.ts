import { Worker } from 'node:worker_threads';

/**
 * Kills the process when its main thread stops making progress. PGlite runs in WebAssembly on
 * the main thread: when it spins on a damaged database, no timer, signal handler or log line of
 * the main thread ever runs again. The watchdog is a worker thread with its own event loop; the
 * main thread stamps the time into shared memory every `beatMs`, and when no stamp arrived for
 * the current phase's limit the worker writes the phase's message to stderr (`fs.writeSync(2)`)
 * and sends SIGKILL to the process.
 */
export interface Watchdog {
  /** Enters a phase: a new limit and the message to print if the main thread stalls in it. */
  phase(name: string, limitMs: number, message: string): void;
  /** Records progress now (also done every `beatMs` by a timer of the main thread). */
  beat(): void;
  /** Stops watching (the worker ends); idempotent. */
  stop(): void;
}

export interface WatchdogOptions {
  /** How often the main thread stamps progress. @default 250 */
  beatMs?: number;
  /** How often the worker looks at the stamp. @default 100 */
  checkMs?: number;
}

// Plain CommonJS for an eval'd worker: no loader, no TypeScript, nothing from the main thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const stamp = new BigInt64Array(workerData.buffer);
let phase = { name: 'start', limitMs: 60000, message: 'fatal: the process stopped responding' };
parentPort.on('message', (next) => {
  if (next === 'stop') process.exit(0);
  phase = next;
});
let lastTick = Date.now();
let resumedAt = 0;
setInterval(() => {
  const now = Date.now();
  // This thread was not scheduled either (the process was stopped, the machine slept): count
  // the main thread's silence from now on, not from before the pause.
  if (now - lastTick > 1000) resumedAt = now;
  lastTick = now;
  const silentMs = now - Math.max(Number(Atomics.load(stamp, 0)), resumedAt);
  if (silentMs <= phase.limitMs) return;
  const line = phase.message + ' (no progress for ' + Math.round(silentMs / 1000) + ' s while ' + phase.name + ')\\n';
  try { writeSync(2, line); } catch {}
  process.kill(process.pid, 'SIGKILL');
}, workerData.checkMs);
`;

/** Starts a watchdog thread; it never keeps the process alive on its own. */
export function startWatchdog(options: WatchdogOptions = {}): Watchdog {
  const buffer = new SharedArrayBuffer(8);
  const stamp = new BigInt64Array(buffer);
  const beat = () => Atomics.store(stamp, 0, BigInt(Date.now()));
  beat();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { buffer, checkMs: options.checkMs ?? 100 },
    // The worker needs no loader: keep tsx and friends out of it.
    execArgv: [],
  });
  worker.unref();
  const timer = setInterval(beat, options.beatMs ?? 250);
  timer.unref();
  let stopped = false;
  return {
    phase(name, limitMs, message) {
      if (stopped) return;
      beat();
      worker.postMessage({ name, limitMs, message });
    },
    beat,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      worker.postMessage('stop');
    },
  };
}
