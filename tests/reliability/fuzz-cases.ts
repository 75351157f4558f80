// The fuzzer's generators: case `index` of run `seed` is always the same bytes (given the same
// context: tokens and address), so a printed "seed S case I" reproduces a failure.
import { cookieNames } from 'gatehouse';

/** A small seeded PRNG (mulberry32) with the helpers the generators use. */
export interface Rng {
  next(): number;
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

/** The PRNG of case `index` of run `seed`: each case can be regenerated alone. */
export function rngOfCase(seed: number, index: number): Rng {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return createRng(h ^ (h >>> 15));
}

/** How a body is framed on the wire. */
export type Framing =
  | 'length' // a correct Content-Length
  | 'chunked' // Transfer-Encoding: chunked, random chunk sizes
  | 'short' // Content-Length below the body: the rest is read as a next request
  | 'long' // Content-Length above the body: the server waits for the rest (request timeout)
  | 'both' // Content-Length and Transfer-Encoding: chunked (smuggling)
  | 'dup-length' // two Content-Length lines
  | 'bad-length' // a Content-Length that is not a number
  | 'none'; // no framing header: the body bytes follow as a next request

/**
 * One generated request. Strings are byte strings (latin1: one char per byte); unicode text is
 * embedded as its UTF-8 bytes.
 */
export interface FuzzCase {
  index: number;
  /** What the generator aimed at, e.g. `login body:deep-nesting framing:chunked`. */
  label: string;
  kind: 'http' | 'raw';
  method: string;
  target: string;
  version: string;
  /** Every header except the framing ones (those come from `framing`). */
  headers: [string, string][];
  body: string;
  framing: Framing;
  /** Chunk extension or trailer abuse for chunked framing. */
  chunkStyle?: 'plain' | 'extensions' | 'trailers' | 'upper-hex';
  badLength?: string;
  /** Raw cases: the bytes, written in this many parts. */
  raw: string[];
  /** The methods of the requests sent, in order (HEAD answers carry no body). */
  methods: string[];
  /** How many answers to wait for. */
  expect: number;
  /** Write the request in this many pieces (1 = one write). */
  split: number;
  /** Half-close the connection after writing (a client that gives up mid-request). */
  halfClose: boolean;
  /** Index into the source addresses. */
  source: number;
}

/** What the generators may use from the running app. */
export interface FuzzContext {
  /** `127.0.0.1:port`, the Host header of well-formed requests. */
  host: string;
  /** An access token of the fuzz account (never sent to the logout routes). */
  token?: string;
  /** The fuzz account's id. */
  userId?: string;
  /** Number of source addresses to spread requests over. */
  sources: number;
}

/** A unicode string as the byte string of its UTF-8 encoding. */
export function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  'user@example.com\u0000admin@example.com',
  '\u202eevil\u202c',
  '\ufeffbom',
  'İstanbul',
  'straße',
  'ﬀ',
  'e\u0301',
  '𝕏𝕪𝕫',
  '😀👩‍👩‍👧',
  '\u2028\u2029',
  '\ud800',
  '\udfff\ud800',
  '\u0085',
  '%00',
  '../../../../etc/passwd',
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  `\${7*7}{{7*7}}`,
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'NaN',
  'admin',
  'user@example.com',
  'USER@EXAMPLE.COM',
  'admin@example.com ',
  'a@b',
  '@',
  'x'.repeat(73),
  'é'.repeat(40),
  'a'.repeat(1025),
  'a'.repeat(5000),
  '19.90',
  '-1.00',
  '1e3',
  '99999999999.99',
  '0.001',
  ' 19.90',
];

const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'role',
  'isAdmin',
  'id',
  'userId',
  'email',
  'password',
  'passwordHash',
  'toString',
  'valueOf',
  '$where',
  '$ne',
  '',
  '\u0000',
];

function randomText(rng: Rng, max: number): string {
  const alphabet =
    'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.@+/\\\'"{}[]:;,<>?%&=#~`!$^*()|';
  const n = rng.int(max + 1);
  let out = '';
  for (let i = 0; i < n; i++) {
    // Any code point but the surrogates (encodeURIComponent refuses a lone one).
    const cp = rng.int(0x2ffff);
    out += rng.chance(0.05)
      ? String.fromCodePoint(cp >= 0xd800 && cp <= 0xdfff ? cp + 0x800 : cp)
      : rng.pick([...alphabet]);
  }
  return out;
}

/** Any JSON value, nested up to `depth`. */
function jsonValue(rng: Rng, depth: number): unknown {
  const kind = rng.int(depth > 0 ? 9 : 6);
  switch (kind) {
    case 0:
      return rng.pick(ODD_STRINGS);
    case 1:
      return randomText(rng, 40);
    case 2:
      return rng.pick([0, -1, 1, 1.5, -0, 1e308, 2 ** 53 + 1, -(2 ** 31), 19.9]);
    case 3:
      return rng.chance(0.5);
    case 4:
      return null;
    case 5:
      return rng.pick(ODD_STRINGS);
    case 6: {
      const n = rng.int(4);
      return Array.from({ length: n }, () => jsonValue(rng, depth - 1));
    }
    default: {
      const out: Record<string, unknown> = {};
      const n = rng.int(4);
      for (let i = 0; i < n; i++) out[rng.pick(KEYS)] = jsonValue(rng, depth - 1);
      return out;
    }
  }
}

