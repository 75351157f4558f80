// The shape every benchmark suite returns, and the pure arithmetic behind the report: figures
// (min/median/max over rounds), targets (a ratio of medians checked against a bound), the
// interleaved round order, and the text/markdown renderings. No I/O here: run.ts prints and writes.

/** What run.ts hands every suite. */
export interface BenchContext {
  /** Short rounds (`--quick`): for development and CI smoke, not for the published figures. */
  quick: boolean;
  /** Prints one progress line (to stderr, so stdout stays the report). */
  log(line: string): void;
}

/** One measured quantity: every round's sample, and its min/median/max. */
export interface Figure {
  name: string;
  /** e.g. 'req/s', 'ops/s', 'ms', 'µs', 'x'. */
  unit: string;
  samples: number[];
  min: number;
  median: number;
  max: number;
}

/** One target of the issue: `value op bound`, and whether it holds. */
export interface Target {
  name: string;
  value: number;
  op: '>=' | '<=' | 'within';
  bound: number | [number, number];
  met: boolean;
}

/** What each suite module's `run(ctx)` resolves to. */
export interface SuiteResult {
  suite: string;
  title: string;
  figures: Figure[];
  targets: Target[];
  /** Free text: skipped parts with their reason, caveats, what a figure means. */
  notes: string[];
}

/** Every suite module exports this. */
export type SuiteRun = (ctx: BenchContext) => Promise<SuiteResult>;

/** The median of the samples (mean of the two middle ones for an even count); NaN when empty. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Builds a figure from its samples. */
export function figureOf(name: string, unit: string, samples: readonly number[]): Figure {
  const finite = samples.filter((s) => Number.isFinite(s));
  return {
    name,
    unit,
    samples: [...samples],
    min: finite.length > 0 ? Math.min(...finite) : Number.NaN,
    median: median(finite),
    max: finite.length > 0 ? Math.max(...finite) : Number.NaN,
  };
}

/** Checks `value op bound`. NaN (a missing figure) never meets a target. */
export function isMet(value: number, op: Target['op'], bound: Target['bound']): boolean {
  if (!Number.isFinite(value)) return false;
  if (op === 'within') {
    if (!Array.isArray(bound)) throw new TypeError('a "within" target needs a [low, high] bound');
    return value >= bound[0] && value <= bound[1];
  }
  if (Array.isArray(bound)) throw new TypeError(`a "${op}" target needs a number bound`);
  return op === '>=' ? value >= bound : value <= bound;
}

/** Builds a target and marks it met or missed. */
export function target(
  name: string,
  value: number,
  op: Target['op'],
  bound: Target['bound'],
): Target {
  return { name, value, op, bound, met: isMet(value, op, bound) };
}

/** The ratio of two figures' medians (NaN when either is missing or the denominator is 0). */
export function ratioOfMedians(
  numerator: Figure | undefined,
  denominator: Figure | undefined,
): number {
  if (!numerator || !denominator || !(denominator.median > 0)) return Number.NaN;
  return numerator.median / denominator.median;
}

/** A target on the ratio of two figures' medians: `a.median / b.median op bound`. */
export function ratioTarget(
  name: string,
  numerator: Figure | undefined,
  denominator: Figure | undefined,
  op: Target['op'],
  bound: Target['bound'],
): Target {
  return target(name, ratioOfMedians(numerator, denominator), op, bound);
}

/**
 * The interleaved order of a run: every round visits every item once, in the same order
 * (A B C A B C …), so that machine noise during a round hits every item alike.
 */
export function interleave<T>(items: readonly T[], rounds: number): { round: number; item: T }[] {
  const order: { round: number; item: T }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const item of items) order.push({ round, item });
  }
  return order;
}

/** A compact human number: 12.3 k, 1.23 M, 456, 0.93. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)} k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatValue(value: number, unit: string): string {
  if (unit === 'x') return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
  return `${formatNumber(value)} ${unit}`;
}

function formatBound(target: Target): string {
  const b = target.bound;
  if (Array.isArray(b)) return `${target.op} ${b[0]}–${b[1]}`;
  return `${target.op} ${b}`;
}

/** "MET" or "MISSED". */
export function verdict(target: Target): 'MET' | 'MISSED' {
  return target.met ? 'MET' : 'MISSED';
}

/** One line per target: `MET     warm … 1.02 (>= 0.95)`. */
export function formatTarget(target: Target): string {
  const value = Number.isFinite(target.value) ? target.value.toFixed(3) : 'n/a';
  return `${verdict(target).padEnd(6)}  ${target.name}: ${value} (${formatBound(target)})`;
}

/** Plain-text lines for one suite (the console report). */
export function formatSuiteText(result: SuiteResult): string[] {
  const lines = [`\n## ${result.title}`];
  const width = Math.max(20, ...result.figures.map((f) => f.name.length));
  if (result.figures.length > 0) {
    lines.push(
      `${'figure'.padEnd(width)}  ${'min'.padStart(12)}  ${'median'.padStart(12)}  ${'max'.padStart(12)}`,
    );
  }
  for (const f of result.figures) {
    lines.push(
      `${f.name.padEnd(width)}  ${formatValue(f.min, f.unit).padStart(12)}  ${formatValue(f.median, f.unit).padStart(12)}  ${formatValue(f.max, f.unit).padStart(12)}`,
    );
  }
  if (result.targets.length > 0) lines.push('targets:');
  for (const t of result.targets) lines.push(`  ${formatTarget(t)}`);
  for (const n of result.notes) lines.push(`note: ${n}`);
  return lines;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** Markdown for one suite (the figures section of docs/benchmarks.md). */
export function formatSuiteMarkdown(result: SuiteResult): string[] {
  const lines = [`### ${result.title}`, ''];
  if (result.figures.length > 0) {
    lines.push('| figure | min | median | max |', '|---|---|---|---|');
    for (const f of result.figures) {
      lines.push(
        `| ${escapeCell(f.name)} | ${formatValue(f.min, f.unit)} | ${formatValue(f.median, f.unit)} | ${formatValue(f.max, f.unit)} |`,
      );
    }
    lines.push('');
  }
  if (result.targets.length > 0) {
    lines.push('| target | value | bound | |', '|---|---|---|---|');
    for (const t of result.targets) {
      const value = Number.isFinite(t.value) ? t.value.toFixed(2) : 'n/a';
      lines.push(
        `| ${escapeCell(t.name)} | ${value} | ${escapeCell(formatBound(t))} | ${verdict(t)} |`,
      );
    }
    lines.push('');
  }
  for (const n of result.notes) lines.push(`- ${n}`);
  if (result.notes.length > 0) lines.push('');
  return lines;
}

export const FIGURES_BEGIN =
  '<!-- bench:figures:begin (generated by npm run bench; do not edit by hand) -->';
export const FIGURES_END = '<!-- bench:figures:end -->';

/**
 * Replaces the text between the figure markers of a markdown document (appending the markers
 * at the end when the document has none), keeping everything outside them.
 */
export function replaceFigures(document: string, figures: string): string {
  const begin = document.indexOf(FIGURES_BEGIN);
  const end = document.indexOf(FIGURES_END);
  const block = `${FIGURES_BEGIN}\n${figures.trim()}\n${FIGURES_END}`;
  if (begin === -1 || end === -1 || end < begin) {
    return `${document.trimEnd()}\n\n${block}\n`;
  }
  return document.slice(0, begin) + block + document.slice(end + FIGURES_END.length);
}
