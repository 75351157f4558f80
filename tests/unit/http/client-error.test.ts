import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientErrorResponse, expectationFailedResponse } from '../../../src/index.js';

function parse(bytes: Uint8Array) {
  const text = Buffer.from(bytes).toString('utf8');
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
    }),
  );
  return { statusLine, headers, body, json: JSON.parse(body) as unknown };
}

const error = (code: string) => Object.assign(new Error(code), { code });

describe('clientErrorResponse', () => {
  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 'HTTP/1.1 408 Request Timeout', 'VALIDATION_ERROR'],
    ['HPE_HEADER_OVERFLOW', 'HTTP/1.1 431 Request Header Fields Too Large', 'PAYLOAD_TOO_LARGE'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 'HTTP/1.1 413 Payload Too Large', 'PAYLOAD_TOO_LARGE'],
    ['HPE_INVALID_METHOD', 'HTTP/1.1 400 Bad Request', 'VALIDATION_ERROR'],
    ['HPE_INVALID_CONSTANT', 'HTTP/1.1 400 Bad Request', 'VALIDATION_ERROR'],
    ['SOMETHING_ELSE', 'HTTP/1.1 400 Bad Request', 'VALIDATION_ERROR'],
  ])('answers %s with "%s" and the contract body (%s)', (code, statusLine, errorCode) => {
    const response = parse(clientErrorResponse(error(code)));
    expect(response.statusLine).toBe(statusLine);
    expect(response.json).toEqual({ success: false, error: expect.any(String), code: errorCode });
    expect(response.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(response.body)),
      'cache-control': 'no-store',
      connection: 'close',
    });
  });

  it('answers a value that is not an error at all with 400', () => {
    expect(parse(clientErrorResponse('boom')).statusLine).toBe('HTTP/1.1 400 Bad Request');
  });
});

describe('expectationFailedResponse', () => {
  it('is a 417 with the contract body and Connection: close', () => {
    const response = expectationFailedResponse();
    expect(response.status).toBe(417);
    expect(response.headers['connection']).toBe('close');
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'Only "Expect: 100-continue" is supported.',
      code: 'VALIDATION_ERROR',
    });
  });
});

describe('a plain Node server wired as the TSDoc shows', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (err.code !== 'ECONNRESET' && socket.writable) socket.end(clientErrorResponse(err));
      else socket.destroy();
    });
    server.on('checkExpectation', (_req, res) => {
      const { status, headers, body } = expectationFailedResponse();
      res.writeHead(status, headers).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function exchange(raw: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(raw));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(text));
      setTimeout(() => socket.end(), 2000).unref();
    });
  }

  it.each([
    ['an unknown method', 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400],
    [
      'a 17 KiB header',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
      431,
    ],
    ['Expect: 1', 'GET / HTTP/1.1\r\nHost: x\r\nExpect: 1\r\n\r\n', 417],
  ])('%s gets the contract JSON body instead of an empty one', async (_label, raw, status) => {
    const text = await exchange(raw);
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { success: boolean };
    expect(body).toEqual({ success: false, error: expect.any(String), code: expect.any(String) });
  });
});
