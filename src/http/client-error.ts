import { AuthError } from '../errors.js';
import { silentLogger } from '../runtime.js';
import { errorResponse, type HttpResponse } from './response.js';

// Errors Node's HTTP server raises below any framework (its `clientError` event, before a
// request exists), answered with the contract's body instead of Node's empty one.

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
};

function clientErrorOf(err: unknown): AuthError {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : '';
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AuthError('VALIDATION_ERROR', 'The request was not received in time.', {
        status: 408,
        details: { reason: 'timeout' },
      });
    case 'HPE_HEADER_OVERFLOW':
      return new AuthError('PAYLOAD_TOO_LARGE', 'The request headers are too large.', {
        status: 431,
        details: { reason: 'headers' },
      });
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new AuthError('PAYLOAD_TOO_LARGE', 'The chunk extensions are too large.', {
        details: { reason: 'chunk_extensions' },
      });
    case 'HPE_INVALID_METHOD':
      return new AuthError('VALIDATION_ERROR', 'The request method is not supported.', {
        details: { reason: 'method' },
      });
    default:
      return new AuthError('VALIDATION_ERROR', 'The request is malformed.', {
        details: { reason: 'malformed' },
      });
  }
}

function serialize(response: HttpResponse): Uint8Array {
  const lines = [`HTTP/1.1 ${response.status} ${REASONS[response.status] ?? 'Error'}`];
  for (const [name, value] of Object.entries(response.headers)) {
    for (const line of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${line}`);
  }
  lines.push('connection: close');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${response.body}`);
}

/**
 * The raw HTTP/1.1 response (bytes, with `Connection: close`) answering an error of Node's
 * `clientError` event with the contract's body `{ success: false, error, code }`: 408
 * VALIDATION_ERROR for a request timeout (`headersTimeout`, `requestTimeout`), 431
 * PAYLOAD_TOO_LARGE for headers over the limit, 413 PAYLOAD_TOO_LARGE for oversized chunk
 * extensions, 400 VALIDATION_ERROR for an unknown method or any other malformed request. Write it
 * only while the socket is writable and no response has started on it, then close the socket;
 * skip it for `ECONNRESET` (the client is gone).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { clientErrorResponse } from 'gatehouse';
 *
 * const server = createServer(app);
 * server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
 *   const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
 *   if (err.code !== 'ECONNRESET' && socket.writable && !started) {
 *     socket.end(clientErrorResponse(err));
 *   } else {
 *     socket.destroy();
 *   }
 * });
 * ```
 */
export function clientErrorResponse(err: unknown): Uint8Array {
  return serialize(errorResponse(clientErrorOf(err), silentLogger));
}

/**
 * The contract's 417 response (VALIDATION_ERROR) for a request whose `Expect` header is not
 * `100-continue`, for Node's `checkExpectation` event (without a listener Node answers 417 with an
 * empty body). Carries `Connection: close`: the body of such a request is never read.
 *
 * @example
 * ```ts
 * server.on('checkExpectation', (_req, res) => {
 *   const { status, headers, body } = expectationFailedResponse();
 *   res.writeHead(status, headers).end(body);
 * });
 * ```
 */
export function expectationFailedResponse(): HttpResponse {
  const response = errorResponse(
    new AuthError('VALIDATION_ERROR', 'Only "Expect: 100-continue" is supported.', {
      status: 417,
      details: { field: 'expect' },
    }),
    silentLogger,
  );
  return { ...response, headers: { ...response.headers, connection: 'close' } };
}
