// The fuzz part of the reliability suite: `count` generated requests against one running example
// app (contract routes and random paths, malformed and huge bodies, lying framing, garbage
// credentials, raw bytes), 16 in flight, reproducible from the printed seed. Every answer must be
// the contract's body, none a 5xx, none late; the process must stay up. A failing case is shrunk
// and printed with its seed and index.
import { ERROR_CODES } from 'gatehouse';
import { type Check, check } from './check.js';
import {
  caseBytes,
  describeCase,
  type FuzzCase,
  type FuzzContext,
  generateCase,
} from './fuzz-cases.js';
import { exchange, type RawExchange, type RawResponse, requestBytes } from './raw-http.js';

export interface FuzzOptions {
  app: 'express' | 'fastify';
  baseUrl: string;
  seed: number;
  /** Requests to send (at least 10 000 in the suite). */
  count: number;
  /** False once the app's process has exited. */
  alive(): boolean;
  /** The app's HTTP_HEADERS_TIMEOUT and HTTP_REQUEST_TIMEOUT, in milliseconds. */
  timeouts: { headersMs: number; requestMs: number };
}

/** Requests in flight at once. */
export const FUZZ_CONCURRENCY = 16;
/** The whole run stops after this long, whatever `count` says. */
const MAX_RUN_MS = 8 * 60_000;
/** Slack on top of the server's own timeouts for an answer or a close (a busy 2-core machine). */
const MARGIN_MS = 3000;
/** Re-runs spent shrinking one failure (a hang costs a deadline per try, so fewer). */
const SHRINK_TRIES = 60;
const SHRINK_TRIES_HANG = 6;
/** Source addresses the fuzz spreads over (127.201.x.y), so per-IP limits stay realistic. */
const SOURCES = 32;

export type FailureKind = 'crash' | '5xx' | 'contract' | 'hang';
export type Verdict = { kind: 'ok' } | { kind: FailureKind; why: string };

/** A status an error code may carry besides its registry status (docs/errors.md). */
const EXTRA_STATUSES: Record<string, number[]> = {
  VALIDATION_ERROR: [408, 417],
  PAYLOAD_TOO_LARGE: [431],
};
const PAGE_TYPES = ['text/html', 'text/css', 'text/javascript'];
const BCRYPT_HASH = /\$2[aby]\$\d\d\$/;
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Why a response is not the contract's answer, or null: an error is exactly
 * `{ success: false, error, code }` with a registry code and its status; a success is
 * `{ success: true, ... }` (or the JWKS `{ keys }`); a page is HTML, CSS or JavaScript answering
 * a GET; HEAD, 204 and 304 carry no body.
 */
export function contractProblem(res: RawResponse, method: string): string | null {
  if (res.status === 0) return 'not an HTTP/1.x status line';
  if (res.truncated) return `a ${res.status} whose body ended before its length`;
  if (res.status >= 300 && res.status < 400 && res.status !== 304) {
    return `a ${res.status} redirect to ${res.headers['location']?.[0] ?? '?'}`;
  }
  if (method === 'HEAD' || res.status === 204 || res.status === 304) return null;
  const type = (res.headers['content-type']?.[0] ?? '').toLowerCase();
  const snippet = JSON.stringify(res.body.subarray(0, 100).toString('latin1'));
  if (type.startsWith('application/json')) {
    let text: string;
    let body: unknown;
    try {
      text = utf8Strict.decode(res.body);
      body = JSON.parse(text);
    } catch {
      return `a ${res.status} labelled JSON that is not: ${snippet}`;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return `a ${res.status} whose JSON is not an object: ${snippet}`;
    }
    if (BCRYPT_HASH.test(text)) return `a ${res.status} holding a password hash`;
    const fields = body as Record<string, unknown>;
    if (res.status >= 400) {
      const keys = Object.keys(fields).sort().join(',');
      if (keys !== 'code,error,success')
        return `a ${res.status} error with fields ${keys}: ${snippet}`;
      const code = fields['code'];
      if (fields['success'] !== false) return `a ${res.status} error without success: false`;
      if (typeof fields['error'] !== 'string' || fields['error'] === '') {
        return `a ${res.status} error without a message: ${snippet}`;
      }
      if (typeof code !== 'string' || !(code in ERROR_CODES)) {
        return `a ${res.status} error with the unknown code ${String(code)}`;
      }
      const registry = ERROR_CODES[code as keyof typeof ERROR_CODES].status;
      if (res.status !== registry && !EXTRA_STATUSES[code]?.includes(res.status)) {
        return `${code} with status ${res.status} (the registry says ${registry})`;
      }
      return null;
    }
    if (fields['success'] === true) return null;
    if (Array.isArray(fields['keys']) && Object.keys(fields).length === 1) return null;
    return `a ${res.status} success without success: true: ${snippet}`;
  }
  if ((res.status === 200 || res.status === 206) && method === 'GET') {
    if (PAGE_TYPES.some((t) => type.startsWith(t))) return null;
  }
  return `a ${res.status} ${type || 'without a content type'} body: ${snippet}`;
}

