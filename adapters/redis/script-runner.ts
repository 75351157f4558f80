import { createHash } from 'node:crypto';
import { OutageLog, resolveOutageLogOptions } from '../../src/http/outage-log.js';
import { commandsOf, type RedisClient, type RedisCommands } from './client.js';
import type { ResolvedRedisOptions } from './options.js';
import {
  isNoScript,
  isRedisUnavailable,
  RedisTimeoutError,
  toRedisServerError,
} from './redis-error.js';

/** A Lua script and its SHA-1, the name Redis caches it under. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source, 'utf8').digest('hex') };
}

const REDIS_MESSAGES = {
  unavailable: 'redis unavailable',
  stillUnavailable: 'redis still unavailable',
  back: 'redis is back',
};

/**
 * Runs the stores' scripts on one client: EVALSHA, and EVAL (which runs the script and caches
 * it again on that node) when Redis answers NOSCRIPT after a restart, a failover or SCRIPT
 * FLUSH. Each call touches exactly one key, declared in KEYS, so a Cluster routes it by slot.
 * A call gets no answer for longer than `commandTimeoutMs`; any failure becomes SERVER_ERROR
 * (503 when Redis is unavailable) and, with a logger, feeds the outage log.
 */
export class ScriptRunner {
  readonly #commands: RedisCommands;
  readonly #timeoutMs: number;
  readonly #log: OutageLog | undefined;

  constructor(client: RedisClient, options: ResolvedRedisOptions, owner: string) {
    this.#commands = commandsOf(client, owner);
    this.#timeoutMs = options.commandTimeoutMs;
    this.#log =
      options.logger === undefined
        ? undefined
        : new OutageLog(
            resolveOutageLogOptions({ ...options.outageLog, logger: options.logger }, owner),
            REDIS_MESSAGES,
            'success',
          );
  }

  async run(script: LuaScript, key: string, args: readonly (string | number)[]): Promise<unknown> {
    const tail = ['1', key, ...args.map(String)];
    try {
      const reply = await this.#withDeadline(async (signal) => {
        try {
          return await this.#commands.send(['EVALSHA', script.sha, ...tail], key, signal);
        } catch (err) {
          if (!isNoScript(err)) throw err;
          return await this.#commands.send(['EVAL', script.source, ...tail], key, signal);
        }
      });
      this.#log?.succeeded();
      return reply;
    } catch (err) {
      // Any answer from the server, even an error, means it is reachable.
      if (isRedisUnavailable(err)) this.#log?.failed(err);
      else this.#log?.succeeded();
      throw toRedisServerError(err);
    }
  }

  /** Runs `work`, or fails with RedisTimeoutError after the timeout (aborting what it can). */
  #withDeadline<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new RedisTimeoutError(this.#timeoutMs));
        controller.abort();
      }, this.#timeoutMs);
      // A reply arriving after the deadline settles nothing (the promise has rejected).
      work(controller.signal).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }
}

const sharedRunners = new WeakMap<object, ScriptRunner>();

/**
 * A stand-in client for {@link runnerFor}: {@link createRedisStores} builds one runner (one
 * outage log for both stores) and passes this to each store's constructor.
 */
export function standInFor(runner: ScriptRunner): RedisClient {
  const standIn = Object.freeze({}) as unknown as RedisClient;
  sharedRunners.set(standIn, runner);
  return standIn;
}

/** The runner of a store: the shared one behind a stand-in, or a new one on the client. */
export function runnerFor(
  client: RedisClient,
  options: ResolvedRedisOptions,
  owner: string,
): ScriptRunner {
  return (
    (typeof client === 'object' && client !== null ? sharedRunners.get(client) : undefined) ??
    new ScriptRunner(client, options, owner)
  );
}
