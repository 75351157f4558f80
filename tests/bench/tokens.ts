// Token micro-benchmarks, in process and sequential: gatehouse's verify (cache hit, cache miss)
// and sign against raw jose with the same pre-imported key and against fast-jwt (the verifier of
// @fastify/jwt, synchronous node:crypto) when it resolves, plus the revocation lookup on the
// memory store. Run alone with `npm run bench -- tokens`.
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { cryptoRandom, systemClock } from '../../src/runtime.js';
import { MemoryTokenStore } from '../../src/stores/memory-token-store.js';
import type { TokenKeyInput } from '../../src/tokens/keys.js';
import { resolveTokenOptions } from '../../src/tokens/options.js';
import { createTokenService } from '../../src/tokens/service.js';
import { type BenchCase, figuresOf, ratioFigure, runCases } from './measure.js';
import { type BenchContext, type Figure, figureOf, type SuiteResult } from './report.js';

type SyncVerifier = (token: string) => unknown;
type FastJwt = {
  createVerifier(options: {
    key: string | Buffer;
    algorithms: string[];
    allowedIss: string;
    allowedAud: string;
    cache: boolean;
  }): SyncVerifier;
};

/** fast-jwt (a dependency of @fastify/jwt), or null when it does not resolve. */
async function loadFastJwt(): Promise<FastJwt | null> {
  try {
    const specifier = 'fast-jwt';
    return (await import(specifier)) as FastJwt;
  } catch {
    return null;
  }
}

const SECRET = new Uint8Array(32).fill(7);
const ISSUER = 'gatehouse';
const AUDIENCE = 'gatehouse';
const USER = { id: 'user-1', email: 'ada@example.com', role: 'user' };

function service(keys: TokenKeyInput[], verifiedCacheSize: number, store = new MemoryTokenStore()) {
  return createTokenService({
    options: resolveTokenOptions({ keys, verifiedCacheSize, issuer: ISSUER, audience: AUDIENCE }),
    store,
    users: { findById: async () => null },
    clock: systemClock,
    random: cryptoRandom,
    audit: { emit() {} },
  });
}

interface CaseNames {
  raw: string;
  fastJwt: string | null;
  hit: string;
  miss: string;
  evict: string;
  rawSign: string;
  sign: string;
}

interface Suite {
  label: string;
  keys: TokenKeyInput[];
  /** The same key, imported once, for raw jose. */
  verifyKey: webcrypto.CryptoKey;
  signKey: webcrypto.CryptoKey;
  /** The same key for fast-jwt (secret bytes or a public PEM). */
  fastJwtKey: string | Buffer;
  alg: string;
}