interface Route {
  method: string;
  path: string;
  /** Body fields and a plausible value for each. */
  fields: Record<string, (rng: Rng, ctx: FuzzContext) => string>;
  /** The access token of the fuzz account must not end its own session here. */
  noToken?: boolean;
  weight: number;
}

const email = (rng: Rng) =>
  rng.pick([
    `fuzz${rng.int(1e6)}@example.com`,
    'user@example.com',
    'admin@example.com',
    `FUZZ${rng.int(100)}@EXAMPLE.COM`,
    `a+${rng.int(100)}@example.org`,
  ]);
const password = (rng: Rng) =>
  rng.pick([
    `orbit lantern ${rng.int(1e9)} velvet`,
    'velvet otter tangerine',
    'granite lantern orbit',
    'short',
    'password123456789',
  ]);
const opaqueToken = (rng: Rng) =>
  rng.pick([b64url(String(rng.int(1e9))).padEnd(43, 'A'), randomText(rng, 60), 'x'.repeat(600)]);
const fakeJwt = (rng: Rng) =>
  rng.pick([
    `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url('{"sub":"x","role":"admin"}')}.`,
    `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${rng.int(1e6)}","role":"admin","exp":9999999999}`)}.${b64url('sig')}`,
    `${b64url('{"alg":"HS256","kid":"../../../../dev/null"}')}.${b64url('{}')}.AAAA`,
    `${b64url('{"alg":"RS256","jku":"http://127.0.0.1:1/jwks"}')}.${b64url('{}')}.AAAA`,
    `${b64url('{"alg":"HS256","crit":["x"]}')}.${b64url('{}')}.AAAA`,
    `${'A'.repeat(6000)}.${b64url('{}')}.AAAA`,
    'a.b.c',
    'a.b.c.d.e',
    '...',
    b64url('not json'),
  ]);

const ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/api/auth/register',
    fields: { email, password, name: (rng) => rng.pick(['Fuzz', 'Ann', randomText(rng, 20)]) },
    weight: 6,
  },
  { method: 'POST', path: '/api/auth/login', fields: { email, password }, weight: 8 },
  {
    method: 'POST',
    path: '/api/auth/refresh',
    fields: { refreshToken: (rng) => opaqueToken(rng) },
    weight: 5,
  },
  {
    method: 'POST',
    path: '/api/auth/logout',
    fields: { refreshToken: (rng) => opaqueToken(rng) },
    noToken: true,
    weight: 4,
  },
  { method: 'POST', path: '/api/auth/logout-all', fields: {}, noToken: true, weight: 2 },
  { method: 'GET', path: '/api/auth/me', fields: {}, weight: 6 },
  {
    method: 'PUT',
    path: '/api/auth/password',
    fields: { currentPassword: password, newPassword: password },
    weight: 3,
  },
  { method: 'POST', path: '/api/auth/password/forgot', fields: { email }, weight: 3 },
  {
    method: 'POST',
    path: '/api/auth/password/reset',
    fields: { token: opaqueToken, password },
    weight: 3,
  },
  { method: 'POST', path: '/api/auth/email/verify', fields: { token: opaqueToken }, weight: 3 },
  { method: 'POST', path: '/api/auth/email/resend', fields: {}, weight: 2 },
  { method: 'GET', path: '/.well-known/jwks.json', fields: {}, weight: 2 },
  { method: 'GET', path: '/api/users/:id', fields: {}, weight: 5 },
  {
    method: 'PUT',
    path: '/api/users/:id',
    fields: { name: (rng) => randomText(rng, 30) },
    weight: 5,
  },
  { method: 'DELETE', path: '/api/users/:id', fields: {}, weight: 3 },
  {
    method: 'POST',
    path: '/api/orders',
    fields: {
      total: (rng) =>
        rng.pick([`${rng.int(1000)}.${rng.int(100)}`, '19.90', '0', '-5', '1e2', 'abc']),
    },
    weight: 8,
  },
  { method: 'GET', path: '/api/orders', fields: {}, weight: 4 },
  // The cookie-mode routes of the login page (CSRF-checked).
  { method: 'POST', path: '/app/api/auth/login', fields: { email, password }, weight: 3 },
  {
    method: 'POST',
    path: '/app/api/auth/register',
    fields: { email, password, name: () => 'Fuzz' },
    weight: 2,
  },
  { method: 'POST', path: '/app/api/auth/refresh', fields: {}, weight: 2 },
  { method: 'POST', path: '/app/api/auth/logout', fields: {}, noToken: true, weight: 2 },
  { method: 'GET', path: '/app/api/auth/me', fields: {}, weight: 2 },
  { method: 'GET', path: '/app/api/auth/csrf', fields: {}, weight: 2 },
  { method: 'POST', path: '/app/api/auth/password/forgot', fields: { email }, weight: 1 },
  // The pages.
  { method: 'GET', path: '/', fields: {}, weight: 1 },
  { method: 'GET', path: '/index.html', fields: {}, weight: 1 },
  { method: 'GET', path: '/dashboard', fields: {}, weight: 1 },
  { method: 'GET', path: '/reset-password', fields: {}, weight: 1 },
  { method: 'GET', path: '/style.css', fields: {}, weight: 1 },
  { method: 'GET', path: '/api.js', fields: {}, weight: 1 },
];
const ROUTE_WEIGHT = ROUTES.reduce((sum, r) => sum + r.weight, 0);

function pickRoute(rng: Rng): Route {
  let n = rng.int(ROUTE_WEIGHT);
  for (const route of ROUTES) {
    n -= route.weight;
    if (n < 0) return route;
  }
  return ROUTES[0]!;
}

const METHODS = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'MKCOL',
  'LOCK',
  'PURGE',
  'SEARCH',
  'QUERY',
  'LINK',
  'get',
  'Post',
  'FOO',
  'X-CUSTOM',
];

function userId(rng: Rng, ctx: FuzzContext): string {
  return rng.pick([
    ctx.userId ?? '00000000-0000-4000-8000-000000000000',
    ctx.userId ?? '00000000-0000-4000-8000-000000000000',
    '3f2c1d5e-8a9b-4c7d-9e1f-0a2b3c4d5e6f',
    '00000000-0000-0000-0000-000000000000',
    'admin',
    '0',
    '-1',
    '1e9',
    '%00',
    '%ff',
    '%F0%9F%98%80',
    '__proto__',
    'constructor',
    "'%20OR%201=1",
    'a'.repeat(300),
    '..',
    '%2e%2e%2f',
  ]);
}

function targetFor(rng: Rng, route: Route, ctx: FuzzContext): string {
  let path = route.path.replace(':id', () => userId(rng, ctx));
  if (rng.chance(0.75)) return path;
  switch (rng.int(16)) {
    case 0:
      return `${path}?a=1&a=2`;
    case 1:
      return `${path}?__proto__[role]=admin&constructor[prototype][role]=admin&__proto__.isAdmin=1`;
    case 2:
      return `${path}/`;
    case 3:
      return path.toUpperCase();
    case 4:
      return `/${path}`;
    case 5:
      return path.replace('/auth/', '/auth/../auth/');
    case 6:
      return path.replace(/[a-z]$/, (c) => `%${c.charCodeAt(0).toString(16)}`);
    case 7:
      return `${path}%00`;
    case 8:
      return `${path}%zz`;
    case 9:
      return `http://${ctx.host}${path}`;
    case 10:
      return `${path}#frag`;
    case 11:
      return `${path};jsessionid=1`;
    case 12:
      return `${path}?${'q='.repeat(rng.pick([10, 1000, 3000]))}`;
    case 13:
      path = `${path}/${utf8(rng.pick(ODD_STRINGS))}`;
      return path;
    case 14:
      return `${path}?cursor=${utf8(randomText(rng, 30)).replace(/[\s#]/g, '')}`;
    default:
      return `${path}?limit=-1&limit=99999999999`;
  }
}

