import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import type { RunningApp } from './apps.js';

/** A response reduced to what the contract fixes. */
export interface ContractResponse {
  status: number;
  headers: Record<string, string>;
  /** Every Set-Cookie line. */
  cookies: string[];
  body: unknown;
}

/** The headers the contract cares about (compared across adapters). */
export const CONTRACT_HEADERS = [
  'content-type',
  'cache-control',
  'www-authenticate',
  'retry-after',
] as const;

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A value to send as JSON (with `Content-Type: application/json`), or a raw string/bytes. */
  json?: unknown;
  raw?: string | Uint8Array;
  token?: string;
}

/** Sends one request with fetch and reduces the response. */
export async function call(app: RunningApp, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array | undefined = options.raw;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const response = await fetch(app.url + path, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body === undefined ? {} : { body }),
  });
  return reduce(response.status, response.headers, await response.text());
}

function reduce(status: number, headers: Headers, text: string): ContractResponse {
  const picked: Record<string, string> = {};
  for (const name of CONTRACT_HEADERS) {
    const value = headers.get(name);
    if (value !== null) picked[name] = value;
  }
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status, headers: picked, cookies: headers.getSetCookie(), body };
}

/**
 * Sends a request with node:http, for what fetch refuses to send: repeated headers and header
 * bytes outside ASCII. `headers` is a flat list of name/value pairs sent as given (latin1).
 */
export function rawCall(
  app: RunningApp,
  path: string,
  {
    method = 'GET',
    headers = [],
    body,
  }: { method?: string; headers?: [string, string][]; body?: string },
): Promise<ContractResponse> {
  const url = new URL(app.url + path);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const h = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : [value ?? '']) h.append(name, v);
          }
          resolve(reduce(res.statusCode ?? 0, h, Buffer.concat(chunks).toString('utf8')));
        });
      },
    );
    req.on('error', reject);
    // setHeader with an array writes one line per value; grouping keeps duplicates apart.
    const grouped = new Map<string, string[]>();
    for (const [name, value] of headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
    for (const [name, values] of grouped)
      req.setHeader(name, values.length === 1 ? values[0]! : values);
    req.end(body);
  });
}

/** The error body the contract prescribes for every failure. */
export function expectContractError(response: ContractResponse, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.body).toEqual({ success: false, error: expect.any(String), code });
  expect(Object.keys(response.body as object).sort()).toEqual(['code', 'error', 'success']);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
}

export const PASSWORD = 'correct horse battery';

/** Registers and logs in a user over HTTP; returns the login body. */
export async function signUp(app: RunningApp, email = 'ada@example.com', password = PASSWORD) {
  const registered = await call(app, '/api/auth/register', {
    json: { email, password, name: 'Ada Lovelace' },
  });
  expect(registered.status).toBe(201);
  return logIn(app, email, password);
}

/** Logs in over HTTP and returns the login body. */
export async function logIn(app: RunningApp, email = 'ada@example.com', password = PASSWORD) {
  const response = await call(app, '/api/auth/login', { json: { email, password } });
  expect(response.status).toBe(200);
  return response.body as {
    token: string;
    refreshToken: string;
    expiresIn: number;
    user: { id: string; email: string; name: string; role: string };
  };
}
