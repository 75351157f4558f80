import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';

/** What a lock file holds: who took the lock, where and when. */
export interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** A second process (or a second open in this one) asked for a data directory already in use. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dir: string,
    readonly lockFile: string,
    readonly holder: LockHolder | undefined,
    detail: string,
  ) {
    super(
      `DATA_DIR ${dir} is in use ${detail}. The embedded database in it can be opened by one ` +
        `process only: stop that process, or start this one with another DATA_DIR. Only if you ` +
        `are sure no process uses the directory, delete ${lockFile}.`,
    );
  }
}

export interface DataDirLock {
  readonly file: string;
  /** Deletes the lock file when it is still ours. Idempotent; also runs at process exit. */
  release(): void;
}

export interface LockOptions {
  pid?: number;
  hostname?: string;
  now?: () => Date;
  /** Whether a process of this host is alive; `kill(pid, 0)` by default. */
  isAlive?: (pid: number) => boolean;
  /** Called when a lock left by a dead process is taken over. */
  onStale?: (holder: LockHolder) => void;
  /** Tests only: runs between finding a stale lock and taking it over, to interleave a rival. */
  beforeTakeover?: (holder: LockHolder) => void;
}

export const LOCK_FILE_NAME = 'pglite.lock';

/** Lock files held by this process, so that a lock naming our own pid is told apart from a
 * stale one left by an earlier process that had the same pid (a restarted container). */
const heldHere = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): LockHolder | undefined | 'missing' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const data = JSON.parse(text) as Partial<LockHolder>;
    if (
      Number.isSafeInteger(data.pid) &&
      typeof data.hostname === 'string' &&
      typeof data.startedAt === 'string'
    ) {
      return data as LockHolder;
    }
  } catch {}
  return undefined;
}

/** Writes `content` to a private file and links it to `target`: the target appears complete
 * or not at all, and `link` fails with EEXIST when the target exists (an O_EXCL create). */
function createExclusive(target: string, content: string, pid: number): boolean {
  const temp = `${target}.${pid}.${process.hrtime.bigint()}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(temp);
  }
}

/** Blocks this thread briefly between attempts (a start-up path, nothing else runs yet). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.hostname === b.hostname && a.startedAt === b.startedAt;
}

/**
 * Takes the exclusive lock of a data directory: `<dir>/pglite.lock` holding
 * `{ pid, hostname, startedAt }`, created atomically. A lock whose process is gone (same host,
 * pid not alive) is stale and taken over; a live one, one from another host or an unreadable
 * one makes this throw {@link DataDirLockedError}.
 *
 * Taking over: under a short-lived `<lock>.takeover` file (itself created exclusively), the
 * lock is read again and deleted only if it still names the dead process; then the lock is
 * created exclusively as usual. Two processes starting together therefore cannot both win.
 */
export function acquireDataDirLock(dir: string, options: LockOptions = {}): DataDirLock {
  const pid = options.pid ?? process.pid;
  const host = options.hostname ?? osHostname();
  const isAlive = options.isAlive ?? processAlive;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE_NAME);
  const takeover = `${file}.takeover`;
  const me: LockHolder = {
    pid,
    hostname: host,
    startedAt: (options.now?.() ?? new Date()).toISOString(),
  };
  const held = (holder: LockHolder) =>
    holder.hostname === host && holder.pid === pid && heldHere.has(file);
  const dead = (holder: LockHolder) =>
    holder.hostname === host && !held(holder) && (holder.pid === pid || !isAlive(holder.pid));

  for (let attempt = 0; attempt < 20; attempt++) {
    if (createExclusive(file, `${JSON.stringify(me)}\n`, pid)) {
      heldHere.add(file);
      const release = () => {
        process.off('exit', release);
        if (!heldHere.delete(file)) return;
        const current = readHolder(file);
        if (typeof current === 'object' && sameHolder(current, me)) unlinkSync(file);
      };
      process.on('exit', release);
      return { file, release };
    }
    const holder = readHolder(file);
    if (holder === 'missing') {
      pause(5 + attempt); // released meanwhile: try again
      continue;
    }
    if (holder === undefined) {
      throw new DataDirLockedError(dir, file, undefined, `(its lock file ${file} is unreadable)`);
    }
    if (!dead(holder)) {
      const where = holder.hostname === host ? '' : ` on host ${holder.hostname}`;
      throw new DataDirLockedError(
        dir,
        file,
        holder,
        `by another process: pid ${holder.pid}${where}, started at ${holder.startedAt}`,
      );
    }
    // A stale lock: delete it under the takeover file, only if it is still the same one.
    options.beforeTakeover?.(holder);
    const takeoverHolder = readHolder(takeover);
    if (typeof takeoverHolder === 'object' && dead(takeoverHolder)) {
      // Its owner died within the few microseconds it holds the file.
      try {
        unlinkSync(takeover);
      } catch {}
    }
    if (!createExclusive(takeover, JSON.stringify(me), pid)) {
      pause(5 + attempt); // another process is taking over: see what it leaves
      continue;
    }
    try {
      const again = readHolder(file);
      if (typeof again === 'object' && sameHolder(again, holder)) {
        unlinkSync(file);
        options.onStale?.(holder);
      }
    } finally {
      unlinkSync(takeover);
    }
  }
  throw new DataDirLockedError(dir, file, undefined, '(its lock kept changing while starting)');
}
