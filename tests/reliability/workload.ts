// The mixed workload of the load and fault checks, and the ledger of what the app acknowledged
// (orders, registrations, refresh chains, failed logins, requests per address), which the checks
// then compare with the database. Every loop ends at a deadline; every request is bounded by the
// client's timeout.
import { randomBytes } from 'node:crypto';
import { type Answer, address, Client, type Stats } from './http-client.js';

/** The limits the example apps are started with (env), which the checks rely on. */
export const LIMITS = {
  /** AUTH_LOGIN_RATE_LIMIT: per client address, over a window longer than the run. */
  login: 12,
  /** AUTH_REGISTER_RATE_LIMIT. */
  register: 4,
  /** gatehouse's default refresh limit (not configurable by the example's env): 30 per minute. */
  refresh: 30,
  refreshWindowMs: 60_000,
  /** AUTH_LOCKOUT_THRESHOLD. */
  lockout: 5,
} as const;

/** The env of the example apps for the suite. */
export function appEnv(identifierKey: string): Record<string, string> {
  return {
    AUTH_LOGIN_RATE_LIMIT: `${LIMITS.login}/1h`,
    AUTH_REGISTER_RATE_LIMIT: `${LIMITS.register}/1h`,
    AUTH_LOCKOUT_THRESHOLD: String(LIMITS.lockout),
    AUTH_LOCKOUT_DURATION: '1h',
    AUTH_IDENTIFIER_KEY: identifierKey,
    JWT_SECRET: randomBytes(32).toString('hex'),
    BCRYPT_COST: '10',
    HTTP_HEADERS_TIMEOUT: '3s',
    HTTP_REQUEST_TIMEOUT: '6s',
    HTTP_KEEP_ALIVE_TIMEOUT: '5s',
  };
}

export const GENERIC_SERVER_ERROR = {
  success: false,
  error: "We're experiencing technical difficulties. Please try again in a few moments.",
  code: 'SERVER_ERROR',
};

/** True when an answer is the contract's 503 with the generic body and nothing else. */
export function isGeneric503(answer: Answer): boolean {
  const body = answer.body as Record<string, unknown> | null;
  return (
    answer.status === 503 &&
    body !== null &&
    typeof body === 'object' &&
    Object.keys(body).length === 3 &&
    body.success === GENERIC_SERVER_ERROR.success &&
    body.error === GENERIC_SERVER_ERROR.error &&
    body.code === GENERIC_SERVER_ERROR.code
  );
}

export interface Chain {
  email: string;
  userId: string;
  access: string;
  refresh: string;
  state: 'live' | 'loggedOut';
}

export interface AttackRecord {
  email: string;
  sent: number;
  n401: number;
  n403: number;
  n429: number;
  /** Several requests at once (the burst): the lock may be taken by a refused reservation. */
  concurrent: boolean;
}

/** What the app acknowledged during one app's run, and what is owed to the database. */
export class Ledger {
  /** total -> order: `acked` got 201; otherwise the answer was lost (503, transport failure). */
  readonly orders = new Map<string, { userId: string; acked: boolean; id?: string }>();
  /** email -> user id, for every 201 of /register; `null` for an unanswered registration. */
  readonly users = new Map<string, string | null>();
  readonly chains: Chain[] = [];
  readonly attacks = new Map<string, AttackRecord>();
  /** `${route}:${ip}` -> requests sent, for the phases whose counters are checked. */
  readonly rate = new Map<string, number>();
  /** Answers a legitimate client did not expect (one line each, the first 20 kept). */
  readonly unexpected: string[] = [];
  unexpectedCount = 0;
  #nextTotal = 100_001;

