import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loginBodySchema, validateBody } from '../../../src/http/body-schemas.js';
import { isJsonContentType, parseJsonBody, readRequestBody } from '../../../src/http/index.js';
import { AuthError } from '../../../src/index.js';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
  return 'none';
}

async function asyncCodeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'none',
    (err: unknown) => (err instanceof AuthError ? err.code : String(err)),
  );
}

const bytes = (text: string) => Buffer.from(text);

describe('parseJsonBody', () => {
  it('parses a JSON object sent as application/json', () => {
    expect(parseJsonBody(bytes('{"a":1}'), 'application/json')).toEqual({ a: 1 });
  });

  it('treats an empty body as no body, whatever the content type', () => {
    expect(parseJsonBody(undefined, undefined)).toBeUndefined();
    expect(parseJsonBody(new Uint8Array(0), 'text/plain')).toBeUndefined();
  });

  it('refuses a body that is not application/json with UNSUPPORTED_MEDIA_TYPE', () => {
    expect(codeOf(() => parseJsonBody(bytes('{}'), 'text/plain'))).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(codeOf(() => parseJsonBody(bytes('{}'), undefined))).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses malformed JSON with VALIDATION_ERROR', () => {
    expect(codeOf(() => parseJsonBody(bytes('{"a":'), 'application/json'))).toBe(
      'VALIDATION_ERROR',
    );
  });

  it('refuses bytes that are not UTF-8 with VALIDATION_ERROR', () => {
    expect(codeOf(() => parseJsonBody(Buffer.from([0x22, 0xc3, 0x22]), 'application/json'))).toBe(
      'VALIDATION_ERROR',
    );
  });

  it('refuses more than 16 KiB with PAYLOAD_TOO_LARGE before parsing', () => {
    const body = bytes(`"${'x'.repeat(16 * 1024)}"`);
    expect(codeOf(() => parseJsonBody(body, 'application/json'))).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('isJsonContentType', () => {
  it.each([
    'application/json',
    'Application/JSON',
    'application/json; charset=utf-8',
    'application/json;charset="UTF-8"',
    'application/json; charset=utf8',
  ])('accepts %s', (type) => {
    expect(isJsonContentType(type)).toBe(true);
  });

  it.each([
    'text/json',
    'application/jsonp',
    'application/json; charset=latin1',
    'application/x-www-form-urlencoded',
    '',
  ])('refuses %j', (type) => {
    expect(isJsonContentType(type)).toBe(false);
  });
});

describe('readRequestBody', () => {
  it('concatenates the chunks of a stream', async () => {
    const raw = await readRequestBody(Readable.from([bytes('{"a"'), bytes(':1}')]), undefined);
    expect(Buffer.from(raw!).toString()).toBe('{"a":1}');
  });

  it('returns undefined for an empty stream', async () => {
    expect(await readRequestBody(Readable.from([]), '0')).toBeUndefined();
  });

  it('refuses an announced Content-Length over the limit without reading the stream', async () => {
    let read = false;
    const stream = (async function* () {
      read = true;
      yield bytes('x');
    })();
    expect(await asyncCodeOf(readRequestBody(stream, String(1024 * 1024)))).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    expect(read).toBe(false);
  });

  it('stops reading as soon as the received bytes pass the limit', async () => {
    let chunks = 0;
    const stream = (async function* () {
      for (;;) {
        chunks++;
        yield bytes('x'.repeat(4096));
      }
    })();
    expect(await asyncCodeOf(readRequestBody(stream, undefined))).toBe('PAYLOAD_TOO_LARGE');
    expect(chunks).toBe(5);
  });
});

describe('readRequestBody on a failing stream', () => {
  it('answers a stream that breaks (client aborted) with VALIDATION_ERROR, not a server error', async () => {
    const stream = (async function* () {
      yield bytes('{"a"');
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    })();
    expect(await asyncCodeOf(readRequestBody(stream, undefined))).toBe('VALIDATION_ERROR');
  });
});

describe('validateBody', () => {
  it('returns the known fields and drops the others', () => {
    expect(validateBody(loginBodySchema, { email: 'a', password: 'b', role: 'admin' })).toEqual({
      email: 'a',
      password: 'b',
    });
  });

  it('names the first missing or non-string field', () => {
    try {
      validateBody(loginBodySchema, { email: 'a', password: 42 });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({
        code: 'VALIDATION_ERROR',
        message: 'password is required and must be a string.',
        details: { field: 'password', reason: 'required' },
      });
    }
  });

  it.each([null, [], 'text', 3, undefined])('refuses a body that is not an object (%j)', (body) => {
    expect(codeOf(() => validateBody(loginBodySchema, body))).toBe('VALIDATION_ERROR');
  });

  it('refuses an overlong field as too long', () => {
    expect(() => validateBody(loginBodySchema, { email: 'a'.repeat(2000), password: 'x' })).toThrow(
      'email is too long.',
    );
  });
});
