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
 * Reads a Node request stream into bytes, refusing more than `limit` bytes with
 * `AuthError('PAYLOAD_TOO_LARGE')`: at once when `Content-Length` announces too much, otherwise
 * as soon as the received bytes exceed it (the rest is never buffered). A stream that fails
 * (the client aborted) is VALIDATION_ERROR. Returns undefined for an empty body.
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
  if (contentLength !== undefined && Number(contentLength) > limit) throw tooLarge();
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
    // The client went away or sent a broken body: its problem, not a server error to log.
    throw new AuthError('VALIDATION_ERROR', 'The request body could not be read.', {
      details: { field: 'body', reason: 'unreadable' },
      cause: err,
    });
  }
  return size === 0 ? undefined : Buffer.concat(chunks, size);
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
