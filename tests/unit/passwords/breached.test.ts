import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AuthOptions, checkBreachedPassword, type Logger } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { makeAuth } from '../../helpers/auth.js';

const BREACHED = 'mauve lantern orbit pickle';
const CLEAN = 'violet harbour quartz tundra';
const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();

/** What the fake range server received: request lines, headers and every raw byte. */
interface Received {
  path: string;
  headers: IncomingMessage['headers'];
}

type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

/** A padded range answer: random-looking suffixes, padding entries with count 0, then `extra`. */
function rangeBody(extra: string[] = []): string {
  const lines: string[] = [];
  for (let i = 0; i < 50; i++) {
    lines.push(`${sha1(`filler-${i}`).slice(5)}:${i % 5 === 0 ? 0 : i + 1}`);
  }
  return [...lines, ...extra].join('\r\n');
}

let server: Server;
let baseUrl: string;
let behaviour: Behaviour;
const received: Received[] = [];
const rawBytes: Buffer[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push({ path: req.url ?? '', headers: req.headers });
    behaviour(req, res);
  });
  server.on('connection', (socket) => socket.on('data', (chunk: Buffer) => rawBytes.push(chunk)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received.length = 0;
  rawBytes.length = 0;
  behaviour = (req, res) => {
    const prefix = (req.url ?? '').split('/').pop() ?? '';
    const hash = sha1(BREACHED);
    const extra = prefix === hash.slice(0, 5) ? [`${hash.slice(5)}:3730471`] : [];
    res.writeHead(200, { 'content-type': 'text/plain' }).end(rangeBody(extra));
  };
});

function recordingLogger() {
  const warnings: { message: string; data?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    // Only this check's warnings (createAuth also warns about its ephemeral signing key).
    warn: (message, data) => {
      if (message.includes('breached')) warnings.push({ message, data });
    },
    error: () => {},
  };
  return { logger, warnings };
}

function authWith(breached: NonNullable<AuthOptions['passwords']>['breached']) {
  const { logger, warnings } = recordingLogger();
  const { auth } = makeAuth({ logger, passwords: { breached } });
  const register = (password: string) =>
    auth.register({
      email: `u${Math.random().toString(36).slice(2)}@example.com`,
      password,
      name: 'U',
    });
  return { auth, register, warnings };
}

describe('breached-password check (Have I Been Pwned range API)', () => {
  it('breached check sends only the 5-hex prefix of the SHA-1 (k-anonymity)', async () => {
    const { register } = authWith({ onUnavailable: 'refuse', baseUrl });
    await register(CLEAN);
    const hash = sha1(CLEAN);
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toMatch(/^\/range\/[0-9A-F]{5}$/);
    expect(received[0]!.path).toBe(`/range/${hash.slice(0, 5)}`);
    const wire = Buffer.concat(rawBytes).toString('latin1');
    expect(wire).toContain(`/range/${hash.slice(0, 5)}`);
    for (const secret of [CLEAN, hash, hash.slice(5), hash.slice(5, 15), hash.toLowerCase()]) {
      expect(wire).not.toContain(secret);
    }
  });

  it('breached check sends Add-Padding: true so the answer size reveals nothing', async () => {
    const { register } = authWith({ onUnavailable: 'refuse', baseUrl });
    await register(CLEAN);
    expect(received[0]!.headers['add-padding']).toBe('true');
  });

  it('a password found in the range answer is refused as breached', async () => {
    const { register } = authWith({ onUnavailable: 'allow', baseUrl });
    await expect(register(BREACHED)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: 'Password has appeared in a data breach (Have I Been Pwned); choose another.',
      details: { field: 'password', reason: 'breached' },
    });
  });

  it('a padding entry (count 0) for the password’s own suffix does not refuse it', async () => {
    behaviour = (req, res) => {
      const suffix = sha1(CLEAN).slice(5);
      expect(req.url).toBe(`/range/${sha1(CLEAN).slice(0, 5)}`);
      res.writeHead(200).end(rangeBody([`${suffix}:0`]));
    };
    const { register } = authWith({ onUnavailable: 'refuse', baseUrl });
    await expect(register(CLEAN)).resolves.toMatchObject({ role: 'user' });
  });

  it('suffixes are matched case-insensitively and counts below minCount are accepted', async () => {
    behaviour = (_req, res) =>
      res.writeHead(200).end(rangeBody([`${sha1(CLEAN).slice(5).toLowerCase()}:4`]));
    expect(await checkBreachedPassword(CLEAN, { baseUrl })).toEqual({ status: 'found', count: 4 });
    await expect(
      authWith({ onUnavailable: 'refuse', baseUrl, minCount: 5 }).register(CLEAN),
    ).resolves.toBeDefined();
    await expect(
      authWith({ onUnavailable: 'refuse', baseUrl, minCount: 4 }).register(CLEAN),
    ).rejects.toMatchObject({ details: { reason: 'breached' } });
  });

  it('the breached check runs only after the local rules: a too-short password never reaches the network', async () => {
    const { register } = authWith({ onUnavailable: 'refuse', baseUrl });
    await expect(register('short')).rejects.toMatchObject({ details: { reason: 'too_short' } });
    await expect(register('passwordpassword')).rejects.toMatchObject({
      details: { reason: 'common' },
    });
    expect(received).toHaveLength(0);
  });
});

