import { type Figure, figureOf, median } from './report.js';

/**
 * A small benchmark harness: runs each case in alternating rounds (so machine noise hits all
 * cases alike) and reports the median ops/s over the rounds. Ratios are what we compare.
 */
export interface BenchCase {
  name: string;
  /** One operation; may return a promise (awaited). */
  fn: () => unknown;
}

export interface BenchResult {
  name: string;
  /** The median over the rounds. */
  opsPerSec: number;
  /** Every round's ops/s. */
  samples: number[];
}

async function timeBatch(fn: () => unknown, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function calibrate(fn: () => unknown, targetSeconds: number): Promise<number> {
  let iterations = 16;
  for (;;) {
    const elapsed = await timeBatch(fn, iterations);
    if (elapsed >= targetSeconds / 4 || iterations > 1e8) {
      return Math.max(16, Math.round((iterations * targetSeconds) / Math.max(elapsed, 1e-9)));
    }
    iterations *= 4;
  }
}

export async function runCases(
  cases: BenchCase[],
  { rounds = 7, roundSeconds = 0.15 }: { rounds?: number; roundSeconds?: number } = {},
): Promise<Map<string, BenchResult>> {
  const iterations = new Map<string, number>();
  for (const c of cases) iterations.set(c.name, await calibrate(c.fn, roundSeconds));
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      const n = iterations.get(c.name)!;
      const seconds = await timeBatch(c.fn, n);
      samples.get(c.name)!.push(n / seconds);
    }
  }
  const results = new Map<string, BenchResult>();
  for (const c of cases) {
    const own = samples.get(c.name)!;
    results.set(c.name, { name: c.name, opsPerSec: median(own), samples: own });
  }
  return results;
}

/** The figures (ops/s, every round's sample) of the named cases, in the order given. */
export function figuresOf(
  results: Map<string, BenchResult>,
  names: readonly string[],
  prefix = '',
): Figure[] {
  return names.map((name) =>
    figureOf(`${prefix}${name}`, 'ops/s', results.get(name)?.samples ?? []),
  );
}

/**
 * A figure of the per-round ratio `a / b` of two cases (they ran in the same rounds, one after
 * the other, so each round's ratio shares that round's load).
 */
export function ratioFigure(
  name: string,
  results: Map<string, BenchResult>,
  a: string,
  b: string,
): Figure {
  const sa = results.get(a)?.samples ?? [];
  const sb = results.get(b)?.samples ?? [];
  return figureOf(
    name,
    'x',
    sa.map((v, i) => v / (sb[i] ?? Number.NaN)),
  );
}
