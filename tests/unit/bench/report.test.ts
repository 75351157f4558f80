// The arithmetic behind `npm run bench`: figures, targets as ratios of medians, met/missed,
// the interleaved order, the fresh-token rotation, and the docs section it rewrites. Pure
// functions only: the benchmark itself does not run in npm test.
import { describe, expect, it } from 'vitest';
import { CASES, httpTargets, TARGETS } from '../../bench/http.js';
import { roundProblem, TokenPool } from '../../bench/load.js';
import {
  FIGURES_BEGIN,
  FIGURES_END,
  figureOf,
  formatSuiteMarkdown,
  formatSuiteText,
  formatTarget,
  interleave,
  isMet,
  median,
  ratioOfMedians,
  ratioTarget,
  replaceFigures,
  target,
} from '../../bench/report.js';

describe('figures', () => {
  it('median of an odd count is the middle sample, of an even count the mean of the middle two', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('figureOf gives min, median and max of the samples and keeps them', () => {
    const f = figureOf('x', 'req/s', [300, 100, 200, 500, 400]);
    expect(f).toMatchObject({ name: 'x', unit: 'req/s', min: 100, median: 300, max: 500 });
    expect(f.samples).toEqual([300, 100, 200, 500, 400]);
  });

  it('a void round (NaN sample) does not drag min/median/max', () => {
    const f = figureOf('x', 'req/s', [Number.NaN, 10, 30, 20]);
    expect([f.min, f.median, f.max]).toEqual([10, 20, 30]);
  });

  it('a figure without a sample has NaN statistics (never a made-up zero)', () => {
    const f = figureOf('x', 'req/s', []);
    expect(f.median).toBeNaN();
    expect(f.min).toBeNaN();
  });
});

describe('targets', () => {
  it('>= and <= are met at the bound and missed beyond it', () => {
    expect(isMet(0.95, '>=', 0.95)).toBe(true);
    expect(isMet(0.9499, '>=', 0.95)).toBe(false);
    expect(isMet(1.03, '<=', 1.03)).toBe(true);
    expect(isMet(1.0301, '<=', 1.03)).toBe(false);
  });

  it('within is inclusive at both ends', () => {
    expect(isMet(0.95, 'within', [0.95, 1.05])).toBe(true);
    expect(isMet(1.05, 'within', [0.95, 1.05])).toBe(true);
    expect(isMet(1.06, 'within', [0.95, 1.05])).toBe(false);
    expect(isMet(0.94, 'within', [0.95, 1.05])).toBe(false);
  });

  it('a missing figure (NaN) misses every kind of target', () => {
    expect(target('t', Number.NaN, '>=', 0).met).toBe(false);
    expect(target('t', Number.NaN, '<=', 10).met).toBe(false);
    expect(target('t', Number.NaN, 'within', [0, 10]).met).toBe(false);
  });

  it('a bound of the wrong shape for its operator is a programming error, not a silent miss', () => {
    expect(() => target('t', 1, 'within', 1)).toThrow(/within/);
    expect(() => target('t', 1, '>=', [0, 2])).toThrow(/number bound/);
  });

  it('ratio targets divide medians, not means or best rounds', () => {
    // Medians 100 and 200: ratio 0.5. Means (140 / 200) or maxima (300 / 210) would differ.
    const a = figureOf('a', 'req/s', [50, 100, 300, 90, 160]);
    const b = figureOf('b', 'req/s', [190, 200, 210, 200, 200]);
    expect(ratioOfMedians(a, b)).toBe(0.5);
    const t = ratioTarget('a / b', a, b, '>=', 0.95);
    expect(t).toMatchObject({ value: 0.5, op: '>=', bound: 0.95, met: false });
    expect(ratioTarget('a / b', a, b, '>=', 0.5).met).toBe(true);
  });

  it('a ratio against a missing or zero baseline is missed, not infinite', () => {
    const a = figureOf('a', 'req/s', [10]);
    expect(ratioTarget('a / none', a, undefined, '>=', 1).met).toBe(false);
    expect(ratioTarget('a / zero', a, figureOf('z', 'req/s', [0]), '>=', 1).met).toBe(false);
    expect(ratioTarget('a / empty', a, figureOf('e', 'req/s', []), '>=', 1).met).toBe(false);
  });

  it('formatTarget marks each target MET or MISSED with its value and bound', () => {
    expect(formatTarget(target('warm', 1.2, '>=', 0.95))).toMatch(
      /^MET\s+warm: 1\.200 \(>= 0\.95\)$/,
    );
    expect(formatTarget(target('fresh', 0.8, '>=', 1))).toMatch(
      /^MISSED\s+fresh: 0\.800 \(>= 1\)$/,
    );
    expect(formatTarget(target('gap', Number.NaN, 'within', [0.95, 1.05]))).toMatch(
      /^MISSED\s+gap: n\/a \(within 0\.95–1\.05\)$/,
    );
  });
});

describe('interleaved rounds', () => {
  it('visits every case once per round in the same order: A B C A B C A B C', () => {
    const order = interleave(['A', 'B', 'C'], 3);
    expect(order.map((o) => o.item).join(' ')).toBe('A B C A B C A B C');
    expect(order.map((o) => o.round)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
  });

  it('never runs all rounds of one case back to back (A A A B B B)', () => {
    const order = interleave(['A', 'B'], 4).map((o) => o.item);
    for (let i = 1; i < order.length; i++) expect(order[i]).not.toBe(order[i - 1]);
  });
});

describe('the HTTP suite', () => {
  it("declares the issue's eight targets with their bounds", () => {
    expect(TARGETS.map((t) => [t.name, t.bound])).toEqual([
      ['warm: Express authenticate() / Express bare', 0.95],
      ['warm: Fastify authenticate / Fastify bare', 0.95],
      ['warm: Express authenticate() / express-jwt', 3],
      ['warm: Fastify authenticate / @fastify/jwt', 2],
      ['fresh: Express authenticate() / express-jwt', 1],
      ['fresh: Fastify authenticate / @fastify/jwt', 1],
      ['warm: Express authenticate()+authorize() / Express bare GET /users/:id', 0.9],
      ['warm: Fastify authenticate+authorize / Fastify bare GET /users/:id', 0.9],
    ]);
  });

  it('every target names measured cases (a typo would make it silently missed)', () => {
    const names = new Set(CASES.map((c) => c.name));
    for (const t of TARGETS) {
      expect(names.has(t.numerator), t.numerator).toBe(true);
      expect(names.has(t.denominator), t.denominator).toBe(true);
    }
    expect(names.size).toBe(CASES.length);
  });

  it('fresh-token targets compare fresh against fresh, warm against warm', () => {
    for (const t of TARGETS) {
      const mode = (name: string) => CASES.find((c) => c.name === name)!.mode;
      expect(mode(t.numerator)).toBe(mode(t.denominator));
      expect(t.name.startsWith(mode(t.numerator))).toBe(true);
    }
  });

  it('computes every target from the medians of the named figures', () => {
    // gatehouse at 96 % of bare Fastify (met) and at 90 % of bare Express (missed).
    const figures = CASES.map((c) => {
      const value =
        c.name === 'warm: Fastify gatehouse authenticate'
          ? 9600
          : c.name === 'warm: Express gatehouse authenticate()'
            ? 9000
            : 10_000;
      return figureOf(c.name, 'req/s', [value * 0.9, value, value * 1.5]);
    });
    const targets = new Map(httpTargets(figures).map((t) => [t.name, t]));
    expect(targets.get('warm: Fastify authenticate / Fastify bare')).toMatchObject({
      value: 0.96,
      met: true,
    });
    expect(targets.get('warm: Express authenticate() / Express bare')).toMatchObject({
      value: 0.9,
      met: false,
    });
    expect(targets.get('fresh: Fastify authenticate / @fastify/jwt')).toMatchObject({
      value: 1,
      met: true,
    });
  });

  it('a case with no valid round misses its targets instead of dropping them', () => {
    // gatehouse at 3x every baseline: each target is met, except where the baseline is missing.
    const figures = CASES.filter((c) => c.name !== 'warm: Express bare').map((c) =>
      figureOf(c.name, 'req/s', [c.name.includes('gatehouse') ? 3000 : 1000]),
    );
    expect(
      httpTargets([...figures, figureOf('warm: Express bare', 'req/s', [1000])]).every(
        (t) => t.met,
      ),
    ).toBe(true);
    const targets = httpTargets(figures);
    expect(targets).toHaveLength(TARGETS.length);
    const missed = targets.filter((t) => !t.met).map((t) => t.name);
    expect(missed).toEqual(['warm: Express authenticate() / Express bare']);
  });
});

describe('load rounds', () => {
  it('fresh-token pool: a token comes back only after every other token of the pool was sent', () => {
    const pool = new TokenPool(['t0', 't1', 't2', 't3', 't4']);
    const sent = Array.from({ length: 12 }, () => pool.take());
    expect(sent.slice(0, 5)).toEqual(['t0', 't1', 't2', 't3', 't4']);
    for (let i = 0; i < sent.length; i++) {
      const next = sent.indexOf(sent[i]!, i + 1);
      if (next !== -1) expect(next - i).toBe(pool.size);
    }
  });

  it('an empty token pool is refused', () => {
    expect(() => new TokenPool([])).toThrow(/empty/);
  });

  it('a round with rejected requests (a server answering 401 fast) is void, not a fast sample', () => {
    const clean = { rps: 1000, p50: 1, p99: 2, non2xx: 0, errors: 0, timeouts: 0, total: 2000 };
    expect(roundProblem(clean)).toBeNull();
    expect(roundProblem({ ...clean, non2xx: 3 })).toMatch(/3 non-2xx/);
    expect(roundProblem({ ...clean, errors: 1, timeouts: 1 })).toMatch(
      /connection errors.*timeouts/,
    );
    expect(roundProblem({ ...clean, rps: 0 })).toMatch(/no 2xx/);
  });
});

describe('the report', () => {
  const result = {
    suite: 'http',
    title: 'HTTP',
    figures: [figureOf('warm: Express bare', 'req/s', [9000, 10_000, 12_000])],
    targets: [target('a | b', 0.97, '>=', 0.95)],
    notes: ['one note'],
  };

  it('prints each figure with min, median and max, and each target MET or MISSED', () => {
    const text = formatSuiteText(result).join('\n');
    expect(text).toMatch(/warm: Express bare\s+9000 req\/s\s+10\.0 k req\/s\s+12\.0 k req\/s/);
    expect(text).toMatch(/MET\s+a \| b: 0\.970/);
    expect(text).toContain('note: one note');
  });

  it('markdown tables escape a | in a name so a row keeps its columns', () => {
    const md = formatSuiteMarkdown(result).join('\n');
    expect(md).toContain('| a \\| b | 0.97 | >= 0.95 | MET |');
    expect(md).toContain('| warm: Express bare | 9000 req/s | 10.0 k req/s | 12.0 k req/s |');
  });

  it('replaces only the text between the figure markers, keeping the explanation around them', () => {
    const doc = `# Benchmarks\n\nHow to read.\n\n${FIGURES_BEGIN}\nold figures\n${FIGURES_END}\n\nAfter.\n`;
    const once = replaceFigures(doc, 'new figures');
    expect(once).toBe(
      `# Benchmarks\n\nHow to read.\n\n${FIGURES_BEGIN}\nnew figures\n${FIGURES_END}\n\nAfter.\n`,
    );
    expect(replaceFigures(once, 'new figures')).toBe(once);
  });

  it('a document without markers gets them appended, its text untouched', () => {
    const out = replaceFigures('# Benchmarks\n\nText.\n', 'figures');
    expect(out).toBe(`# Benchmarks\n\nText.\n\n${FIGURES_BEGIN}\nfigures\n${FIGURES_END}\n`);
  });
});
