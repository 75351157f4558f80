import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../examples/common/env.js';
import { nodeServerOptions, timeoutsOf } from '../../../examples/common/http-server.js';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted a bad environment');
}

describe('example server timeouts from the environment', () => {
  it('defaults to 10 s for the request head, 30 s for the whole request, 5 s keep-alive', () => {
    expect(timeoutsOf(loadConfig({}))).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
    });
  });

  it('reads HTTP_HEADERS_TIMEOUT, HTTP_REQUEST_TIMEOUT and HTTP_KEEP_ALIVE_TIMEOUT as durations', () => {
    const config = loadConfig({
      HTTP_HEADERS_TIMEOUT: '2s',
      HTTP_REQUEST_TIMEOUT: '1m',
      HTTP_KEEP_ALIVE_TIMEOUT: '500ms',
    });
    expect(timeoutsOf(config)).toEqual({
      headersTimeout: 2000,
      requestTimeout: 60_000,
      keepAliveTimeout: 500,
    });
  });

  it.each([
    [
      { HTTP_REQUEST_TIMEOUT: 'forever' },
      /HTTP_REQUEST_TIMEOUT: must be a duration from "100ms" to "1h"/,
    ],
    [{ HTTP_HEADERS_TIMEOUT: '0ms' }, /HTTP_HEADERS_TIMEOUT: must be a duration/],
    [{ HTTP_KEEP_ALIVE_TIMEOUT: '2h' }, /HTTP_KEEP_ALIVE_TIMEOUT: must be a duration/],
    [{ HTTP_REQUEST_TIMEOUT: '99999999999999999999d' }, /HTTP_REQUEST_TIMEOUT: must be a duration/],
    [
      { HTTP_HEADERS_TIMEOUT: '20s', HTTP_REQUEST_TIMEOUT: '10s' },
      /HTTP_HEADERS_TIMEOUT: must not be longer than HTTP_REQUEST_TIMEOUT/,
    ],
  ])('refuses a timeout that is not bounded or contradicts another: %j', (env, message) => {
    expect(configError(env)).toMatch(message);
  });

  it('checks open connections often enough for the timeouts to hold (Node checks every 30 s by default)', () => {
    const options = nodeServerOptions(timeoutsOf(loadConfig({})));
    expect(options).toMatchObject({ headersTimeout: 10_000, requestTimeout: 30_000 });
    expect(options.connectionsCheckingInterval).toBe(1000);
    const fast = nodeServerOptions({
      headersTimeout: 200,
      requestTimeout: 400,
      keepAliveTimeout: 100,
    });
    expect(fast.connectionsCheckingInterval).toBe(50);
  });
});