describe('breached-password check when the service is unavailable', () => {
  const hang: Behaviour = () => {
    // never answers: the client's timeout must end the request
  };
  const fail500: Behaviour = (_req, res) => res.writeHead(500).end('oops');

  it.each([
    ['a range server that never answers (timeout)', hang, /did not answer in time/],
    ['a range server answering 500', fail500, /answered 500/],
  ])(
    '%s with onUnavailable allow: the password is accepted and a warning logged',
    async (_, b, reason) => {
      behaviour = b;
      const { register, warnings } = authWith({
        onUnavailable: 'allow',
        baseUrl,
        timeout: '100ms',
      });
      const started = Date.now();
      await expect(register(CLEAN)).resolves.toMatchObject({ role: 'user' });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(/breached-password check unavailable: allowing/);
      expect(warnings[0]!.data).toMatchObject({
        onUnavailable: 'allow',
        reason: expect.stringMatching(reason),
      });
      expect(JSON.stringify(warnings)).not.toContain(sha1(CLEAN).slice(0, 5));
    },
  );

  it.each([
    ['a range server that never answers (timeout)', hang, /did not answer in time/],
    ['a range server answering 500', fail500, /answered 500/],
  ])(
    '%s with onUnavailable refuse: 503 SERVER_ERROR, logged, nothing created',
    async (_, b, reason) => {
      behaviour = b;
      const { auth, warnings } = authWith({ onUnavailable: 'refuse', baseUrl, timeout: '100ms' });
      await expect(
        auth.register({ email: 'ada@example.com', password: CLEAN, name: 'Ada' }),
      ).rejects.toMatchObject({
        code: 'SERVER_ERROR',
        status: 503,
        details: { field: 'password', reason: 'breached_check_unavailable' },
      });
      expect(await auth.findUserByEmail('ada@example.com')).toBeNull();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(/refusing/);
      expect(warnings[0]!.data).toMatchObject({
        onUnavailable: 'refuse',
        reason: expect.stringMatching(reason),
      });
    },
  );

  it('a range server that cannot be reached (connection refused) is unavailable, not a crash', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await checkBreachedPassword(CLEAN, { baseUrl: `http://127.0.0.1:${port}` });
    expect(result).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(/could not be reached \(ECONNREFUSED\)/),
    });
  });

  it('a redirect from the range server is not followed (the prefix goes nowhere else)', async () => {
    behaviour = (req, res) => {
      if (req.url?.startsWith('/elsewhere')) return void res.writeHead(200).end(rangeBody());
      res.writeHead(302, { location: `${baseUrl}/elsewhere${req.url}` }).end();
    };
    const result = await checkBreachedPassword(CLEAN, { baseUrl });
    expect(result.status).toBe('unavailable');
    expect(received.map((r) => r.path)).toEqual([`/range/${sha1(CLEAN).slice(0, 5)}`]);
  });

  it('a hostile range answer over 1 MiB is treated as unavailable, not buffered without bound', async () => {
    behaviour = (_req, res) => {
      res.writeHead(200);
      const line = `${'A'.repeat(35)}:1\r\n`;
      res.end(line.repeat(Math.ceil((2 * 1024 * 1024) / line.length)));
    };
    expect(await checkBreachedPassword(CLEAN, { baseUrl })).toEqual({
      status: 'unavailable',
      reason: 'the answer was too large',
    });
  });
});

describe('passwords.breached options', () => {
  function configError(breached: unknown): string {
    try {
      makeAuth({ passwords: { breached: breached as never } });
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_CONFIG' });
      return (err as Error).message;
    }
    throw new Error('createAuth accepted invalid options');
  }

  it('onUnavailable has no default: omitting it is INVALID_CONFIG naming the option and the choices', () => {
    expect(configError({})).toMatch(
      /passwords\.breached\.onUnavailable: is required: "allow" .* "refuse"/,
    );
    expect(configError({ onUnavailable: 'maybe' })).toMatch(/passwords\.breached\.onUnavailable/);
  });

  it('a plain-http baseUrl to another host is refused (the prefix must not travel in clear)', () => {
    expect(configError({ onUnavailable: 'allow', baseUrl: 'http://pwned.example.com' })).toMatch(
      /passwords\.breached\.baseUrl: must be an https URL/,
    );
    expect(configError({ onUnavailable: 'allow', baseUrl: 'not a url' })).toMatch(/baseUrl/);
    expect(configError({ onUnavailable: 'allow', baseUrl: 'https://u:p@mirror.example' })).toMatch(
      /baseUrl/,
    );
  });

  it('an unbounded timeout (1e308, 1h) is refused, naming passwords.breached.timeout', () => {
    expect(configError({ onUnavailable: 'allow', timeout: 1e308 })).toMatch(
      /passwords\.breached\.timeout/,
    );
    expect(configError({ onUnavailable: 'allow', timeout: '1h' })).toMatch(
      /passwords\.breached\.timeout/,
    );
    expect(configError({ onUnavailable: 'allow', timeout: 0 })).toMatch(
      /passwords\.breached\.timeout/,
    );
  });

  it('defaults: the public API over https, 2 s timeout, minCount 1; no check at all without the option', () => {
    const { auth } = makeAuth({ passwords: { breached: { onUnavailable: 'allow' } } });
    expect(internalsOf(auth).config.passwords.breached).toEqual({
      onUnavailable: 'allow',
      baseUrl: 'https://api.pwnedpasswords.com',
      timeout: 2000,
      minCount: 1,
    });
    expect(internalsOf(makeAuth().auth).config.passwords.breached).toBeUndefined();
  });
});
