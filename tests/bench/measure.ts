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
  opsPerSec: number;
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
    const sorted = samples.get(c.name)!.sort((a, b) => a - b);
    results.set(c.name, { name: c.name, opsPerSec: sorted[Math.floor(sorted.length / 2)]! });
  }
  return results;
}

export function formatOps(ops: number): string {
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M ops/s`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)} k ops/s`;
  return `${ops.toFixed(0)} ops/s`;
}

/** Prints a table of results with each row's ratio against a baseline row. */
export function printTable(
  title: string,
  results: Map<string, BenchResult>,
  rows: { name: string; baseline?: string }[],
): void {
  console.log(`\n## ${title}`);
  for (const row of rows) {
    const r = results.get(row.name);
    if (!r) continue;
    let ratio = '';
    if (row.baseline) {
      const b = results.get(row.baseline);
      if (b) ratio = `  ${(r.opsPerSec / b.opsPerSec).toFixed(2)}x vs ${row.baseline}`;
    }
    console.log(`${row.name.padEnd(48)} ${formatOps(r.opsPerSec).padStart(16)}${ratio}`);
  }
}
