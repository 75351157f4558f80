// The HTTP side of the load and fault checks: one keep-alive agent per client address (a distinct
// 127.x.y.z source address, which the app sees as the client IP: no X-Forwarded-For), every
// request bounded in time, every answer recorded with its route, status and latency.
import { Agent, request as httpRequest } from 'node:http';

/** One answer (or a transport failure: status 0 and `error`). */
export interface Answer {
  route: string;
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: whatever JSON the app answered
  body: any;
  /** The raw body text (a failure report quotes it). */
  text: string;
  headers: Record<string, string | string[] | undefined>;
  sentAt: number;
  receivedAt: number;
  ms: number;
  error?: string;
}

/** Latencies and statuses per route, shared by every client of one run. */
export class Stats {
  readonly latencies = new Map<string, number[]>();
  readonly statuses = new Map<string, Map<number, number>>();
  readonly answers: Answer[] = [];
  count = 0;
  /** Requests sent and not yet answered. */
  inFlight = 0;
  #samples = 0;
  #sampleSum = 0;
  #timer: NodeJS.Timeout | null = null;

  /** Samples `inFlight` every 100 ms until {@link stopSampling}. */
  startSampling(): void {
    this.#timer = setInterval(() => {
      this.#samples++;
      this.#sampleSum += this.inFlight;
    }, 100);
  }

  /** The mean of the samples of `inFlight`. */
  stopSampling(): number {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    return this.#samples === 0 ? 0 : this.#sampleSum / this.#samples;
  }

  constructor(readonly keepAnswers = false) {}

  record(answer: Answer): void {
    this.count++;
    if (this.keepAnswers) this.answers.push(answer);
    const list = this.latencies.get(answer.route) ?? [];
    this.latencies.set(answer.route, list);
    list.push(answer.ms);
    const statuses = this.statuses.get(answer.route) ?? new Map<number, number>();
    this.statuses.set(answer.route, statuses);
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
  }

  /** How many answers had a status in [from, to]. */
  countStatus(from: number, to: number): number {
    let n = 0;
    for (const statuses of this.statuses.values()) {
      for (const [status, count] of statuses) if (status >= from && status <= to) n += count;
    }
    return n;
  }

  all(): number[] {
    return [...this.latencies.values()].flat();
  }
}

/** The q-quantile (0..1) of some latencies, in ms (0 for none). */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

// Generous: on a busy 2-core machine a login (bcrypt) can wait seconds for a thread.
const REQUEST_TIMEOUT_MS = 30_000;

/** A client at one source address: its own keep-alive connections to the app. */
export class Client {
  readonly agent: Agent;

  constructor(
    readonly ip: string,
    readonly baseUrl: string,
    readonly stats: Stats,
    maxSockets = 2,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, localAddress: ip });
  }

  /** Sends one JSON request; never throws (a transport failure is status 0). */
  send(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; route?: string } = {},
  ): Promise<Answer> {
    const route = options.route ?? `${method} ${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const sentAt = Date.now();
    const started = performance.now();
    this.stats.inFlight++;
    return new Promise<Answer>((resolve) => {
      let done = false;
      const finish = (answer: Omit<Answer, 'route' | 'sentAt' | 'receivedAt' | 'ms'>) => {
        if (done) return;
        done = true;
        this.stats.inFlight--;
        clearTimeout(timer);
        const full: Answer = {
          route,
          sentAt,
          receivedAt: Date.now(),
          ms: performance.now() - started,
          ...answer,
        };
        this.stats.record(full);
        resolve(full);
      };
      const req = httpRequest(
        new URL(path, this.baseUrl),
        { method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (err) =>
            finish({ status: 0, body: null, text: '', headers: {}, error: err.message }),
          );
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = null;
            try {
              body = JSON.parse(text);
            } catch {
              body = null;
            }
            finish({ status: res.statusCode ?? 0, body, text, headers: res.headers });
          });
        },
      );
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      req.on('error', (err) =>
        finish({ status: 0, body: null, text: '', headers: {}, error: err.message }),
      );
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Client addresses: 127.<a>.<b>.<c>, each used by one client only. */
export function address(a: number, b: number, c: number): string {
  return `127.${a}.${b}.${c}`;
}
