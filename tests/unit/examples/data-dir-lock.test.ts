import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireDataDirLock,
  DataDirLockedError,
  LOCK_FILE_NAME,
} from '../../../examples/common/data-dir-lock.js';

// Processes are simulated by their pid and host; `isAlive` says which pids still run.
const HOST = 'host-a';
const DEAD = 999;
const isAlive = (pid: number) => pid !== DEAD;
const as = (pid: number, hostname = HOST) => ({ pid, hostname, isAlive });

describe('the exclusive lock of a DATA_DIR', () => {
  let dir: string;
  const lockFile = () => join(dir, LOCK_FILE_NAME);
  const holder = () => JSON.parse(readFileSync(lockFile(), 'utf8'));
  const writeLock = (pid: number, hostname = HOST) =>
    writeFileSync(lockFile(), JSON.stringify({ pid, hostname, startedAt: '2026-01-01T00:00:00Z' }));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a second process asking for a locked directory is refused with the directory and the holder pid', () => {
    const first = acquireDataDirLock(dir, as(1001));
    expect(holder()).toMatchObject({ pid: 1001, hostname: HOST });
    expect(() => acquireDataDirLock(dir, as(1002))).toThrow(DataDirLockedError);
    expect(() => acquireDataDirLock(dir, as(1002))).toThrow(`DATA_DIR ${dir} is in use`);
    expect(() => acquireDataDirLock(dir, as(1002))).toThrow('pid 1001');
    first.release();
    acquireDataDirLock(dir, as(1002)).release();
  });

  it('opening the same directory twice in one process is refused too', () => {
    const lock = acquireDataDirLock(dir);
    try {
      expect(() => acquireDataDirLock(dir)).toThrow(`pid ${process.pid}`);
    } finally {
      lock.release();
    }
  });

  it('a stale lock (its pid is gone on this host) is taken over and reported', () => {
    writeLock(DEAD);
    const stale: number[] = [];
    const lock = acquireDataDirLock(dir, { ...as(1001), onStale: (h) => stale.push(h.pid) });
    expect(stale).toEqual([DEAD]);
    expect(holder()).toMatchObject({ pid: 1001 });
    lock.release();
  });

  it('a stale lock naming our own pid (a restarted container reuses pids) is taken over', () => {
    writeLock(process.pid, hostname());
    const lock = acquireDataDirLock(dir);
    expect(holder()).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('two processes taking over one stale lock: the one overtaken while taking over does not delete the winner lock and is refused', () => {
    writeLock(DEAD);
    let winner: ReturnType<typeof acquireDataDirLock> | undefined;
    // Process 1001 has judged the lock stale; before it acts, process 1002 takes it over.
    const attempt = () =>
      acquireDataDirLock(dir, {
        ...as(1001),
        beforeTakeover: () => {
          winner ??= acquireDataDirLock(dir, as(1002));
        },
      });
    expect(attempt).toThrow('pid 1002');
    expect(holder()).toMatchObject({ pid: 1002 });
    winner!.release();
  });

  it('a process that finds another one in the middle of a takeover does not take over too', () => {
    writeLock(DEAD);
    let rival: unknown;
    const lock = acquireDataDirLock(dir, {
      ...as(1001),
      beforeTakeover: () => {
        // 1001 is about to take over; 1002 arrives while 1001 holds the takeover file.
        writeFileSync(`${lockFile()}.takeover`, JSON.stringify({ pid: 1001, hostname: HOST }));
        try {
          acquireDataDirLock(dir, as(1002));
        } catch (err) {
          rival = err;
        }
        rmSync(`${lockFile()}.takeover`);
      },
    });
    expect(rival).toBeInstanceOf(DataDirLockedError);
    expect(holder()).toMatchObject({ pid: 1001 });
    lock.release();
  });

  it('a lock from another host is never taken over (its pid cannot be checked from here)', () => {
    writeLock(DEAD, 'host-b');
    expect(() => acquireDataDirLock(dir, as(1001))).toThrow('pid 999 on host host-b');
  });

  it('an unreadable lock file is refused, naming the file to delete', () => {
    writeFileSync(lockFile(), 'garbage');
    expect(() => acquireDataDirLock(dir, as(1001))).toThrow(`delete ${lockFile()}`);
  });

  it('release deletes only our own lock, once', () => {
    const lock = acquireDataDirLock(dir, as(1001));
    lock.release();
    writeLock(1002);
    lock.release();
    expect(holder()).toMatchObject({ pid: 1002 });
  });
});