async function suites(): Promise<Suite[]> {
  const hmac = await webcrypto.subtle.importKey(
    'raw',
    SECRET,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
  const ed = generateKeyPairSync('ed25519');
  const edJwk = ed.privateKey.export({ format: 'jwk' });
  const edPublic = ed.publicKey.export({ format: 'jwk' });
  return [
    {
      label: 'HS256',
      keys: [{ kid: 'hs', alg: 'HS256', key: SECRET }],
      verifyKey: hmac,
      signKey: hmac,
      fastJwtKey: Buffer.from(SECRET),
      alg: 'HS256',
    },
    {
      label: 'EdDSA',
      keys: [{ kid: 'ed', alg: 'EdDSA', key: ed.privateKey }],
      verifyKey: await webcrypto.subtle.importKey('jwk', edPublic, { name: 'Ed25519' }, false, [
        'verify',
      ]),
      signKey: await webcrypto.subtle.importKey('jwk', edJwk, { name: 'Ed25519' }, false, ['sign']),
      fastJwtKey: ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      alg: 'EdDSA',
    },
  ];
}

interface Prepared {
  cases: BenchCase[];
  names: CaseNames;
  /** The miss path (cache off) and its baselines, for paired timing. */
  miss: () => Promise<unknown>;
  raw: () => Promise<unknown>;
  fastJwt: (() => unknown) | null;
}

async function casesFor(suite: Suite, fastJwt: FastJwt | null): Promise<Prepared> {
  const store = new MemoryTokenStore();
  const cachedService = service(suite.keys, 10_000, store);
  const uncachedService = service(suite.keys, 0, store);
  const evictingService = service(suite.keys, 1, store);
  await cachedService.ready();
  const { token, sessionId } = await cachedService.startSession(USER);
  const { token: second } = await cachedService.signAccessToken(USER, sessionId);
  await cachedService.verifyAccessToken(token);

  const verifyOptions = {
    algorithms: [suite.alg],
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: 'at+jwt',
  };
  const fastVerify = fastJwt?.createVerifier({
    key: suite.fastJwtKey,
    algorithms: [suite.alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    cache: false,
  });
  // Every verifier must accept the token before it is timed.
  await jwtVerify(token, suite.verifyKey, verifyOptions);
  fastVerify?.(token);
  await uncachedService.verifyAccessToken(token);

  const names: CaseNames = {
    raw: 'jose.jwtVerify (raw, same key)',
    fastJwt: fastVerify ? 'fast-jwt verify (sync, cache off)' : null,
    hit: 'verifyAccessToken: cache hit',
    miss: 'verifyAccessToken: miss (cache off)',
    evict: 'verifyAccessToken: miss (cache on, evicting)',
    rawSign: 'jose SignJWT.sign (raw, same key)',
    sign: 'signAccessToken',
  };
  let flip = false;
  const cases: BenchCase[] = [
    { name: names.raw, fn: () => jwtVerify(token, suite.verifyKey, verifyOptions) },
    ...(fastVerify && names.fastJwt ? [{ name: names.fastJwt, fn: () => fastVerify(token) }] : []),
    { name: names.hit, fn: () => cachedService.verifyAccessToken(token) },
    { name: names.miss, fn: () => uncachedService.verifyAccessToken(token) },
    {
      name: names.evict,
      fn: () => {
        flip = !flip;
        return evictingService.verifyAccessToken(flip ? token : second);
      },
    },
    {
      name: names.rawSign,
      fn: () =>
        new SignJWT({ email: USER.email, role: USER.role, sid: sessionId })
          .setProtectedHeader({ alg: suite.alg, kid: 'k', typ: 'at+jwt' })
          .setSubject(USER.id)
          .setJti('jti-0123456789abcdef')
          .setIssuedAt()
          .setExpirationTime('15m')
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .sign(suite.signKey),
    },
    { name: names.sign, fn: () => cachedService.signAccessToken(USER, sessionId) },
  ];
  return {
    cases,
    names,
    miss: () => uncachedService.verifyAccessToken(token),
    raw: () => jwtVerify(token, suite.verifyKey, verifyOptions),
    fastJwt: fastVerify ? () => fastVerify(token) : null,
  };
}

/**
 * The median time of `ours` over the median time of `baseline`, one call of each interleaved
 * per iteration (alternating which goes first), in `blocks` blocks: one ratio per block. On a
 * busy machine this pairs each call with a baseline call made under the same load, which
 * round-level alternation cannot do for calls as short as these.
 */
export async function pairedTimeRatios(
  baseline: () => unknown,
  ours: () => unknown,
  { blocks, iterations }: { blocks: number; iterations: number },
): Promise<number[]> {
  const fns = [baseline, ours] as const;
  const call = async (fn: () => unknown) => {
    const r = fn();
    if (r instanceof Promise) await r;
  };
  for (let i = 0; i < 500; i++) for (const fn of fns) await call(fn);
  const ratios: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const times: [number[], number[]] = [[], []];
    for (let i = 0; i < iterations; i++) {
      for (const which of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const start = process.hrtime.bigint();
        await call(fns[which]!);
        times[which]!.push(Number(process.hrtime.bigint() - start));
      }
    }
    const median = (values: number[]) => values.sort((x, y) => x - y)[values.length >> 1]!;
    ratios.push(median(times[1]) / median(times[0]));
  }
  return ratios;
}

export async function run(ctx: BenchContext): Promise<SuiteResult> {
  const rounds = ctx.quick ? { rounds: 5, roundSeconds: 0.08 } : { rounds: 15, roundSeconds: 0.15 };
  const paired = ctx.quick ? { blocks: 3, iterations: 600 } : { blocks: 5, iterations: 4000 };
  const fastJwt = await loadFastJwt();
  const figures: Figure[] = [];
  const notes: string[] = [
    `sequential calls in one process, ${rounds.rounds} alternating rounds; "time ratio" figures are paired medians (${paired.blocks} blocks of ${paired.iterations} interleaved calls each; below 1 is faster than the baseline).`,
  ];
  if (!fastJwt) notes.push('fast-jwt does not resolve: its figures are left out.');
  for (const suite of await suites()) {
    ctx.log(`tokens: ${suite.label}`);
    const prepared = await casesFor(suite, fastJwt);
    const { names } = prepared;
    const results = await runCases(prepared.cases, rounds);
    const prefix = `${suite.label} `;
    figures.push(
      ...figuresOf(
        results,
        prepared.cases.map((c) => c.name),
        prefix,
      ),
      ratioFigure(`${prefix}cache hit / raw jose`, results, names.hit, names.raw),
      ratioFigure(`${prefix}miss (cache off) / raw jose`, results, names.miss, names.raw),
      ...(names.fastJwt
        ? [ratioFigure(`${prefix}miss (cache off) / fast-jwt`, results, names.miss, names.fastJwt)]
        : []),
      ratioFigure(`${prefix}sign / raw jose`, results, names.sign, names.rawSign),
    );
    ctx.log(`tokens: ${suite.label} paired timing`);
    figures.push(
      figureOf(
        `${prefix}miss time / raw jose time (paired)`,
        'x',
        await pairedTimeRatios(prepared.raw, prepared.miss, paired),
      ),
    );
    if (prepared.fastJwt) {
      figures.push(
        figureOf(
          `${prefix}miss time / fast-jwt time (paired)`,
          'x',
          await pairedTimeRatios(prepared.fastJwt, prepared.miss, paired),
        ),
      );
    }
  }

  const store = new MemoryTokenStore();
  const revocation = service([{ kid: 'hs', alg: 'HS256', key: SECRET }], 10_000, store);
  const { sessionId } = await revocation.startSession(USER);
  const lookup = 'MemoryTokenStore.getSession (revocation lookup)';
  const results = await runCases([{ name: lookup, fn: () => store.getSession(sessionId) }], rounds);
  figures.push(...figuresOf(results, [lookup]));
  return {
    suite: 'tokens',
    title: 'Tokens: verify and sign vs raw jose and fast-jwt (in process)',
    figures,
    targets: [],
    notes,
  };
}