function randomPath(rng: Rng): string {
  switch (rng.int(10)) {
    case 0:
      return '*';
    case 1:
      return `/${'a/'.repeat(rng.pick([10, 500, 3000]))}`;
    case 2:
      return `/${'x'.repeat(rng.pick([100, 8000, 20000]))}`;
    case 3:
      return '/../../../../etc/passwd';
    case 4:
      return '/%2e%2e/%2e%2e/etc/passwd';
    case 5:
      return `/api/${utf8(rng.pick(ODD_STRINGS)).replace(/[\s]/g, '_')}`;
    case 6:
      return `/api/${rng.pick(['users', 'orders', 'auth', 'admin', 'auth/sessions', 'admin/users'])}/${rng.pick(['x', '1', '', '%', '__proto__'])}`;
    case 7:
      return '';
    case 8:
      return `/${rng.pick(['healthz', 'readyz', 'metrics', '.env', '.git/config', 'favicon.ico', 'public/../package.json', '%2e%2e%2fpackage.json'])}`;
    default:
      return `/${encodeURIComponent(randomText(rng, 20))}`;
  }
}

type BodyShape = { label: string; body: string; contentType?: string };

function routeJson(rng: Rng, route: Route, ctx: FuzzContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, make] of Object.entries(route.fields)) {
    if (rng.chance(0.08)) continue;
    out[field] = rng.chance(0.75) ? make(rng, ctx) : jsonValue(rng, 2);
  }
  if (rng.chance(0.15)) out[rng.pick(KEYS)] = jsonValue(rng, 2);
  return out;
}