  nextTotal(): string {
    const n = this.#nextTotal++;
    return `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;
  }

  countRate(route: 'login' | 'register' | 'refresh', ip: string): void {
    const key = `${route}:${ip}`;
    this.rate.set(key, (this.rate.get(key) ?? 0) + 1);
  }

  surprise(who: string, answer: Answer): void {
    this.unexpectedCount++;
    if (this.unexpected.length < 20) {
      this.unexpected.push(
        `${who}: ${answer.route} -> ${answer.status || answer.error} ${answer.text.slice(0, 160)}`,
      );
    }
  }
}

export function strongPassword(): string {
  return `Rel-${randomBytes(12).toString('base64url')}-pw`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PhaseOptions {
  baseUrl: string;
  stats: Stats;
  ledger: Ledger;
  /** The second byte of every client address of this phase (distinct per phase and app). */
  net: number;
  /** A tag in the emails, unique per phase. */
  tag: string;
  durationMs: number;
  users: number;
  attackers: number;
  spammers: number;
  /** Fire the concurrent burst on one account at this offset (ms), or never. */
  burstAtMs?: number;
  /** Count rate-limited requests per address in the ledger (not during an outage). */
  countRates: boolean;
  /** Outage mode: a 503 is an expected answer and the client retries later. */
  tolerate503: boolean;
  /** Extra actors: registrations and logins from fresh addresses (each write checked later). */
  churn?: boolean;
}

interface Session {
  client: Client;
  email: string;
  password: string;
  chain: Chain | null;
  logins: number;
  refreshes: number;
  firstRefreshAt: number;
}

/** Registers an account from its own client; returns the user id (or null, recorded as lost). */
async function register(
  o: PhaseOptions,
  client: Client,
  email: string,
  password: string,
): Promise<{ answer: Answer; id: string | null }> {
  if (o.countRates) o.ledger.countRate('register', client.ip);
  const answer = await client.send('POST', '/api/auth/register', {
    body: { email, password, name: 'Reliability User' },
  });
  if (answer.status === 201) {
    const id = String(answer.body?.user?.id);
    o.ledger.users.set(email, id);
    return { answer, id };
  }
  if (answer.status === 503 || answer.status === 0) o.ledger.users.set(email, null);
  return { answer, id: null };
}

async function login(o: PhaseOptions, s: Session): Promise<Answer> {
  if (o.countRates) o.ledger.countRate('login', s.client.ip);
  s.logins++;
  const answer = await s.client.send('POST', '/api/auth/login', {
    body: { email: s.email, password: s.password },
  });
  if (answer.status === 200) {
    s.chain = {
      email: s.email,
      userId: String(answer.body?.user?.id),
      access: answer.body.token,
      refresh: answer.body.refreshToken,
      state: 'live',
    };
    o.ledger.chains.push(s.chain);
  }
  return answer;
}

function expectStatus(o: PhaseOptions, who: string, answer: Answer, ...ok: number[]): boolean {
  if (ok.includes(answer.status)) return true;
  if (o.tolerate503 && answer.status === 503) return false;
  o.ledger.surprise(who, answer);
  return false;
}

/** A legitimate user: registers, logs in, then reads and writes until the deadline. */
async function userActor(o: PhaseOptions, i: number, deadline: number): Promise<void> {
  const client = new Client(address(o.net, 1, i + 1), o.baseUrl, o.stats);
  const s: Session = {
    client,
    email: `${o.tag}-user${i}@reliability.test`,
    password: strongPassword(),
    chain: null,
    logins: 0,
    refreshes: 0,
    firstRefreshAt: 0,
  };
  const who = `user ${i}`;
  try {
    const reg = await register(o, client, s.email, s.password);
    if (!expectStatus(o, who, reg.answer, 201)) return;
    while (s.chain === null && Date.now() < deadline && s.logins < LIMITS.login) {
      const answer = await login(o, s);
      if (!expectStatus(o, who, answer, 200)) await sleep(100);
    }
    while (Date.now() < deadline && s.chain !== null) {
      const chain: Chain = s.chain;
      const r = Math.random();
      if (r < 0.4) {
        const total = o.ledger.nextTotal();
        o.ledger.orders.set(total, { userId: chain.userId, acked: false });
        const answer = await client.send('POST', '/api/orders', {
          token: chain.access,
          body: { total },
        });
        if (expectStatus(o, who, answer, 201)) {
          o.ledger.orders.set(total, {
            userId: chain.userId,
            acked: true,
            id: answer.body?.order?.id,
          });
        } else if (answer.status !== 503 && answer.status !== 0) {
          o.ledger.orders.delete(total); // refused before any write
        }
      } else if (r < 0.58) {
        expectStatus(o, who, await client.send('GET', '/api/orders', { token: chain.access }), 200);
      } else if (r < 0.72) {
        expectStatus(
          o,
          who,
          await client.send('GET', '/api/auth/me', { token: chain.access }),
          200,
        );
      } else if (r < 0.8) {
        const route = 'GET /api/users/:id';
        expectStatus(
          o,
          who,
          await client.send('GET', `/api/users/${chain.userId}`, { token: chain.access, route }),
          200,
        );
      } else if (r < 0.985) {
        // Every refresh of this address inside one rate-limit window, well under its limit.
        const now = Date.now();
        if (s.firstRefreshAt === 0) s.firstRefreshAt = now;
        if (
          s.refreshes >= LIMITS.refresh - 5 ||
          now - s.firstRefreshAt > LIMITS.refreshWindowMs - 15_000
        ) {
          continue;
        }
        s.refreshes++;
        if (o.countRates) o.ledger.countRate('refresh', client.ip);
        const answer = await client.send('POST', '/api/auth/refresh', {
          body: { refreshToken: chain.refresh },
        });
        if (expectStatus(o, who, answer, 200)) {
          chain.access = answer.body.token;
          chain.refresh = answer.body.refreshToken;
        }
      } else if (!o.tolerate503 && s.logins < LIMITS.login - 1) {
        const answer = await client.send('POST', '/api/auth/logout', {
          token: chain.access,
          body: { refreshToken: chain.refresh },
        });
        if (!expectStatus(o, who, answer, 200)) continue;
        chain.state = 'loggedOut';
        s.chain = null;
        while (s.chain === null && Date.now() < deadline && s.logins < LIMITS.login) {
          const again = await login(o, s);
          if (!expectStatus(o, who, again, 200)) await sleep(100);
        }
      }
      if (o.tolerate503) await sleep(20);
    }
  } finally {
    client.close();
  }
}

/**
 * A wrong-password attacker at its own address: `count` logins on one identifier, one after the
 * other. The first LIMITS.login reach the app; the rest must be refused with 429.
 */
async function attackerActor(o: PhaseOptions, i: number, email: string, count: number) {
  const client = new Client(address(o.net, 2, i + 1), o.baseUrl, o.stats);
  const record: AttackRecord = { email, sent: 0, n401: 0, n403: 0, n429: 0, concurrent: false };
  o.ledger.attacks.set(email, record);
  try {
    // Bounded by its count (each request by the client's timeout), not by the phase's deadline:
    // every attack runs to its end, so the counters it implies are known.
    for (let k = 0; k < count; k++) {
      if (o.countRates) o.ledger.countRate('login', client.ip);
      record.sent++;
      const answer = await client.send('POST', '/api/auth/login', {
        body: { email, password: `wrong-${k}-${strongPassword()}` },
      });
      if (answer.status === 401 && answer.body?.code === 'INVALID_CREDENTIALS') record.n401++;
      else if (answer.status === 403 && answer.body?.code === 'ACCOUNT_LOCKED') record.n403++;
      else if (answer.status === 429 && answer.body?.code === 'RATE_LIMITED') record.n429++;
      else o.ledger.surprise(`attacker ${i}`, answer);
      await sleep(20);
    }
  } finally {
    client.close();
  }
}

/** Registers more accounts from one address than the register limit allows. */
async function spammerActor(o: PhaseOptions, i: number) {
  const client = new Client(address(o.net, 3, i + 1), o.baseUrl, o.stats);
  try {
    // Bounded by its count, like the attackers.
    for (let k = 0; k < LIMITS.register + 3; k++) {
      const { answer } = await register(
        o,
        client,
        `${o.tag}-spam${i}-${k}@reliability.test`,
        strongPassword(),
      );
      const expected = k < LIMITS.register ? 201 : 429;
      expectStatus(o, `spammer ${i}`, answer, expected);
      await sleep(300);
    }
  } finally {
    client.close();
  }
}

/** Registrations and logins from fresh addresses (one request per address), until the deadline. */
async function churnActor(o: PhaseOptions, deadline: number) {
  const accounts: { email: string; password: string }[] = [];
  for (let k = 0; Date.now() < deadline && k < 2000; k++) {
    const client = new Client(
      address(o.net, 10 + Math.floor(k / 250), (k % 250) + 1),
      o.baseUrl,
      o.stats,
    );
    try {
      if (k % 2 === 0 || accounts.length === 0) {
        const email = `${o.tag}-churn${k}@reliability.test`;
        const password = strongPassword();
        const { answer } = await register(o, client, email, password);
        if (expectStatus(o, 'churn', answer, 201)) accounts.push({ email, password });
      } else {
        const account = accounts[k % accounts.length]!;
        const s: Session = {
          client,
          ...account,
          chain: null,
          logins: 0,
          refreshes: 0,
          firstRefreshAt: 0,
        };
        expectStatus(o, 'churn', await login(o, s), 200);
      }
    } finally {
      client.close();
    }
    await sleep(o.tolerate503 ? 100 : 250);
  }
}

/**
 * The concurrent burst on one account: 30 wrong-password logins at once from 30 addresses
 * (exactly LIMITS.lockout may be checked, the rest locked out), and 30 orders at once with one
 * access token (each created once).
 */
async function burst(o: PhaseOptions, victim: string, owner: Chain) {
  const record: AttackRecord = {
    email: victim,
    sent: 0,
    n401: 0,
    n403: 0,
    n429: 0,
    concurrent: true,
  };
  o.ledger.attacks.set(victim, record);
  const clients = Array.from(
    { length: 30 },
    (_, k) => new Client(address(o.net, 4, k + 1), o.baseUrl, o.stats),
  );
  const orderClient = new Client(address(o.net, 5, 1), o.baseUrl, o.stats, 30);
  try {
    await Promise.all([
      ...clients.map(async (client) => {
        if (o.countRates) o.ledger.countRate('login', client.ip);
        record.sent++;
        const answer = await client.send('POST', '/api/auth/login', {
          body: { email: victim, password: strongPassword() },
          route: 'POST /api/auth/login (burst)',
        });
        if (answer.status === 401) record.n401++;
        else if (answer.status === 403 && answer.body?.code === 'ACCOUNT_LOCKED') record.n403++;
        else o.ledger.surprise('burst', answer);
      }),
      ...Array.from({ length: 30 }, async () => {
        const total = o.ledger.nextTotal();
        o.ledger.orders.set(total, { userId: owner.userId, acked: false });
        const answer = await orderClient.send('POST', '/api/orders', {
          token: owner.access,
          body: { total },
          route: 'POST /api/orders (burst)',
        });
        if (expectStatus(o, 'burst orders', answer, 201)) {
          o.ledger.orders.set(total, {
            userId: owner.userId,
            acked: true,
            id: answer.body?.order?.id,
          });
        }
      }),
    ]);
  } finally {
    for (const c of clients) c.close();
    orderClient.close();
  }
}

/** Runs one phase of the workload to its deadline. */
export async function runPhase(o: PhaseOptions): Promise<void> {
  // Victims and the burst owner, each registered from its own address.
  const setupClient = (k: number) => new Client(address(o.net, 6, k + 1), o.baseUrl, o.stats);
  const victims: string[] = [];
  let k = 0;
  for (let i = 0; i < o.attackers; i++) {
    const email = `${o.tag}-victim${i}@reliability.test`;
    // Every third attacker tries an address without an account: counted all the same.
    if (i % 3 !== 2) {
      const client = setupClient(k++);
      const { answer } = await register(o, client, email, strongPassword());
      client.close();
      if (answer.status !== 201) o.ledger.surprise('setup', answer);
    }
    victims.push(email);
  }
  let burstOwner: Chain | null = null;
  let burstVictim = '';
  if (o.burstAtMs !== undefined) {
    burstVictim = `${o.tag}-burstvictim@reliability.test`;
    const client = setupClient(k++);
    const v = await register(o, client, burstVictim, strongPassword());
    if (v.answer.status !== 201) o.ledger.surprise('setup', v.answer);
    client.close();
    const ownerClient = setupClient(k++);
    const s: Session = {
      client: ownerClient,
      email: `${o.tag}-burstowner@reliability.test`,
      password: strongPassword(),
      chain: null,
      logins: 0,
      refreshes: 0,
      firstRefreshAt: 0,
    };
    const r = await register(o, ownerClient, s.email, s.password);
    if (r.answer.status !== 201) o.ledger.surprise('setup', r.answer);
    const answer = await login(o, s);
    if (answer.status !== 200) o.ledger.surprise('setup', answer);
    burstOwner = s.chain;
    ownerClient.close();
  }

  const started = Date.now();
  const deadline = started + o.durationMs;
  // Attack sizes: below the lockout threshold, at it, past it, and past the login rate limit.
  const sizes = [3, LIMITS.lockout, 9, LIMITS.login + 4, LIMITS.login + 8, 7];
  const actors: Promise<void>[] = [];
  for (let i = 0; i < o.users; i++) actors.push(userActor(o, i, deadline));
  for (let i = 0; i < o.attackers; i++) {
    actors.push(attackerActor(o, i, victims[i]!, sizes[i % sizes.length]!));
  }
  for (let i = 0; i < o.spammers; i++) actors.push(spammerActor(o, i));
  if (o.churn) actors.push(churnActor(o, deadline));
  if (o.burstAtMs !== undefined && burstOwner) {
    const owner = burstOwner;
    actors.push(sleep(o.burstAtMs).then(() => burst(o, burstVictim, owner)));
  }
  await Promise.all(actors);
}
