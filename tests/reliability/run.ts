// `npm run test:reliability` (docs/reliability.md): for each example app, on a fresh PostgreSQL
// server of its own: load, fault, fuzz and memory; then the crash safety of the embedded default.
// Prints one line per check, then "N passed, N failed"; exits 1 on any failure.
//
//   npm run test:reliability               the full suite (about 10 minutes)
//   npm run test:reliability -- --quick    short durations, for development
//   npm run test:reliability -- --seed=42  the fuzz seed (printed on every run)
//   npm run test:reliability -- --only=express
import { randomInt } from 'node:crypto';
import { type AppName, type AppUnderTest, startApp } from './app-process.js';
import { type Check, check } from './check.js';
import { runFault } from './fault.js';
import { runLoad } from './load.js';
import { type PostgresServer, startPostgres } from './postgres.js';
import { Ledger } from './workload.js';

interface Args {
  quick: boolean;
  seed: number;
  only: AppName | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, seed: randomInt(1, 2 ** 31 - 1), only: null };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg.startsWith('--seed=') && /^\d+$/.test(arg.slice(7)))
      args.seed = Number(arg.slice(7));
    else if (arg === '--only=express' || arg === '--only=fastify')
      args.only = arg.slice(7) as AppName;
    else {
      console.error(
        `unknown argument ${arg}: use --quick, --seed=<number>, --only=express|fastify`,
      );
      process.exit(2);
    }
  }
  return args;
}

// Each app's client addresses: 127.<net>..127.<net+5> (load: warm-up, load, checks; fault: load, checks).
const NETS: Record<AppName, number> = { express: 20, fastify: 60 };

/** The whole suite must end: past this, the runner reports a failure and exits. */
const SUITE_DEADLINE_MS = { full: 25 * 60_000, quick: 8 * 60_000 };

const results: Check[] = [];

function report(c: Check): void {
  results.push(c);
  console.log(`${c.passed ? 'PASS' : 'FAIL'} ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
}

function failure(name: string, err: unknown): Check {
  const message = err instanceof Error ? err.message : String(err);
  return check(name, false, message.split('\n').slice(0, 3).join(' / ').slice(0, 500));
}

type FuzzModule = {
  runFuzz(opts: {
    app: AppName;
    baseUrl: string;
    seed: number;
    count: number;
    alive(): boolean;
    timeouts: { headersMs: number; requestMs: number };
  }): Promise<Check[]>;
};
type CrashModule = { runCrashSafety(opts: { quick: boolean }): Promise<Check[]> };

/** Imports a sibling module of helper checks; a missing one is a failed check, not a crash. */
async function load<T>(file: string, label: string): Promise<T | Check> {
  try {
    return (await import(file)) as T;
  } catch (err) {
    return failure(`${label}: ${file} could not be loaded`, err);
  }
}

async function runApp(name: AppName, args: Args): Promise<void> {
  let server: PostgresServer | null = null;
  let app: AppUnderTest | null = null;
  try {
    server = await startPostgres();
    app = await startApp(name, server.url);
    console.log(`# ${name}: ${app.baseUrl} on PostgreSQL 127.0.0.1:${server.port}`);
    const ledger = new Ledger();
    let memory: Check | null = null;
    try {
      const load = await runLoad(app, server.url, ledger, { quick: args.quick, net: NETS[name] });
      for (const c of load.checks) report(c);
      for (const line of load.info) console.log(`# ${line}`);
      memory = load.memory;
    } catch (err) {
      report(failure(`${name}: load`, err));
    }
    try {
      for (const c of await runFault(app, server, ledger, {
        quick: args.quick,
        net: NETS[name] + 3,
      }))
        report(c);
    } catch (err) {
      report(failure(`${name}: fault`, err));
    }
    const fuzz = await load<FuzzModule>('./fuzz.js', `${name}: fuzz`);
    if ('runFuzz' in fuzz) {
      try {
        const checks = await fuzz.runFuzz({
          app: name,
          baseUrl: app.baseUrl,
          seed: args.seed,
          count: args.quick ? 1000 : 10_000,
          alive: app.alive,
          timeouts: app.timeouts,
        });
        for (const c of checks) report(c);
        if (checks.length === 0)
          report(check(`${name}: fuzz`, false, 'runFuzz returned no checks'));
      } catch (err) {
        report(failure(`${name}: fuzz (seed ${args.seed})`, err));
      }
    } else report(fuzz as Check);
    if (memory) report(memory);
    else report(check(`${name}: memory`, false, 'not measured: the load did not complete'));
    report(
      check(
        `${name}: the process is still up at the end`,
        app.alive(),
        app.alive() ? '' : app.process.output().slice(-500),
      ),
    );
  } catch (err) {
    report(failure(`${name}: start`, err));
  } finally {
    await app?.process.stop().catch(() => {});
    await server?.close().catch(() => {});
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const deadline = setTimeout(
    () => {
      report(
        check(
          'suite: finished in time',
          false,
          `still running after ${(Date.now() - started) / 60_000} min`,
        ),
      );
      console.log(
        `${results.filter((c) => c.passed).length} passed, ${results.filter((c) => !c.passed).length} failed`,
      );
      process.exit(1);
    },
    args.quick ? SUITE_DEADLINE_MS.quick : SUITE_DEADLINE_MS.full,
  );
  deadline.unref();
  console.log(
    `# reliability suite${args.quick ? ' (--quick)' : ''}: fuzz seed ${args.seed} (rerun with --seed=${args.seed})`,
  );
  for (const name of ['express', 'fastify'] as const) {
    if (args.only === null || args.only === name) await runApp(name, args);
  }
  if (args.only === null) {
    const crash = await load<CrashModule>('./crash-safety.js', 'crash safety');
    if ('runCrashSafety' in crash) {
      try {
        const checks = await crash.runCrashSafety({ quick: args.quick });
        for (const c of checks) report(c);
        if (checks.length === 0)
          report(check('crash safety', false, 'runCrashSafety returned no checks'));
      } catch (err) {
        report(failure('crash safety', err));
      }
    } else report(crash as Check);
  }
  const passed = results.filter((c) => c.passed).length;
  const failed = results.length - passed;
  console.log(`# ${Math.round((Date.now() - started) / 1000)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  // Exit now: a stray keep-alive socket or timer of a check must not keep the run alive.
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

await main();
