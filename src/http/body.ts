import { AuthError } from '../errors.js';

/**
 * The largest request body the auth routes accept: 16 KiB.
 *
 * @example
 * ```ts
 * const raw = await readRequestBody(req, req.headers['content-length'], MAX_BODY_BYTES);
 * ```
 */
export const MAX_BODY_BYTES = 16 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function tooLarge(): AuthError {
  return new AuthError('PAYLOAD_TOO_LARGE', undefined, { details: { limit: MAX_BODY_BYTES } });
}

/**
 * How many bytes past the limit are read and thrown away after a PAYLOAD_TOO_LARGE, so that a
 * client still sending can finish and read the 413; past this the stream is only paused. The
 * request is never destroyed: a destroyed request loses its socket, and a response logger reading
 * `req.ip` in `res.on('finish')` then throws (issue 10).
 */
const MAX_DISCARDED_BYTES = 1024 * 1024;

/** The part of a Node `Readable` (an `IncomingMessage`) the event-based reading uses. */
interface NodeReadable extends AsyncIterable<Uint8Array | string> {
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  readonly readableEnded?: boolean;
  readonly destroyed?: boolean;
}

function isNodeReadable(stream: AsyncIterable<Uint8Array | string>): stream is NodeReadable {
  const candidate = stream as Partial<NodeReadable>;
  return (
    typeof candidate.on === 'function' &&
    typeof candidate.off === 'function' &&
    typeof candidate.pause === 'function' &&
    typeof candidate.resume === 'function'
  );
}

function unreadable(cause: unknown): AuthError {
  // The client went away or sent a broken body: its problem, not a server error to log.
  return new AuthError('VALIDATION_ERROR', 'The request body could not be read.', {
    details: { field: 'body', reason: 'unreadable' },
    cause,
  });
}

const ignore = () => {};

/** Lets the rest of a refused body flow into nothing, up to a cap, then pauses it. */
function discardRest(stream: NodeReadable): void {
  let discarded = 0;
  const onData = (chunk: Uint8Array | string) => {
    discarded += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (discarded > MAX_DISCARDED_BYTES) {
      stream.off('data', onData);
      stream.pause();
    }
  };
  // A client that aborts while its body is discarded is nobody's error.
  stream.on('error', ignore);
  stream.on('data', onData);
  stream.resume();
}

function readNodeStream(stream: NodeReadable, limit: number): Promise<Uint8Array | undefined> {
  if (stream.readableEnded) return Promise.resolve(undefined);
  if (stream.destroyed) return Promise.reject(unreadable(new Error('the stream is destroyed')));
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const stop = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onData = (chunk: Uint8Array | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.byteLength;
      if (size > limit) {
        stop();
        discardRest(stream);
        reject(tooLarge());
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = () => {
      stop();
      resolve(size === 0 ? undefined : Buffer.concat(chunks, size));
    };
    const onError = (err: unknown) => {
      stop();
      reject(unreadable(err));
    };
    const onClose = () => onError(new Error('the stream closed before the end of the body'));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    stream.resume();
  });
}

/**
 * Reads a request body into bytes, refusing more than `limit` bytes with
 * `AuthError('PAYLOAD_TOO_LARGE')`: at once when `Content-Length` announces too much, otherwise
 * as soon as the received bytes exceed it (the rest is never buffered). A stream that fails
 * (the client aborted) is VALIDATION_ERROR. Returns undefined for an empty body.
 *
 * A Node stream (an `IncomingMessage`) is never destroyed: after a refusal the rest of the body is
 * read and thrown away (at most 1 MiB more), then the stream is paused. Answer a refusal with
 * `Connection: close` (the Express adapter does), so Node closes the connection once the 413 is
 * flushed instead of keeping an unfinished body on a keep-alive connection.
 *
 * @example
 * ```ts
 * const raw = await readRequestBody(req, req.headers['content-length']);
 * ```
 */
export async function readRequestBody(
  stream: AsyncIterable<Uint8Array | string>,
  contentLength: string | undefined,
  limit: number = MAX_BODY_BYTES,
): Promise<Uint8Array | undefined> {
  const nodeStream = isNodeReadable(stream) ? stream : undefined;
  if (contentLength !== undefined && Number(contentLength) > limit) {
    if (nodeStream) discardRest(nodeStream);
    throw tooLarge();
  }
  if (nodeStream) return readNodeStream(nodeStream, limit);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.byteLength;
      if (size > limit) throw tooLarge();
      chunks.push(bytes);
    }
  } catch (err) {
    if (err instanceof AuthError) throw err;
    throw unreadable(err);
  }
  return size === 0 ? undefined : Buffer.concat(chunks, size);
}

/**
 * Whether a request still has body bytes on the wire that nobody read: it announced a body
 * (`Content-Length` above 0 or `Transfer-Encoding`) and Node has not received all of it. A
 * response to such a request should carry `Connection: close`, so the server never reads (or
 * waits for) the rest.
 */
export function hasUnreceivedBody(request: {
  complete: boolean;
  headers: Record<string, string | string[] | undefined>;
}): boolean {
  if (request.complete) return false;
  const length = Number(request.headers['content-length'] ?? 0);
  return request.headers['transfer-encoding'] !== undefined || length > 0;
}

/**
 * Whether a `Content-Type` is JSON in UTF-8: `application/json`, optionally `; charset=utf-8`.
 *
 * @example
 * ```ts
 * isJsonContentType('application/json; charset=utf-8'); // true
 * isJsonContentType('text/plain'); // false
 * ```
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [type = '', ...params] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  return params.every((param) => {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'charset') return true;
    return (
      value
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase()
        .replace('utf8', 'utf-8') === 'utf-8'
    );
  });
}

/**
 * Parses a request body as the auth routes expect it: empty means undefined; otherwise the body
 * must be at most 16 KiB (PAYLOAD_TOO_LARGE), sent as `application/json` in UTF-8
 * (UNSUPPORTED_MEDIA_TYPE), and be valid UTF-8 JSON (VALIDATION_ERROR).
 *
 * @example
 * ```ts
 * parseJsonBody(Buffer.from('{"email":"a@b.c"}'), 'application/json'); // { email: 'a@b.c' }
 * ```
 */
export function parseJsonBody(
  raw: Uint8Array | undefined,
  contentType: string | undefined,
): unknown {
  if (raw === undefined || raw.byteLength === 0) return undefined;
  if (raw.byteLength > MAX_BODY_BYTES) throw tooLarge();
  if (!isJsonContentType(contentType)) throw new AuthError('UNSUPPORTED_MEDIA_TYPE');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new AuthError('VALIDATION_ERROR', 'The request body is not valid UTF-8.', {
      details: { field: 'body', reason: 'encoding' },
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AuthError('VALIDATION_ERROR', 'The request body is not valid JSON.', {
      details: { field: 'body', reason: 'malformed_json' },
    });
  }
}
