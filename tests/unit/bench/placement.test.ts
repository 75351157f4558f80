// Where the HTTP benchmark's processes run and what it reads of them: each server pinned to one
// CPU and autocannon to another (taskset), and the server's CPU time per request from /proc.
// Real processes and the real /proc: these are the parts that make the figures trustworthy.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CASES, cpuFigureName, cpuPerRequest, cpuRatios, TARGETS } from '../../bench/http.js';
import {
  cpuSecondsOf,
  parseCpuList,
  placement,
  startServer,
  withLoadPinned,
} from '../../bench/processes.js';
import { figureOf } from '../../bench/report.js';

/** The CPUs a process may run on, from /proc/<pid>/status. */
function allowedCpus(pid: number): number[] {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return parseCpuList(/^Cpus_allowed_list:\s*(\S+)$/m.exec(status)![1]!);
}

describe('CPU placement', () => {
  it('parses the CPU lists taskset prints (0,1 / 0-3 / 0-1,4) and returns nothing for garbage', () => {
    expect(parseCpuList('0,1')).toEqual([0, 1]);
    expect(parseCpuList('0-3')).toEqual([0, 1, 2, 3]);
    expect(parseCpuList('0-1,4\n')).toEqual([0, 1, 4]);
    expect(parseCpuList('a-b')).toEqual([]);
  });

  it('says whether it pins and why not, and never pins the server and the load to one CPU', () => {
    const where = placement();
    expect(where.description.length).toBeGreaterThan(0);
    if (where.pinned) {
      expect(where.serverCpu).not.toBe(where.loadCpu);
      expect(where.description).toContain('taskset');
    } else {
      expect(where.description).toMatch(/^no CPU pinning \(.+\)/);
    }
  });

  it('a bench server process runs on the server CPU only (it never shares a CPU with autocannon)', async () => {
    const where = placement();
    const server = await startServer({ framework: 'fastify', variant: 'bare' });
    try {
      const cpus = allowedCpus(server.pid);
      if (where.pinned) expect(cpus).toEqual([where.serverCpu]);
      else expect(cpus).toEqual(allowedCpus(process.pid));
      // It is the server itself (taskset exec'd node in place): it answers, and its CPU time reads.
      expect((await fetch(server.url)).status).toBe(200);
      expect(cpuSecondsOf(server.pid)).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
  });

  it("pins the bench process to the load CPU while it loads, then gives its CPU list back (later suites' children would inherit it)", async () => {
    const where = placement();
    const before = allowedCpus(process.pid);
    const during = await withLoadPinned(async () => allowedCpus(process.pid));
    expect(during).toEqual(where.pinned ? [where.loadCpu] : before);
    expect(allowedCpus(process.pid)).toEqual(before);
  });

  it('gives the CPU list back when the load fails too', async () => {
    const before = allowedCpus(process.pid);
    await expect(
      withLoadPinned(async () => {
        throw new Error('autocannon failed');
      }),
    ).rejects.toThrow('autocannon failed');
    expect(allowedCpus(process.pid)).toEqual(before);
  });
});

describe('server CPU per request', () => {
  it("reads a process's CPU time from /proc: it grows while the process burns CPU", () => {
    const before = cpuSecondsOf(process.pid);
    const until = Date.now() + 60;
    let spin = 0;
    while (Date.now() < until) spin++;
    expect(spin).toBeGreaterThan(0);
    expect(cpuSecondsOf(process.pid)).toBeGreaterThan(before);
  });

  it('a process that is gone reads as NaN, not as 0 CPU (a free server would look infinitely fast)', () => {
    expect(cpuSecondsOf(2 ** 22 + 12345)).toBeNaN();
  });

  it('is microseconds of CPU over requests answered; NaN for a round without requests or without a reading', () => {
    expect(cpuPerRequest(2, 100_000)).toBe(20);
    expect(cpuPerRequest(2, 0)).toBeNaN();
    expect(cpuPerRequest(Number.NaN, 100_000)).toBeNaN();
    expect(cpuPerRequest(-0.01, 100_000)).toBeNaN();
  });

  it("every target has a CPU counterpart: the baseline's µs/request over the case's", () => {
    // gatehouse at 20 µs/request where bare Fastify takes 19: 0.95.
    const figures = CASES.map((c) =>
      figureOf(cpuFigureName(c.name), 'µs/req', [
        c.name === 'warm: Fastify gatehouse authenticate' ? 20 : 19,
      ]),
    );
    const ratios = cpuRatios(figures);
    expect(ratios.map((r) => r.name)).toEqual(TARGETS.map((t) => t.name));
    expect(ratios.find((r) => r.name === 'warm: Fastify authenticate / Fastify bare')?.value).toBe(
      0.95,
    );
    expect(cpuRatios([]).every((r) => Number.isNaN(r.value))).toBe(true);
  });
});
