// One round of load on one server: autocannon (in this process) with keep-alive connections,
// the Authorization header either one warm token or the next token of a pool on every request.
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  path: string;
  connections: number;
  /** Seconds. */
  duration: number;
  /** No token (bare servers), one token on every request, or a rotating pool. */
  tokens: TokenFeed;
}

export type TokenFeed =
  | { mode: 'none' }
  | { mode: 'warm'; token: string }
  | { mode: 'fresh'; pool: TokenPool };

/**
 * A pool of tokens handed out in turn, shared by every connection: request n carries token
 * n mod size, so a token comes back only after `size` requests (more than the server's cache
 * holds, so the LRU cache has dropped it).
 */
export class TokenPool {
  #next = 0;
  constructor(readonly tokens: readonly string[]) {
    if (tokens.length === 0) throw new Error('an empty token pool');
  }
  get size(): number {
    return this.tokens.length;
  }
  take(): string {
    const token = this.tokens[this.#next]!;
    this.#next = (this.#next + 1) % this.tokens.length;
    return token;
  }
}

export interface RoundResult {
  /** 2xx responses per second. */
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  /** Responses other than 2xx, connection errors and timeouts: any of them voids the round. */
  non2xx: number;
  errors: number;
  timeouts: number;
  total: number;
}

export async function loadRound(options: LoadOptions): Promise<RoundResult> {
  const { tokens } = options;
  const request: autocannon.Request = { method: 'GET', path: options.path };
  if (tokens.mode === 'fresh') {
    const pool = tokens.pool;
    request.setupRequest = (req) => {
      req.headers = { ...req.headers, authorization: `Bearer ${pool.take()}` };
      return req;
    };
  }
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.duration,
    ...(tokens.mode === 'warm' ? { headers: { authorization: `Bearer ${tokens.token}` } } : {}),
    requests: [request],
  });
  const ok = result['2xx'];
  return {
    rps: result.duration > 0 ? ok / result.duration : Number.NaN,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    total: result.requests.total,
  };
}

/** Why a round's figures cannot be trusted, or null. */
export function roundProblem(result: RoundResult): string | null {
  const problems: string[] = [];
  if (result.non2xx > 0) problems.push(`${result.non2xx} non-2xx responses`);
  if (result.errors > 0) problems.push(`${result.errors} connection errors`);
  if (result.timeouts > 0) problems.push(`${result.timeouts} timeouts`);
  if (!(result.rps > 0)) problems.push('no 2xx responses');
  return problems.length > 0 ? problems.join(', ') : null;
}
