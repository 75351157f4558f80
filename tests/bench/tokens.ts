// Token benchmarks: gatehouse's verify (cache hit, cache miss) and sign against raw jose with the
// same pre-imported key, plus the revocation lookup on the memory store. Run with
// `npm run bench -- tokens` or `npx tsx tests/bench/run.ts tokens`.
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { cryptoRandom, systemClock } from '../../src/runtime.js';
import { MemoryTokenStore } from '../../src/stores/memory-token-store.js';
import type { TokenKeyInput } from '../../src/tokens/keys.js';
import { resolveTokenOptions } from '../../src/tokens/options.js';
import { createTokenService } from '../../src/tokens/service.js';
import { type BenchCase, type BenchResult, printTable, runCases } from './measure.js';

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
      alg: 'HS256',
    },
    {
      label: 'EdDSA',
      keys: [{ kid: 'ed', alg: 'EdDSA', key: ed.privateKey }],
      verifyKey: await webcrypto.subtle.importKey('jwk', edPublic, { name: 'Ed25519' }, false, [
        'verify',
      ]),
      signKey: await webcrypto.subtle.importKey('jwk', edJwk, { name: 'Ed25519' }, false, ['sign']),
      alg: 'EdDSA',
    },
  ];
}

async function casesFor(
  suite: Suite,
): Promise<{ cases: BenchCase[]; names: CaseNames; paired: () => Promise<number> }> {
  const store = new MemoryTokenStore();
  const cachedService = service(suite.keys, 10_000, store);
  const uncachedService = service(suite.keys, 0, store);
  const evictingService = service(suite.keys, 1, store);
  await cachedService.ready();
  const { token, sessionId } = await cachedService.startSession(USER);
  const { token: second } = await cachedService.signAccessToken(USER, sessionId);
  await cachedService.verifyAccessToken(token);

  const n = (what: string) => `${suite.label} ${what}`;
  const names: CaseNames = {
    raw: n('jose.jwtVerify (raw, same key)'),
    hit: n('verifyAccessToken: cache hit'),
    miss: n('verifyAccessToken: miss (cache off)'),
    evict: n('verifyAccessToken: miss (cache on, evicting)'),
    rawSign: n('jose SignJWT.sign (raw, same key)'),
    sign: n('signAccessToken'),
  };
  const verifyOptions = {
    algorithms: [suite.alg],
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: 'at+jwt',
  };
  let flip = false;
  const cases: BenchCase[] = [
    { name: names.raw, fn: () => jwtVerify(token, suite.verifyKey, verifyOptions) },
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
  const paired = () =>
    pairedTimeRatio(
      () => jwtVerify(token, suite.verifyKey, verifyOptions),
      () => uncachedService.verifyAccessToken(token),
    );
  return { cases, names, paired };
}

/**
 * The median time of `ours` over the median time of `baseline`, one call of each interleaved
 * per iteration (alternating which goes first): on a busy machine this pairs each call with a
 * baseline call made under the same load, which round-level alternation cannot do for calls
 * as short as these.
 */
async function pairedTimeRatio(
  baseline: () => Promise<unknown>,
  ours: () => Promise<unknown>,
  iterations = 20_000,
): Promise<number> {
  const times: [number[], number[]] = [[], []];
  const fns = [baseline, ours] as const;
  for (let i = 0; i < 1000; i++) for (const fn of fns) await fn();
  for (let i = 0; i < iterations; i++) {
    for (const which of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const start = process.hrtime.bigint();
      await fns[which]!();
      times[which]!.push(Number(process.hrtime.bigint() - start));
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
  return median(times[1]) / median(times[0]);
}

function ratio(results: Map<string, BenchResult>, a: string, b: string): number {
  return results.get(a)!.opsPerSec / results.get(b)!.opsPerSec;
}

export async function run(): Promise<void> {
  for (const suite of await suites()) {
    const { cases, names, paired } = await casesFor(suite);
    const results = await runCases(cases, { rounds: 15 });
    printTable(`tokens: ${suite.label} verify and sign vs raw jose`, results, [
      { name: names.raw },
      { name: names.hit, baseline: names.raw },
      { name: names.miss, baseline: names.raw },
      { name: names.evict, baseline: names.raw },
      { name: names.rawSign },
      { name: names.sign, baseline: names.rawSign },
    ]);
    const hit = ratio(results, names.hit, names.raw);
    // "A miss no slower than 1.05x raw jose": its time is at most 1.05x jose's.
    const missTime = 1 / ratio(results, names.miss, names.raw);
    const evictTime = 1 / ratio(results, names.evict, names.raw);
    console.log(
      `targets: hit ${hit.toFixed(1)}x raw jose (want >= 50x: ${hit >= 50 ? 'met' : 'MISSED'}); ` +
        `miss time ${missTime.toFixed(3)}x / ${evictTime.toFixed(3)}x raw jose ` +
        `(want <= 1.05x: ${Math.max(missTime, evictTime) <= 1.05 ? 'met' : 'MISSED'})`,
    );
    const pairedMiss = await paired();
    console.log(
      `paired: miss (cache off) median time ${pairedMiss.toFixed(3)}x raw jose over 20000 interleaved calls ` +
        `(want <= 1.05x: ${pairedMiss <= 1.05 ? 'met' : 'MISSED'})`,
    );
  }

  const store = new MemoryTokenStore();
  const revocation = service([{ kid: 'hs', alg: 'HS256', key: SECRET }], 10_000, store);
  const { sessionId } = await revocation.startSession(USER);
  const results = await runCases([
    {
      name: 'MemoryTokenStore.getSession (revocation lookup)',
      fn: () => store.getSession(sessionId),
    },
  ]);
  printTable('tokens: revocation check on the memory store', results, [
    { name: 'MemoryTokenStore.getSession (revocation lookup)' },
  ]);
}
