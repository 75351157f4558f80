// What both example servers set on Node's HTTP server: timeouts that end slow clients in bounded
// time, and the contract's error body for the errors Node raises before any route runs.
import type {
  IncomingMessage,
  RequestListener,
  Server,
  ServerOptions,
  ServerResponse,
} from 'node:http';
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { AuthError, clientErrorResponse, expectationFailedResponse } from 'gatehouse';
import type { ExampleConfig } from './env.js';

/** The timeouts of an example server, in milliseconds (env HTTP_*_TIMEOUT, docs/configuration.md). */
export interface ServerTimeouts {
  /** Time to receive the whole request head; then 408 and the connection is closed. */
  headersTimeout: number;
  /** Time to receive the whole request, head and body; then 408 and the connection is closed. */
  requestTimeout: number;
  /** Time an idle keep-alive connection stays open between two requests. */
  keepAliveTimeout: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
};

export function timeoutsOf(config: ExampleConfig): ServerTimeouts {
  return {
    headersTimeout: config.HTTP_HEADERS_TIMEOUT,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT,
  };
}

/**
 * Options of `http.createServer`: Node checks the header and request timeouts of open
 * connections every `connectionsCheckingInterval` (30 s by default, far too coarse for a 10 s
 * limit), so it is tied to the shortest timeout here.
 */
export function nodeServerOptions(timeouts: ServerTimeouts): ServerOptions {
  const shortest = Math.min(timeouts.headersTimeout, timeouts.requestTimeout);
  return {
    headersTimeout: timeouts.headersTimeout,
    requestTimeout: timeouts.requestTimeout,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(shortest / 4))),
    // Node's own check answers 400 with an empty body; the apps refuse with the contract's body
    // instead (refuseMissingHost).
    requireHostHeader: false,
  };
}

/**
 * An HTTP/1.1 request must carry `Host` (RFC 9112 section 3.2): without one it is answered 400
 * VALIDATION_ERROR (`details.field: 'host'`) by the app's error handler, as Node would, but with
 * the contract's body (found by the reliability fuzz).
 */
export function refuseMissingHost(req: IncomingMessage): void {
  if (req.httpVersion === '1.1' && req.headers.host === undefined) {
    throw new AuthError('VALIDATION_ERROR', 'The Host header is required.', {
      details: { field: 'host' },
    });
  }
}

/**
 * Answers an error of Node's `clientError` event (a malformed request line, an unknown method,
 * headers over 16 KiB, a timeout) with the contract's JSON body, when the socket can still take
 * it: not reset by the client, writable, and no response started on it. The socket is closed
 * either way.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage
    ?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || started) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorResponse(err), () => socket.destroy());
  // A peer that never reads the response must not keep the socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Answers `Expect:` values other than `100-continue` with the contract's 417 body. */
export function answerUnsupportedExpectation(_req: IncomingMessage, res: ServerResponse): void {
  const { status, headers, body } = expectationFailedResponse();
  res.writeHead(status, headers).end(body);
}

/** The Node server of the Express example: timeouts set, errors below the routes answered. */
export function createExampleServer(listener: RequestListener, timeouts: ServerTimeouts): Server {
  const server = createServer(nodeServerOptions(timeouts), listener);
  server.keepAliveTimeout = timeouts.keepAliveTimeout;
  server.on('clientError', answerClientError);
  server.on('checkExpectation', answerUnsupportedExpectation);
  return server;
}