/** The verdict on one exchange: a crash, a 5xx, an answer outside the contract, a hang, or ok. */
export function judge(c: FuzzCase, ex: RawExchange, deadlineMs: number): Verdict {
  if (ex.end === 'refused') return { kind: 'crash', why: 'connection refused' };
  for (const res of ex.responses) {
    if (res.status >= 500) {
      return {
        kind: '5xx',
        why: `${res.status} ${JSON.stringify(res.body.subarray(0, 100).toString('latin1'))}`,
      };
    }
  }
  for (const [i, res] of ex.responses.entries()) {
    const problem = contractProblem(res, c.methods[i] ?? 'GET');
    if (problem) return { kind: 'contract', why: problem };
  }
  if (ex.end === 'deadline') {
    return {
      kind: 'hang',
      why: `neither answered nor closed within ${deadlineMs} ms (${ex.responses.length} of ${c.expect} answers)`,
    };
  }
  if (ex.end === 'closed' && ex.leftover > 0) {
    return { kind: 'contract', why: `closed in the middle of a response (${ex.leftover} bytes)` };
  }
  return { kind: 'ok' };
}

interface Target {
  host: string;
  port: number;
  sources: (string | undefined)[];
  deadlineMs: number;
}

async function runCase(t: Target, c: FuzzCase): Promise<{ ex: RawExchange; verdict: Verdict }> {
  const ex = await exchange({
    host: t.host,
    port: t.port,
    localAddress: t.sources[c.source % t.sources.length],
    parts: caseBytes(c),
    methods: c.methods,
    expect: c.expect,
    deadlineMs: t.deadlineMs,
    halfClose: c.halfClose,
  });
  return { ex, verdict: judge(c, ex, t.deadlineMs) };
}

/** A JSON call over the same raw client (so it can choose its source address). */
async function call(
  t: Target,
  localAddress: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown> | null }> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const headers: [string, string][] = [
    ['Host', `${t.host}:${t.port}`],
    ['Connection', 'close'],
  ];
  if (token) headers.push(['Authorization', `Bearer ${token}`]);
  if (body !== undefined) {
    headers.push(
      ['Content-Type', 'application/json'],
      ['Content-Length', String(Buffer.byteLength(payload))],
    );
  }
  const ex = await exchange({
    host: t.host,
    port: t.port,
    localAddress,
    parts: [requestBytes(method, path, 'HTTP/1.1', headers, Buffer.from(payload))],
    methods: [method],
    expect: 1,
    deadlineMs: 15_000,
  });
  const res = ex.responses[0];
  if (!res) return { status: 0, json: null };
  try {
    return { status: res.status, json: JSON.parse(res.body.toString('utf8')) };
  } catch {
    return { status: res.status, json: null };
  }
}

