// Preloaded (`node --require`) into every benchmark server process, bare ones included, before
// anything else runs. It keeps one of Node's own `process.nextTick` queue entries alive for the
// life of the process, so V8 never collects the hidden classes (maps) of those entries.
//
// Why: nextTick builds each entry with an object literal with computed keys,
// `{ [async_id_symbol], [trigger_async_id_symbol], callback, args }`. V8's feedback for each
// computed key (DefineKeyedOwnPropertyInLiteral) goes from monomorphic straight to megamorphic
// the first time it sees a second map. If a full GC runs while no tick is queued (common while a
// server starts: module loading, createAuth, minting tokens), the maps die, the next tick gets new
// ones, the feedback turns megamorphic for good and the optimized nextTick defines three of the
// four properties through the runtime: about 3 µs more per HTTP request, since Node's own http
// and stream code calls nextTick several times per request. Which processes land in that state
// is down to GC timing (about half of the gatehouse servers measured, almost never the bare ones,
// whose start does little), so without this pin the ratios measured a coin toss, not the
// middleware. With it, every server starts in the fast state. `BENCH_TICK_PIN=0` turns it off
// (tests/bench/processes.ts); docs/benchmarks.md explains it.
'use strict';
const { isMainThread } = require('node:worker_threads');

if (isMainThread) {
  const { createHook } = require('node:async_hooks');
  let held = null;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && held === null) held = resource;
    },
  }).enable();
  // The callback is the entry's, so its function's map is the usual one too.
  process.nextTick(() => {});
  hook.disable();
  if (held === null) throw new Error('tick-map-pin: no TickObject seen');
  // Reachable from a global: never collected, and with it the maps of every tick entry.
  Object.defineProperty(globalThis, Symbol.for('gatehouse.bench.tickMapPin'), { value: held });
}
