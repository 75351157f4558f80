// A real PostgreSQL server for the reliability suite: a fresh cluster in a temporary folder on a
// free 127.0.0.1 port, that can be killed (`pg_ctl stop -m immediate`, a crash of every server
// process) and started again on the same port and data folder. As root, the server runs as the
// system user `postgres` (PostgreSQL refuses to run as root), like scripts/with-postgres.sh.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../e2e/example-process.js';

/** One running (or stopped) PostgreSQL server of the suite. */
export interface PostgresServer {
  /** postgres://postgres:<password>@127.0.0.1:<port>/gatehouse_reliability */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m immediate`: every server process ends at once, as in a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data folder (crash recovery); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the server (if running) and removes its folder. */
  close(): Promise<void>;
  /** The server's own log (for a failure report). */
  log(): string;
}

const DATABASE = 'gatehouse_reliability';

/** The bin folder of the newest installed PostgreSQL (15 preferred), or PG_BINDIR. */
export function postgresBinDir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const chosen = versions.includes('15') ? '15' : versions.at(-1);
  if (chosen === undefined) {
    throw new Error(
      'no PostgreSQL server found in /usr/lib/postgresql/*/bin (install postgresql, or set PG_BINDIR); scripts/with-postgres.sh installs it with apt-get',
    );
  }
  return join(root, chosen, 'bin');
}

function run(
  file: string,
  args: string[],
  options: { cwd: string; asUser: string | null; timeoutMs: number },
): Promise<string> {
  const [cmd, argv] = options.asUser
    ? ['runuser', ['-u', options.asUser, '--', file, ...args]]
    : [file, args];
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      argv,
      { cwd: options.cwd, timeout: options.timeoutMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(
              `${file.split('/').pop()} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`,
            ),
          );
        else resolve(stdout);
      },
    );
  });
}

/** Creates a fresh cluster and database on a free port and starts the server. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const root = process.getuid?.() === 0;
  const owner = root ? 'postgres' : userInfo().username;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-reliability-pg-'));
  chmodSync(dir, 0o700);
  const ownerIds = root ? await idsOf(owner) : null;
  if (ownerIds) chownSync(dir, ownerIds.uid, ownerIds.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const password = randomBytes(18).toString('hex');
  const port = await freePort();
  const opts = { cwd: dir, asUser: root ? owner : null, timeoutMs: 120_000 };
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ownerIds) chownSync(pwfile, ownerIds.uid, ownerIds.gid);
  await run(
    join(bin, 'initdb'),
    [
      '-D',
      data,
      '-U',
      'postgres',
      `--pwfile=${pwfile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '-E',
      'UTF8',
      '--no-locale',
    ],
    opts,
  );
  rmSync(pwfile, { force: true });
  // fsync off: the machine does not crash, only the server's processes, and the kernel keeps
  // what they wrote. synchronous_commit stays on: a commit is acknowledged only once its WAL is
  // written, so an immediate stop loses nothing the apps were told was saved.
  const serverOptions = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c fsync=off -c full_page_writes=off -c max_connections=100`;
  let running = false;
  const start = async () => {
    await run(
      join(bin, 'pg_ctl'),
      ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', serverOptions, 'start'],
      opts,
    );
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate') => {
    if (!running) return;
    running = false;
    await run(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop'], opts);
  };
  await start();
  await run(
    join(bin, 'createdb'),
    ['-h', dir, '-p', String(port), '-U', 'postgres', DATABASE],
    opts,
  );
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${DATABASE}`,
    port,
    kill: () => stop('immediate'),
    start,
    async close() {
      await stop('fast').catch(() => stop('immediate').catch(() => {}));
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

async function idsOf(user: string): Promise<{ uid: number; gid: number }> {
  const out = await run('id', [user], { cwd: '/', asUser: null, timeoutMs: 5000 }).catch(() => '');
  const uid = /uid=(\d+)/.exec(out)?.[1];
  const gid = /gid=(\d+)/.exec(out)?.[1];
  if (!uid || !gid)
    throw new Error(
      `running as root needs the system user "${user}" (created by the postgresql package)`,
    );
  return { uid: Number(uid), gid: Number(gid) };
}