interface Account {
  email: string;
  password: string;
  userId: string;
  token: string;
}

async function createAccount(t: Target, tag: string, source: string | undefined): Promise<Account> {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  const email = `${tag}-${suffix}@example.com`;
  const password = `quartz meadow ${suffix} harbor`;
  const reg = await call(t, source, 'POST', '/api/auth/register', { email, password, name: tag });
  if (reg.status !== 201)
    throw new Error(`register ${tag}: ${reg.status} ${JSON.stringify(reg.json)}`);
  const login = await call(t, source, 'POST', '/api/auth/login', { email, password });
  if (login.status !== 200)
    throw new Error(`login ${tag}: ${login.status} ${JSON.stringify(login.json)}`);
  const user = login.json?.['user'] as { id: string };
  return { email, password, userId: user.id, token: String(login.json?.['token']) };
}

/** The 127.201.x.y source addresses, or none where the system cannot bind them. */
async function usableSources(host: string, port: number): Promise<(string | undefined)[]> {
  const all = Array.from(
    { length: SOURCES },
    (_, i) => `127.201.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  );
  const probe = await exchange({
    host,
    port,
    localAddress: all[0],
    parts: [
      Buffer.from(
        `GET /.well-known/jwks.json HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    ],
    methods: ['GET'],
    expect: 1,
    deadlineMs: 10_000,
  });
  return probe.responses.length > 0 ? all : [undefined];
}

function normalize(c: FuzzCase): FuzzCase {
  if (c.kind === 'raw') return c;
  const leftover = c.body !== '' && (c.framing === 'short' || c.framing === 'none');
  return { ...c, methods: leftover ? [c.method, 'GET'] : [c.method], expect: leftover ? 2 : 1 };
}

/** Simpler variants of a case, most promising first. */
function* simpler(c: FuzzCase): Generator<FuzzCase> {
  if (c.split > 1) yield { ...c, split: 1 };
  if (c.halfClose) yield { ...c, halfClose: false };
  if (c.kind === 'raw') {
    const text = c.raw.join('');
    if (c.raw.length > 1) yield { ...c, raw: [text] };
    const lines = text.split('\r\n');
    for (let i = lines.length - 1; i >= 1; i--) {
      if (lines[i] === '' && i >= lines.length - 2) continue;
      yield { ...c, raw: [[...lines.slice(0, i), ...lines.slice(i + 1)].join('\r\n')] };
    }
    if (text.length > 8) yield { ...c, raw: [text.slice(0, Math.ceil(text.length / 2))] };
    return;
  }
  if (c.framing !== 'length' && c.body !== '') yield normalize({ ...c, framing: 'length' });
  const host = c.headers.filter(([n]) => n.toLowerCase() === 'host');
  if (host.length < c.headers.length) yield { ...c, headers: host };
  for (let i = c.headers.length - 1; i >= 0; i--) {
    yield { ...c, headers: c.headers.filter((_, j) => j !== i) };
  }
  if (c.body !== '') {
    yield normalize({ ...c, body: '', framing: c.framing === 'length' ? 'none' : c.framing });
    if (c.body.length > 16) yield { ...c, body: c.body.slice(0, Math.ceil(c.body.length / 2)) };
    if (c.body.length > 16) yield { ...c, body: c.body.slice(Math.floor(c.body.length / 2)) };
  }
  if (c.target.includes('?')) yield { ...c, target: c.target.slice(0, c.target.indexOf('?')) };
  if (c.version !== 'HTTP/1.1') yield { ...c, version: 'HTTP/1.1' };
}

