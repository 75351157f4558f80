// `npm run bench [-- --quick] [-- --strict] [-- suite ...]`: every benchmark of gatehouse, each
// against its baseline, in one run. Prints the machine, each figure's min/median/max and each
// target MET or MISSED; a full run (every suite) writes bench-results.json and the figures
// section of docs/benchmarks.md. Exit code 0 even when a target is missed, unless --strict.
//
// Without DATABASE_URL, when PostgreSQL's binaries are installed, the run re-starts itself under
// scripts/with-postgres.sh (a throwaway server) so the PostgreSQL figure is measured too.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BenchContext,
  formatSuiteMarkdown,
  formatSuiteText,
  formatTarget,
  replaceFigures,
  type SuiteResult,
  type SuiteRun,
} from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

/** Every suite, in the order they run: in-process micro-benchmarks first, then HTTP. */
export const SUITES = [
  'tokens',
  'policy',
  'http',
  'postgres',
  'login',
  'redis',
  'telemetry',
] as const;

interface Args {
  quick: boolean;
  strict: boolean;
  write: boolean;
  postgres: boolean;
  suites: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, strict: false, write: true, postgres: true, suites: [] };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--strict') args.strict = true;
    else if (arg === '--no-write') args.write = false;
    else if (arg === '--no-postgres') args.postgres = false;
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else if ((SUITES as readonly string[]).includes(arg)) args.suites.push(arg);
    else throw new Error(`unknown suite ${arg} (suites: ${SUITES.join(', ')})`);
  }
  return args;
}

function postgresBinaries(): boolean {
  try {
    return readdirSync('/usr/lib/postgresql').some((v) =>
      existsSync(`/usr/lib/postgresql/${v}/bin/initdb`),
    );
  } catch {
    return false;
  }
}

/** Re-runs this command under scripts/with-postgres.sh; resolves to its exit code. */
function underThrowawayPostgres(): Promise<number> {
  const child = spawn(
    'bash',
    [
      join(ROOT, 'scripts', 'with-postgres.sh'),
      process.execPath,
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, GATEHOUSE_BENCH_WRAPPED: '1' } },
  );
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  );
}

async function loadSuite(name: string): Promise<SuiteRun | string> {
  if (!existsSync(join(HERE, `${name}.ts`))) {
    return `skipped: tests/bench/${name}.ts is not there`;
  }
  const mod = (await import(`./${name}.js`)) as { run?: SuiteRun };
  if (typeof mod.run !== 'function') return `skipped: tests/bench/${name}.ts exports no run()`;
  return mod.run;
}

function machine() {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const wantsPostgres =
    args.suites.length === 0 || args.suites.includes('postgres') || args.suites.includes('redis');
  if (
    args.postgres &&
    wantsPostgres &&
    !process.env['DATABASE_URL'] &&
    !process.env['GATEHOUSE_BENCH_WRAPPED'] &&
    postgresBinaries()
  ) {
    return underThrowawayPostgres();
  }
  const selected =
    args.suites.length > 0 ? SUITES.filter((s) => args.suites.includes(s)) : [...SUITES];
  const info = machine();
  const mode = args.quick ? 'quick' : 'full';
  console.log(
    `gatehouse benchmarks (${mode}) — node ${info.node}, ${info.cpus} CPUs (${info.cpuModel}), ${info.platform}, ${info.date}, load average ${info.loadAverage.join(' ')}`,
  );
  const t0 = Date.now();
  const ctx: BenchContext = {
    quick: args.quick,
    log: (line) =>
      process.stderr.write(
        `  [bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`,
      ),
  };
  const results: SuiteResult[] = [];
  let failed = false;
  const started = Date.now();
  for (const name of selected) {
    if (name === 'postgres' && !args.postgres) {
      results.push({
        suite: name,
        title: 'PostgreSQL token store vs memory store',
        figures: [],
        targets: [],
        notes: ['skipped: --no-postgres'],
      });
      continue;
    }
    const suiteStart = Date.now();
    let result: SuiteResult;
    try {
      const suite = await loadSuite(name);
      result =
        typeof suite === 'string'
          ? { suite: name, title: name, figures: [], targets: [], notes: [suite] }
          : await suite(ctx);
    } catch (err) {
      failed = true;
      result = {
        suite: name,
        title: name,
        figures: [],
        targets: [],
        notes: [`FAILED: ${(err as Error).stack ?? String(err)}`],
      };
    }
    ctx.log(`${name}: ${((Date.now() - suiteStart) / 1000).toFixed(0)} s`);
    results.push(result);
    for (const line of formatSuiteText(result)) console.log(line);
  }
  const targets = results.flatMap((r) => r.targets);
  const missed = targets.filter((t) => !t.met);
  console.log(`\n## Targets: ${targets.length - missed.length} of ${targets.length} met`);
  for (const t of targets) console.log(`  ${formatTarget(t)}`);
  console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);

  const complete = args.suites.length === 0;
  if (args.write && complete) {
    const json = {
      ...info,
      mode,
      seconds: Math.round((Date.now() - started) / 1000),
      suites: results,
    };
    writeFileSync(join(ROOT, 'bench-results.json'), `${JSON.stringify(json, null, 2)}\n`);
    // In biome's layout, so that `npm run lint` stays clean on the committed file.
    const biome = spawnSync(
      join(ROOT, 'node_modules', '.bin', 'biome'),
      ['format', '--write', 'bench-results.json'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (biome.status !== 0) console.log('note: biome could not format bench-results.json');
    const docPath = join(ROOT, 'docs', 'benchmarks.md');
    const heading = [
      `One ${mode} run (\`npm run bench${args.quick ? ' -- --quick' : ''}\`), ${info.date.slice(0, 10)}: Node ${info.node}, ${info.cpus} CPUs (${info.cpuModel}), ${info.platform}, load average at start ${info.loadAverage.join(' ')}. Targets: ${targets.length - missed.length} of ${targets.length} met.`,
      '',
    ];
    const body = [...heading, ...results.flatMap((r) => formatSuiteMarkdown(r))].join('\n');
    writeFileSync(docPath, replaceFigures(readFileSync(docPath, 'utf8'), body));
    console.log('wrote bench-results.json and the figures of docs/benchmarks.md');
  } else if (args.write) {
    console.log('a partial run: bench-results.json and docs/benchmarks.md left as they were');
  }
  if (failed) return 1;
  return args.strict && missed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