function bodyFor(rng: Rng, route: Route, ctx: FuzzContext): BodyShape {
  const json = JSON.stringify(routeJson(rng, route, ctx));
  const asBytes = utf8(json);
  const roll = rng.int(100);
  if (roll < 50) return { label: 'json', body: asBytes };
  switch (roll % 25) {
    case 0:
      return { label: 'truncated', body: asBytes.slice(0, rng.int(asBytes.length)) };
    case 1:
      return {
        label: 'trailing-garbage',
        body: asBytes + rng.pick(['}', ',', 'x', '\u0000', ']]']),
      };
    case 2: {
      const n = rng.pick([100, 1000, 5000, 8000]);
      return { label: `nested-arrays-${n}`, body: '['.repeat(n) + ']'.repeat(n) };
    }
    case 3: {
      const n = rng.pick([500, 2000, 2700]);
      return { label: `nested-objects-${n}`, body: `${'{"a":'.repeat(n)}1${'}'.repeat(n)}` };
    }
    case 4: {
      const n = rng.pick([60_000, 200_000]);
      return { label: `nested-huge-${n}`, body: '['.repeat(n) + ']'.repeat(n) };
    }
    case 5: {
      const size = rng.pick([16_000, 16_384, 16_385, 100_000, 1_200_000]);
      const pad = 'a'.repeat(Math.max(0, size - asBytes.length - 10));
      return { label: `huge-${size}`, body: `{"pad":"${pad}",${asBytes.slice(1)}` };
    }
    case 6:
      return {
        label: 'proto-pollution',
        body: `{"__proto__":{"role":"admin","isAdmin":true},"constructor":{"prototype":{"role":"admin"}},${asBytes.slice(1)}`,
      };
    case 7:
      return {
        label: 'proto-nested',
        body: `{"user":{"__proto__":{"role":"admin"}},"a":{"constructor":{"prototype":{"polluted":1}}},${asBytes.slice(1)}`,
      };
    case 8:
      return {
        label: 'duplicate-keys',
        body: `{"email":"a@b.c","email":{"$ne":null},${asBytes.slice(1)}`,
      };
    case 9:
      return { label: 'bom', body: `\xef\xbb\xbf${asBytes}` };
    case 10:
      return { label: 'invalid-utf8', body: asBytes.replace(/"/, '"\xff\xfe\xc0\x80') };
    case 11:
      return {
        label: 'utf16',
        body: Buffer.from(json, 'utf16le').toString('latin1'),
        contentType: rng.pick(['application/json; charset=utf-16', 'application/json']),
      };
    case 12:
      return { label: 'single-quotes', body: asBytes.replace(/"/g, "'") };
    case 13:
      return {
        label: 'numbers',
        body: rng.pick([
          '{"total":1e999}',
          '{"total":-0}',
          '{"total":0x10}',
          '{"a":NaN}',
          '{"a":Infinity}',
          '{"total":19.90}',
        ]),
      };
    case 14:
      return {
        label: 'top-level',
        body: rng.pick(['null', '[]', '"x"', '1', 'true', '', ' ', '{}', '[{}]']),
      };
    case 15:
      return {
        label: 'form',
        body: 'email=a%40b.c&password=x&__proto__[role]=admin&constructor[prototype][x]=1',
        contentType: 'application/x-www-form-urlencoded',
      };
    case 16:
      return {
        label: 'multipart',
        body: '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--x--\r\n',
        contentType: 'multipart/form-data; boundary=x',
      };
    case 17:
      return { label: 'nul-bytes', body: asBytes.replace(/:/g, ':\u0000') };
    case 18:
      return {
        label: 'escaped-unicode',
        body: '{"email":"\\ud800@x.com","password":"\\u0000\\u0000","name":"\\udfff"}',
      };
    case 19:
      return { label: 'comments', body: `/* c */${asBytes}// end` };
    case 20:
      return { label: 'random-json', body: utf8(JSON.stringify(jsonValue(rng, 4)) ?? 'null') };
    case 21:
      return {
        label: 'random-bytes',
        body: Array.from({ length: rng.int(300) }, () => String.fromCharCode(rng.int(256))).join(
          '',
        ),
      };
    case 22:
      return {
        label: 'many-keys',
        body: `{${Array.from({ length: 1500 }, (_, i) => `"k${i}":1`).join(',')}}`,
      };
    case 23:
      return {
        label: 'long-field',
        body: utf8(JSON.stringify({ ...JSON.parse(json), email: 'a'.repeat(15_000) })),
      };
    default:
      return { label: 'whitespace', body: `\n\t ${asBytes} \r\n` };
  }
}

const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'application/json;;;',
  'application/vnd.api+json',
  'text/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  '',
  '*/*',
  'application/json, text/plain',
  utf8('application/jsön'),
  'application/json; boundary=\u0001',
];

function authorization(rng: Rng, ctx: FuzzContext, route: Route): [string, string][] {
  const token = !route.noToken ? ctx.token : undefined;
  const roll = rng.int(20);
  if (roll < 7) return [];
  if (roll < 12 && token) return [['Authorization', `Bearer ${token}`]];
  switch (roll) {
    case 12:
      return [['Authorization', `Bearer ${fakeJwt(rng)}`]];
    case 13:
      return [
        [
          'Authorization',
          rng.pick([
            'Bearer',
            'Bearer ',
            'Basic dXNlcjpwYXNz',
            'Digest x',
            'bearer x.y.z',
            'Bearer  x.y.z',
            'Bearer x.y.z extra',
            'NTLM TlRMTVNTUAABAAAA',
          ]),
        ],
      ];
    case 14:
      return [
        ['Authorization', `Bearer ${fakeJwt(rng)}`],
        ['Authorization', `Bearer ${token ?? fakeJwt(rng)}`],
      ];
    case 15:
      return [['Authorization', `Bearer ${'A'.repeat(rng.pick([1000, 9000]))}`]];
    case 16:
      return [['Authorization', `Bearer ${token ? token.slice(0, -3) : 'x'}abc`]];
    case 17:
      return [['Authorization', utf8(`Bearer ${rng.pick(ODD_STRINGS)}`)]];
    case 18:
      return [['Authorization', `Bearer ${token ? `${token}.${token}` : 'a..b'}`]];
    default:
      return [['Authorization', `Bearer ${randomText(rng, 80).replace(/[\r\n]/g, '')}`]];
  }
}

function cookies(rng: Rng, ctx: FuzzContext): [string, string][] {
  if (!rng.chance(0.3)) return [];
  const names = cookieNames(true);
  const secure = cookieNames(false);
  const one = () =>
    rng.pick([
      `${names.access}=${ctx.token ?? fakeJwt(rng)}`,
      `${names.access}=${fakeJwt(rng)}`,
      `${names.refresh}=${rng.pick(['x.y', '00000000-0000-4000-8000-000000000000.abc', 'garbage', ''])}`,
      `${names.csrf}=${randomText(rng, 40).replace(/[;\s]/g, '')}`,
      `${secure.access}=${fakeJwt(rng)}`,
      '__proto__=x; constructor=y; prototype=z',
      'a=1; a=2; a=3',
      ';;;==;=;',
      `big=${'c'.repeat(rng.pick([100, 6000]))}`,
      utf8(`odd=${rng.pick(ODD_STRINGS)}`),
      `${names.access}=${ctx.token ?? 'x'}; ${names.access}=garbage`,
    ]);
  const lines: [string, string][] = [['Cookie', one()]];
  if (rng.chance(0.2)) lines.push(['Cookie', one()]);
  return lines;
}

function extraHeaders(rng: Rng, ctx: FuzzContext): [string, string][] {
  const out: [string, string][] = [];
  if (rng.chance(0.25)) {
    out.push([
      'X-Forwarded-For',
      rng.pick([
        '1.2.3.4',
        '127.0.0.1',
        '::1',
        'unknown',
        'garbage',
        '999.999.999.999',
        '1.2.3.4, 5.6.7.8, 127.0.0.1',
        Array.from({ length: 300 }, (_, i) => `10.0.${i % 256}.${i % 200}`).join(', '),
        utf8('١٢٣.٤.٥.٦'),
      ]),
    ]);
    if (rng.chance(0.2)) out.push(['X-Forwarded-For', `${rng.int(256)}.0.0.1`]);
  }
  if (rng.chance(0.05))
    out.push(['X-Real-IP', '6.6.6.6'], ['Forwarded', 'for=6.6.6.6;proto=https']);
  if (rng.chance(0.15)) {
    out.push([
      'Origin',
      rng.pick([`http://${ctx.host}`, 'http://evil.example', 'null', '', utf8('http://ëvil')]),
    ]);
  }
  if (rng.chance(0.1)) out.push(['X-CSRF-Token', randomText(rng, 60).replace(/[\r\n]/g, '')]);
  if (rng.chance(0.05)) out.push(['Expect', rng.pick(['100-continue', 'foo', '100-Continue'])]);
  if (rng.chance(0.05))
    out.push(['Range', rng.pick(['bytes=0-10', 'bytes=999999-', 'bytes=x', 'bytes=0-1,2-3,4-5'])]);
  if (rng.chance(0.04)) out.push(['If-None-Match', rng.pick(['*', '"x"', 'W/"abc"'])]);
  if (rng.chance(0.04))
    out.push(['If-Modified-Since', rng.pick(['garbage', 'Thu, 01 Jan 2099 00:00:00 GMT'])]);
  if (rng.chance(0.04)) out.push(['Content-Encoding', rng.pick(['gzip', 'br', 'identity', 'x'])]);
  if (rng.chance(0.03)) out.push(['X-HTTP-Method-Override', 'DELETE']);
  if (rng.chance(0.03)) out.push(['Accept', rng.pick(['text/html', '*/*;q=0', utf8('☃/☃')])]);
  if (rng.chance(0.03)) out.push(['X-Long', 'v'.repeat(rng.pick([4000, 12_000, 20_000]))]);
  if (rng.chance(0.02)) {
    for (let i = 0; i < rng.pick([50, 200, 400]); i++) out.push([`X-Flood-${i}`, 'y'.repeat(60)]);
  }
  if (rng.chance(0.02)) out.push(['X-Nul', 'a\u0000b']);
  if (rng.chance(0.02)) out.push([rng.pick(['Bad Name', 'X-\u0001', '(x)', utf8('Ünicode')]), '1']);
  if (rng.chance(0.03)) out.push(['Connection', 'Upgrade'], ['Upgrade', 'websocket']);
  if (rng.chance(0.02))
    out.push(['Transfer-Encoding', rng.pick(['gzip', 'identity', 'chunked, gzip'])]);
  return out;
}

function httpCase(index: number, rng: Rng, ctx: FuzzContext): FuzzCase {
  const random = rng.chance(0.12);
  const route = random
    ? { method: rng.pick(METHODS), path: randomPath(rng), fields: {}, weight: 0 }
    : pickRoute(rng);
  const method = rng.chance(0.82) ? route.method : rng.pick(METHODS);
  const target = random ? route.path : targetFor(rng, route, ctx);
  const headers: [string, string][] = [];
  const hostRoll = rng.int(40);
  if (hostRoll === 0) {
    // no Host
  } else if (hostRoll === 1) headers.push(['Host', ctx.host], ['Host', 'evil.example']);
  else if (hostRoll === 2)
    headers.push(['Host', rng.pick(['', 'evil.example', utf8('hôst'), 'a b'])]);
  else headers.push(['Host', ctx.host]);
  const hasBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)
    ? rng.chance(0.93)
    : rng.chance(0.08);
  const shape: BodyShape = hasBody
    ? bodyFor(rng, route as Route, ctx)
    : { label: 'none', body: '' };
  if (hasBody && !rng.chance(0.08)) {
    headers.push(['Content-Type', shape.contentType ?? rng.pick(CONTENT_TYPES)]);
    if (rng.chance(0.03)) headers.push(['Content-Type', rng.pick(CONTENT_TYPES)]);
  }
  headers.push(...authorization(rng, ctx, route as Route));
  headers.push(...cookies(rng, ctx));
  headers.push(...extraHeaders(rng, ctx));
  if (rng.chance(0.5)) headers.push(['Connection', rng.pick(['close', 'keep-alive', 'Close'])]);
  // Shuffle a little, so that Host is not always first.
  if (rng.chance(0.2) && headers.length > 1) headers.push(headers.shift()!);

  let framing: Framing = 'length';
  const f = rng.int(100);
  if (!hasBody) framing = rng.chance(0.8) ? 'none' : 'length';
  else if (f < 76) framing = 'length';
  else if (f < 88) framing = 'chunked';
  else if (f < 90) framing = 'short';
  else if (f < 91) framing = 'long';
  else if (f < 94) framing = 'both';
  else if (f < 96) framing = 'dup-length';
  else if (f < 98) framing = 'bad-length';
  else framing = 'none';
  const version = rng.chance(0.95)
    ? 'HTTP/1.1'
    : rng.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1', 'HTTP/1.10']);
  const leftover = shape.body !== '' && (framing === 'short' || framing === 'none');
  return {
    index,
    label: `${random ? 'random-path' : route.path} ${method} body:${shape.label} framing:${framing}`,
    kind: 'http',
    method,
    target,
    version,
    headers,
    body: shape.body,
    framing,
    chunkStyle: rng.pick(['plain', 'plain', 'plain', 'extensions', 'trailers', 'upper-hex']),
    badLength: rng.pick([
      'abc',
      '-1',
      '+10',
      '1e3',
      ' 10',
      '0x10',
      '99999999999999999999',
      '1 2',
      '',
    ]),
    raw: [],
    methods: leftover ? [method, 'GET'] : [method],
    expect: leftover ? 2 : 1,
    split: rng.chance(0.15) ? 2 + rng.int(3) : 1,
    halfClose: rng.chance(0.02),
    source: rng.int(ctx.sources),
  };
}

function rawCase(index: number, rng: Rng, ctx: FuzzContext): FuzzCase {
  const h = `Host: ${ctx.host}\r\n`;
  const login = `POST /api/auth/login HTTP/1.1\r\n${h}Content-Type: application/json\r\n`;
  const body = '{"email":"a@b.c","password":"x"}';
  const templates: [string, () => string[], number?, string[]?][] = [
    [
      'garbage',
      () => [
        Array.from({ length: 1 + rng.int(200) }, () => String.fromCharCode(rng.int(256))).join(''),
      ],
    ],
    ['tls-client-hello', () => ['\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' + 'A'.repeat(32)]],
    ['http2-preface', () => ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n']],
    ['no-target', () => ['GET\r\n\r\n']],
    ['http09', () => ['GET /\r\n\r\n']],
    ['extra-token', () => [`GET / HTTP/1.1 extra\r\n${h}\r\n`]],
    ['double-space', () => [`GET  /api/auth/me  HTTP/1.1\r\n${h}\r\n`]],
    ['leading-space', () => [` GET / HTTP/1.1\r\n${h}\r\n`]],
    ['bare-lf', () => [`GET /api/auth/me HTTP/1.1\nHost: ${ctx.host}\nConnection: close\n\n`]],
    ['leading-crlf', () => [`\r\n\r\nGET /api/auth/me HTTP/1.1\r\n${h}Connection: close\r\n\r\n`]],
    ['nul-in-target', () => [`GET /api/\x00auth/me HTTP/1.1\r\n${h}\r\n`]],
    ['nul-in-header', () => [`GET /api/auth/me HTTP/1.1\r\n${h}X-A: a\x00b\r\n\r\n`]],
    ['cr-in-header', () => [`GET /api/auth/me HTTP/1.1\r\n${h}X-A: a\rb\r\n\r\n`]],
    ['utf8-target', () => [`GET /api/${utf8('ünï😀')} HTTP/1.1\r\n${h}\r\n`]],
    [
      'bad-version',
      () => [`GET / HTTP/${rng.pick(['1', '1.', '9.9', 'x', '11', '1.1.1'])}\r\n${h}\r\n`],
    ],
    ['lowercase-method', () => [`post /api/auth/login HTTP/1.1\r\n${h}Content-Length: 0\r\n\r\n`]],
    ['long-method', () => [`${'G'.repeat(rng.pick([20, 2000]))} / HTTP/1.1\r\n${h}\r\n`]],
    [
      'long-request-line',
      () => [`GET /${'a'.repeat(rng.pick([17_000, 70_000]))} HTTP/1.1\r\n${h}\r\n`],
    ],
    [
      'bad-chunk-size',
      () => [
        `${login}Transfer-Encoding: chunked\r\n\r\n${rng.pick(['zz', '-1', 'fffffffffffffffffff', '0x5', ' 5', '5 5', ''])}\r\n${body}\r\n0\r\n\r\n`,
      ],
    ],
    [
      'chunk-size-mismatch',
      () => [`${login}Transfer-Encoding: chunked\r\n\r\n5\r\n${body}\r\n0\r\n\r\n`],
    ],
    [
      'chunk-no-crlf',
      () => [
        `${login}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}0\r\n\r\n`,
      ],
    ],
    [
      'chunk-extension-flood',
      () => [
        `${login}Transfer-Encoding: chunked\r\n\r\n1;${'x=y;'.repeat(5000)}\r\na\r\n0\r\n\r\n`,
      ],
    ],
    [
      'chunk-trailer-flood',
      () => [
        `${login}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n${'X-T: 1\r\n'.repeat(3000)}\r\n`,
      ],
    ],
    ['chunked-then-stall', () => [`${login}Transfer-Encoding: chunked\r\n\r\n10\r\n{"email":`]],
    [
      'cl-and-te',
      () => [`${login}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`],
    ],
    [
      'te-twice',
      () => [`${login}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`],
    ],
    [
      'te-obfuscated',
      () => [
        `${login}Transfer-Encoding: ${rng.pick(['xchunked', 'chunked, gzip', ' chunked', 'chunked\t', 'CHUNKED', 'chunk'])}\r\n\r\n0\r\n\r\n`,
      ],
    ],
    ['te-space-before-colon', () => [`${login}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`]],
    [
      'cl-twice',
      () => [
        `${login}Content-Length: ${body.length}\r\nContent-Length: ${body.length + 1}\r\n\r\n${body}`,
      ],
    ],
    ['cl-list', () => [`${login}Content-Length: ${body.length}, ${body.length}\r\n\r\n${body}`]],
    ['cl-overflow', () => [`${login}Content-Length: 18446744073709551617\r\n\r\n${body}`]],
    [
      'smuggle-cl-te',
      () => [
        `POST /api/auth/login HTTP/1.1\r\n${h}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/auth/me HTTP/1.1\r\n${h}\r\n`,
      ],
      2,
      ['POST', 'GET'],
    ],
    [
      'header-flood',
      () => [
        `GET /api/auth/me HTTP/1.1\r\n${h}${`X-Flood: ${'z'.repeat(80)}\r\n`.repeat(rng.pick([250, 1000]))}\r\n`,
      ],
    ],
    [
      'many-tiny-headers',
      () => [`GET /api/auth/me HTTP/1.1\r\n${h}${'a: b\r\n'.repeat(2500)}\r\n`],
    ],
    [
      'one-huge-header',
      () => [
        `GET /api/auth/me HTTP/1.1\r\n${h}X-Big: ${'q'.repeat(rng.pick([16_500, 100_000]))}\r\n\r\n`,
      ],
    ],
    ['obs-fold', () => [`GET /api/auth/me HTTP/1.1\r\n${h}X-A: 1\r\n  continued\r\n\r\n`]],
    ['header-no-colon', () => [`GET /api/auth/me HTTP/1.1\r\n${h}NoColonHere\r\n\r\n`]],
    ['header-empty-name', () => [`GET /api/auth/me HTTP/1.1\r\n${h}: value\r\n\r\n`]],
    ['slow-head', () => [`POST /api/auth/login HTTP/1.1\r\n${h}X-Slow: `]],
    ['slow-body', () => [`${login}Content-Length: 100\r\n\r\n{"email":`]],
    [
      'pipelined',
      () => [
        `GET /api/auth/me HTTP/1.1\r\n${h}\r\n${login}Content-Length: 5\r\n\r\n{bad}GET /.well-known/jwks.json HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
      ],
      3,
      ['GET', 'POST', 'GET'],
    ],
    [
      'pipelined-head',
      () => [
        `HEAD /api/auth/me HTTP/1.1\r\n${h}\r\nHEAD / HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
      ],
      2,
      ['HEAD', 'HEAD'],
    ],
    [
      'expect-unsupported',
      () => [`${login}Expect: 200-ok\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
    ],
    [
      'expect-continue',
      () => [`${login}Expect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
    ],
    [
      'upgrade-websocket',
      () => [
        `GET /api/auth/me HTTP/1.1\r\n${h}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ],
    ],
    [
      'upgrade-h2c',
      () => [
        `GET / HTTP/1.1\r\n${h}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
      ],
    ],
    ['connect', () => [`CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`]],
    [
      'absolute-form',
      () => [`GET http://evil.example/api/auth/me HTTP/1.1\r\nHost: evil.example\r\n\r\n`],
    ],
    ['asterisk-options', () => [`OPTIONS * HTTP/1.1\r\n${h}\r\n`]],
    ['half-close-mid-body', () => [`${login}Content-Length: 200\r\n\r\n{"email":"a`]],
    [
      'byte-by-byte',
      () => {
        const text = `GET /api/auth/me HTTP/1.1\r\n${h}Connection: close\r\n\r\n`;
        return [...text.slice(0, 30), text.slice(30)];
      },
    ],
  ];
  const [name, make, expect, methods] = rng.pick(templates);
  const raw = make();
  return {
    index,
    label: `raw:${name}`,
    kind: 'raw',
    method: '',
    target: '',
    version: '',
    headers: [],
    body: '',
    framing: 'none',
    raw,
    methods: methods ?? [/^HEAD /.test(raw[0] ?? '') ? 'HEAD' : 'GET'],
    expect: expect ?? 1,
    split: 1,
    halfClose: name === 'half-close-mid-body',
    source: rng.int(ctx.sources),
  };
}

/** Case `index` of run `seed`: 80% requests built from the contract, 20% raw bytes. */
export function generateCase(seed: number, index: number, ctx: FuzzContext): FuzzCase {
  const rng = rngOfCase(seed, index);
  return rng.chance(0.2) ? rawCase(index, rng, ctx) : httpCase(index, rng, ctx);
}

function chunked(body: string, style: FuzzCase['chunkStyle'], rng: Rng): string {
  let out = '';
  let at = 0;
  while (at < body.length) {
    const size = Math.min(body.length - at, 1 + rng.int(Math.max(1, Math.min(body.length, 4096))));
    let hex = size.toString(16);
    if (style === 'upper-hex') hex = `000${hex.toUpperCase()}`;
    if (style === 'extensions') hex += ';name=value;x';
    out += `${hex}\r\n${body.slice(at, at + size)}\r\n`;
    at += size;
  }
  return `${out}0\r\n${style === 'trailers' ? 'X-Trailer: 1\r\nContent-Length: 5\r\n' : ''}\r\n`;
}

/** The bytes of a case, in the parts it is written in. */
export function caseBytes(c: FuzzCase): Buffer[] {
  if (c.kind === 'raw') return c.raw.map((part) => Buffer.from(part, 'latin1'));
  const rng = createRng(c.index);
  const headers = [...c.headers];
  let body = c.body;
  const length = Buffer.byteLength(body, 'latin1');
  switch (c.framing) {
    case 'length':
      headers.push(['Content-Length', String(length)]);
      break;
    case 'chunked':
      headers.push(['Transfer-Encoding', 'chunked']);
      body = chunked(body, c.chunkStyle, rng);
      break;
    case 'short':
      headers.push([
        'Content-Length',
        String(Math.max(0, length - 1 - rng.int(Math.max(1, length)))),
      ]);
      break;
    case 'long':
      headers.push(['Content-Length', String(length + 1 + rng.int(100))]);
      break;
    case 'both':
      headers.push(['Content-Length', String(length)], ['Transfer-Encoding', 'chunked']);
      body = chunked(body, 'plain', rng);
      break;
    case 'dup-length':
      headers.push(
        ['Content-Length', String(length)],
        ['Content-Length', String(length + rng.int(2))],
      );
      break;
    case 'bad-length':
      headers.push(['Content-Length', c.badLength ?? 'abc']);
      break;
    case 'none':
      break;
  }
  const head = [`${c.method} ${c.target} ${c.version}`, ...headers.map(([n, v]) => `${n}: ${v}`)];
  const bytes = Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'latin1');
  if (c.split <= 1) return [bytes];
  const parts: Buffer[] = [];
  let at = 0;
  for (let i = 1; i < c.split; i++) {
    const cut = at + rng.int(Math.max(1, bytes.length - at));
    parts.push(bytes.subarray(at, cut));
    at = cut;
  }
  parts.push(bytes.subarray(at));
  return parts.filter((p) => p.length > 0);
}

/** A one-line description of a case for a report: the bytes escaped, long runs elided. */
export function describeCase(c: FuzzCase): string {
  const text = Buffer.concat(caseBytes(c)).toString('latin1');
  const elided = text.replace(/(.)\1{40,}/gs, (run, ch: string) => `${ch}…×${run.length}`);
  const shown = elided.length > 600 ? `${elided.slice(0, 600)}…(${text.length} bytes)` : elided;
  return `${c.label}${c.halfClose ? ' +half-close' : ''}${c.split > 1 ? ` +${c.split} writes` : ''}: ${JSON.stringify(shown)}`;
}