async function shrink(
  t: Target,
  c: FuzzCase,
  kind: FailureKind,
  budget: number,
  alive: () => boolean,
): Promise<{ shrunk: FuzzCase; verdict: Verdict; tries: number }> {
  let best = c;
  let verdict: Verdict = { kind, why: '' };
  let tries = 0;
  let improved = true;
  while (improved && tries < budget && alive()) {
    improved = false;
    for (const candidate of simpler(best)) {
      if (tries >= budget || !alive()) break;
      tries++;
      const { verdict: v } = await runCase(t, candidate);
      if (v.kind === kind) {
        best = candidate;
        verdict = v;
        improved = true;
        break;
      }
    }
  }
  if (best === c) verdict = (await runCase(t, c)).verdict;
  return { shrunk: best, verdict, tries };
}

interface Failure {
  c: FuzzCase;
  why: string;
}

/**
 * Fuzzes one running example app and returns the checks: all requests sent, the process stayed
 * up, zero 5xx, every answer the contract's body, every request answered or closed in time, and
 * afterwards the app still logs in, reads and applies its policy as before (no prototype
 * pollution took hold).
 */
export async function runFuzz(opts: FuzzOptions): Promise<Check[]> {
  const name = (what: string) => `${opts.app}: fuzz: ${what}`;
  const url = new URL(opts.baseUrl);
  const host = url.hostname;
  const port = Number(url.port);
  const { headersMs, requestMs } = opts.timeouts;
  // Node checks the timeouts of open connections on an interval (examples/common/http-server.ts).
  const interval = Math.min(1000, Math.max(50, Math.floor(Math.min(headersMs, requestMs) / 4)));
  const deadlineMs = Math.max(headersMs, requestMs) + interval + MARGIN_MS;
  const target: Target = { host, port, sources: [undefined], deadlineMs };
  target.sources = await usableSources(host, port);
  const setupSource = (i: number) => (target.sources[0] ? `127.202.0.${i}` : undefined);

  let fuzzAccount: Account | undefined;
  let canaries: [Account, Account] | undefined;
  let setupError = '';
  try {
    fuzzAccount = await createAccount(target, 'fuzz', setupSource(1));
    canaries = [
      await createAccount(target, 'canary-a', setupSource(2)),
      await createAccount(target, 'canary-b', setupSource(3)),
    ];
  } catch (err) {
    setupError = (err as Error).message;
  }
  const ctx: FuzzContext = {
    host: `${host}:${port}`,
    token: fuzzAccount?.token,
    userId: fuzzAccount?.userId,
    sources: target.sources.length,
  };

  const started = Date.now();
  const statuses = new Map<string, number>();
  const failures: Record<FailureKind, Failure[]> = { crash: [], '5xx': [], contract: [], hang: [] };
  const failureCounts: Record<FailureKind, number> = { crash: 0, '5xx': 0, contract: 0, hang: 0 };
  // Distinct reasons per kind (the first words of each), so one line shows every kind of bug.
  const reasons: Record<FailureKind, Map<string, Failure[]>> = {
    crash: new Map(),
    '5xx': new Map(),
    contract: new Map(),
    hang: new Map(),
  };
  const inFlight = new Map<number, FuzzCase>();
  let next = 0;
  let done = 0;
  let raw = 0;
  let crashedWith: FuzzCase[] = [];

  const worker = async () => {
    while (next < opts.count && crashedWith.length === 0 && Date.now() - started < MAX_RUN_MS) {
      const c = generateCase(opts.seed, next++, ctx);
      inFlight.set(c.index, c);
      const { ex, verdict } = await runCase(target, c);
      inFlight.delete(c.index);
      if (!opts.alive() || verdict.kind === 'crash') {
        if (crashedWith.length === 0) crashedWith = [c, ...inFlight.values()];
        failureCounts.crash++;
        return;
      }
      done++;
      if (c.kind === 'raw') raw++;
      const key = ex.responses.length ? String(ex.responses[0]!.status) : ex.end;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (verdict.kind !== 'ok') {
        failureCounts[verdict.kind]++;
        if (failures[verdict.kind].length < 5) failures[verdict.kind].push({ c, why: verdict.why });
        const reason = verdict.why.replace(/:.*$/, '').slice(0, 60);
        const same = reasons[verdict.kind].get(reason) ?? [];
        if (same.length < 3) same.push({ c, why: verdict.why });
        reasons[verdict.kind].set(reason, same);
      }
    }
  };
  await Promise.all(Array.from({ length: FUZZ_CONCURRENCY }, worker));
  const elapsed = Date.now() - started;

  const top = [...statuses.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
  const checks: Check[] = [];
  checks.push(
    check(
      name(`${opts.count} generated requests sent (seed ${opts.seed})`),
      done >= opts.count && setupError === '',
      `${done} sent (${raw} raw) in ${(elapsed / 1000).toFixed(1)} s, ${Math.round(done / (elapsed / 1000))} req/s, ${FUZZ_CONCURRENCY} in flight, ${target.sources.length} source addresses; first answers: ${top}` +
        (setupError ? `; setup failed: ${setupError}` : ''),
    ),
  );
  checks.push(
    check(
      name('the process never exits'),
      crashedWith.length === 0 && opts.alive(),
      crashedWith.length
        ? `the app died (seed ${opts.seed}) with these cases in flight: ${crashedWith.map((c) => `case ${c.index} ${describeCase(c)}`).join(' | ')}`
        : `alive after ${done} requests`,
    ),
  );

  const report = async (kind: FailureKind, label: string) => {
    const list = failures[kind];
    if (list.length === 0)
      return check(
        name(label),
        crashedWith.length === 0,
        crashedWith.length ? 'not run to the end: the app died' : `0 of ${done}`,
      );
    const first = list[0]!;
    const kinds = [...reasons[kind].entries()]
      .map(([reason, cases]) => `"${reason}" (cases ${cases.map((f) => f.c.index).join(', ')})`)
      .join('; ');
    let detail = `${failureCounts[kind]} of ${done} cases (seed ${opts.seed}); reasons: ${kinds}; case ${first.c.index}: ${first.why}`;
    if (opts.alive()) {
      const budget = kind === 'hang' ? SHRINK_TRIES_HANG : SHRINK_TRIES;
      const { shrunk, verdict, tries } = await shrink(target, first.c, kind, budget, opts.alive);
      const now = verdict.kind === 'ok' ? 'no longer fails alone' : verdict.why;
      detail += `; shrunk in ${tries} tries to ${describeCase(shrunk)} -> ${now}`;
    }
    return check(name(label), false, detail);
  };
  checks.push(await report('5xx', 'zero 5xx'));
  checks.push(await report('contract', 'every answer is the contract body'));
  checks.push(
    await report('hang', `every request answered or closed within the timeouts + ${MARGIN_MS} ms`),
  );

  // Afterwards: logins work, the canaries are still plain users, and one may not read the other
  // (a polluted prototype would grant a role or a permission).
  if (canaries && opts.alive()) {
    const [a, b] = canaries;
    const login = await call(target, setupSource(4), 'POST', '/api/auth/login', {
      email: a.email,
      password: a.password,
    });
    const me = await call(target, setupSource(4), 'GET', '/api/auth/me', undefined, a.token);
    const other = await call(
      target,
      setupSource(4),
      'GET',
      `/api/users/${a.userId}`,
      undefined,
      b.token,
    );
    const role = (me.json?.['user'] as { role?: unknown } | undefined)?.role;
    const ok = login.status === 200 && me.status === 200 && role === 'user' && other.status === 403;
    checks.push(
      check(
        name('afterwards logins, roles and the policy are unchanged (no prototype pollution)'),
        ok,
        `login ${login.status}, me ${me.status} role ${String(role)}, reading another user ${other.status} ${String(other.json?.['code'])}`,
      ),
    );
  } else {
    checks.push(
      check(
        name('afterwards logins, roles and the policy are unchanged (no prototype pollution)'),
        false,
        canaries ? 'the app died' : `no canary accounts: ${setupError}`,
      ),
    );
  }
  return checks;
}
