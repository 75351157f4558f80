import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  b64json,
  b64url,
  decodeParts,
  forgeHs256,
  HMAC_SECRET,
  keyPairs,
  reasonOf,
  refusal,
  tokenSetup,
} from './fixtures.js';

const TYP = 'at+jwt';

/** A genuine token's parts, to build attacks that differ from it in one thing only. */
async function genuine(setup = tokenSetup()) {
  const { token, sessionId } = await setup.service.startSession(setup.user);
  const { header, claims } = decodeParts(token);
  return { ...setup, token, sessionId, header, claims };
}

async function expectRefused(
  verify: Promise<unknown>,
  reason: string,
  code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED' = 'TOKEN_INVALID',
) {
  const err = await refusal(verify);
  expect(err.code).toBe(code);
  expect(reasonOf(err)).toBe(reason);
}

describe('access token attacks', () => {
  it('accepts the genuine token the attacks below are derived from', async () => {
    const { service, token, claims } = await genuine();
    const principal = await service.verifyAccessToken(token);
    expect(principal.userId).toBe(claims['sub']);
  });

  describe('alg none', () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      it(`refuses alg "${alg}" with an empty signature`, async () => {
        const { service, claims } = await genuine();
        const token = `${b64json({ alg, kid: 'hs-1', typ: TYP })}.${b64json(claims)}.`;
        const err = await refusal(service.verifyAccessToken(token));
        expect(err.code).toBe('TOKEN_INVALID');
      });

      it(`refuses alg "${alg}" even with a signature segment present`, async () => {
        const { service, claims } = await genuine();
        const token = forgeHs256({ alg, kid: 'hs-1', typ: TYP }, claims, HMAC_SECRET);
        await expectRefused(service.verifyAccessToken(token), 'alg_none');
      });
    }
  });

  describe('algorithm confusion: HS256 signed with a public key as the HMAC secret', () => {
    const pairs = keyPairs();
    const setup = () =>
      tokenSetup(
        {},
        {
          keys: [
            { kid: 'rs-1', alg: 'RS256', key: pairs.rsa.privateKey },
            { kid: 'ed-1', alg: 'EdDSA', key: pairs.ed25519.privateKey },
          ],
        },
      );
    const cases = [
      ['RS256', 'rs-1', pairs.rsa.publicKey],
      ['EdDSA', 'ed-1', pairs.ed25519.publicKey],
    ] as const;
    for (const [alg, kid, publicKey] of cases) {
      it(`refuses HS256 signed with the ${alg} public key as PEM`, async () => {
        const { service, claims } = await genuine(setup());
        const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
        const token = forgeHs256({ alg: 'HS256', kid, typ: TYP }, claims, pem);
        await expectRefused(service.verifyAccessToken(token), 'alg_mismatch');
      });

      it(`refuses HS256 signed with the ${alg} public key as JWK`, async () => {
        const { service, claims } = await genuine(setup());
        const jwk = JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid, alg });
        const token = forgeHs256({ alg: 'HS256', kid, typ: TYP }, claims, jwk);
        await expectRefused(service.verifyAccessToken(token), 'alg_mismatch');
      });
    }

    it('refuses a token whose alg differs from its key’s bound algorithm (HS512 on an HS256 kid)', async () => {
      const { service, claims } = await genuine();
      const input = `${b64json({ alg: 'HS512', kid: 'hs-1', typ: TYP })}.${b64json(claims)}`;
      const { createHmac } = await import('node:crypto');
      const token = `${input}.${createHmac('sha512', HMAC_SECRET).update(input).digest('base64url')}`;
      await expectRefused(service.verifyAccessToken(token), 'alg_mismatch');
    });
  });

  describe('keys named by the token', () => {
    it('refuses an embedded jwk header (attacker secret)', async () => {
      const { service, claims } = await genuine();
      const attacker = 'attacker-controlled-secret-of-32-bytes!!';
      const header = {
        alg: 'HS256',
        kid: 'hs-1',
        typ: TYP,
        jwk: { kty: 'oct', k: b64url(attacker) },
      };
      await expectRefused(
        service.verifyAccessToken(forgeHs256(header, claims, attacker)),
        'header_not_allowed',
      );
    });

    it('refuses an embedded jwk header (attacker Ed25519 key)', async () => {
      const attacker = generateKeyPairSync('ed25519');
      const setup = tokenSetup(
        {},
        { keys: [{ kid: 'ed-1', alg: 'EdDSA', key: generateKeyPairSync('ed25519').privateKey }] },
      );
      const { service, claims } = await genuine(setup);
      const header = {
        alg: 'EdDSA',
        kid: 'ed-1',
        typ: TYP,
        jwk: attacker.publicKey.export({ format: 'jwk' }),
      };
      const input = `${b64json(header)}.${b64json(claims)}`;
      const token = `${input}.${b64url(nodeSign(null, Buffer.from(input), attacker.privateKey))}`;
      await expectRefused(service.verifyAccessToken(token), 'header_not_allowed');
    });

    it('refuses an x5c header', async () => {
      const { service, claims } = await genuine();
      const header = { alg: 'HS256', kid: 'hs-1', typ: TYP, x5c: ['MIIBszCCAVmgAwIBAgIU'] };
      await expectRefused(
        service.verifyAccessToken(forgeHs256(header, claims, HMAC_SECRET)),
        'header_not_allowed',
      );
    });

    describe('jku and x5u never cause network access', () => {
      let server: ReturnType<typeof createServer>;
      let requests = 0;
      let url = '';
      const realFetch = globalThis.fetch;

      beforeEach(async () => {
        requests = 0;
        server = createServer((_req, res) => {
          requests++;
          res.end('{"keys":[]}');
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
        globalThis.fetch = vi.fn(() => Promise.reject(new Error('network access is forbidden')));
      });

      afterEach(async () => {
        globalThis.fetch = realFetch;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });

      for (const member of ['jku', 'x5u']) {
        it(`refuses a ${member} header without fetching it`, async () => {
          const { service, claims } = await genuine();
          const header = { alg: 'HS256', kid: 'hs-1', typ: TYP, [member]: url };
          await expectRefused(
            service.verifyAccessToken(forgeHs256(header, claims, HMAC_SECRET)),
            'header_not_allowed',
          );
          await new Promise((resolve) => setTimeout(resolve, 20));
          expect(requests).toBe(0);
          expect(globalThis.fetch).not.toHaveBeenCalled();
        });
      }
    });

    const kids: [string, string][] = [
      ['a path traversal kid "../../dev/null"', '../../dev/null'],
      ['an empty kid ""', ''],
      ['an SQL-looking kid', "x' UNION SELECT 'secret' --"],
      ['another SQL-looking kid', '1; DROP TABLE keys; --'],
      ['an unknown kid', 'hs-2'],
      ['a prototype kid "__proto__"', '__proto__'],
    ];
    for (const [what, kid] of kids) {
      it(`refuses ${what}`, async () => {
        const { service, claims } = await genuine();
        const token = forgeHs256({ alg: 'HS256', kid, typ: TYP }, claims, HMAC_SECRET);
        await expectRefused(service.verifyAccessToken(token), 'unknown_kid');
      });
    }

    it('refuses a "../../dev/null" kid signed with an empty HMAC key', async () => {
      const { service, claims } = await genuine();
      const token = forgeHs256({ alg: 'HS256', kid: '../../dev/null', typ: TYP }, claims, '');
      await expectRefused(service.verifyAccessToken(token), 'unknown_kid');
    });

    it('refuses a token without a kid', async () => {
      const { service, claims } = await genuine();
      const token = forgeHs256({ alg: 'HS256', typ: TYP }, claims, HMAC_SECRET);
      await expectRefused(service.verifyAccessToken(token), 'unknown_kid');
    });
  });

  describe('tampered structure and signature', () => {
    it('refuses an empty signature', async () => {
      const { service, token } = await genuine();
      const stripped = token.slice(0, token.lastIndexOf('.') + 1);
      await expectRefused(service.verifyAccessToken(stripped), 'malformed');
    });

    it('refuses a truncated signature', async () => {
      const { service, token } = await genuine();
      const err = await refusal(service.verifyAccessToken(token.slice(0, -3)));
      expect(err.code).toBe('TOKEN_INVALID');
      expect(reasonOf(err)).toBe('bad_signature');
    });

    it('refuses a token with one payload bit flipped', async () => {
      const { service, token } = await genuine();
      const [h, p, s] = token.split('.');
      const payload = Buffer.from(p!, 'base64url');
      payload[10] = payload[10]! ^ 0x01;
      await expectRefused(
        service.verifyAccessToken(`${h}.${payload.toString('base64url')}.${s}`),
        'bad_signature',
      );
    });

    it('refuses padding or stray characters added to the header or payload segment', async () => {
      const { service, token } = await genuine();
      const [h, p, sig] = token.split('.');
      for (const forged of [`${h}=.${p}.${sig}`, `${h}.${p}=.${sig}`, `${h}.${p} .${sig}`]) {
        expect((await refusal(service.verifyAccessToken(forged))).code).toBe('TOKEN_INVALID');
      }
    });

    it('refuses padding on the signature segment', async () => {
      const { service, token } = await genuine();
      await expectRefused(service.verifyAccessToken(`${token}=`), 'malformed');
    });

    it('refuses four segments', async () => {
      const { service, token } = await genuine();
      await expectRefused(
        service.verifyAccessToken(`${token}.${token.split('.')[2]}`),
        'malformed',
      );
    });

    it('refuses a JWE (five segments)', async () => {
      const { service } = await genuine();
      const jwe = `${b64json({ alg: 'dir', enc: 'A256GCM', kid: 'hs-1' })}..${b64url('iv')}.${b64url('ct')}.${b64url('tag')}`;
      await expectRefused(service.verifyAccessToken(jwe), 'malformed');
    });

    it('refuses an ES256 signature of all zero bytes', async () => {
      const { p256 } = keyPairs();
      const setup = tokenSetup({}, { keys: [{ kid: 'es-1', alg: 'ES256', key: p256.privateKey }] });
      const { service, token } = await genuine(setup);
      const forged = `${token.slice(0, token.lastIndexOf('.'))}.${b64url(new Uint8Array(64))}`;
      await expectRefused(service.verifyAccessToken(forged), 'bad_signature');
    });

    it('refuses a header that is not JSON', async () => {
      const { service, token } = await genuine();
      const forged = `${b64url('not json')}${token.slice(token.indexOf('.'))}`;
      await expectRefused(service.verifyAccessToken(forged), 'bad_header');
    });

    it('refuses a 9 KiB token before decoding it', async () => {
      const { service, claims } = await genuine();
      const token = forgeHs256(
        { alg: 'HS256', kid: 'hs-1', typ: TYP },
        { ...claims, padding: 'x'.repeat(9 * 1024) },
        HMAC_SECRET,
      );
      await expectRefused(service.verifyAccessToken(token), 'too_large');
    });

    it('refuses a value that is not a string', async () => {
      const { service } = await genuine();
      await expectRefused(service.verifyAccessToken(42 as unknown as string), 'not_a_string');
    });
  });

  describe('header parameters', () => {
    it('refuses a crit header', async () => {
      const { service, claims } = await genuine();
      const header = { alg: 'HS256', kid: 'hs-1', typ: TYP, crit: ['exp'] };
      await expectRefused(
        service.verifyAccessToken(forgeHs256(header, claims, HMAC_SECRET)),
        'header_not_allowed',
      );
    });

    it('refuses cty "JWT" (a nested token)', async () => {
      const { service, claims } = await genuine();
      const header = { alg: 'HS256', kid: 'hs-1', typ: TYP, cty: 'JWT' };
      await expectRefused(
        service.verifyAccessToken(forgeHs256(header, claims, HMAC_SECRET)),
        'header_not_allowed',
      );
    });

    it('refuses a wrong typ ("JWT")', async () => {
      const { service, claims } = await genuine();
      const token = forgeHs256({ alg: 'HS256', kid: 'hs-1', typ: 'JWT' }, claims, HMAC_SECRET);
      await expectRefused(service.verifyAccessToken(token), 'wrong_typ');
    });

    it('refuses a missing typ', async () => {
      const { service, claims } = await genuine();
      const token = forgeHs256({ alg: 'HS256', kid: 'hs-1' }, claims, HMAC_SECRET);
      await expectRefused(service.verifyAccessToken(token), 'wrong_typ');
    });

    it('accepts typ "application/at+jwt" (RFC 9068 long form)', async () => {
      const { service, claims } = await genuine();
      const token = forgeHs256(
        { alg: 'HS256', kid: 'hs-1', typ: 'application/at+jwt' },
        claims,
        HMAC_SECRET,
      );
      await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
    });
  });

  describe('claims', () => {
    async function withClaims(change: (claims: Record<string, unknown>) => void, options = {}) {
      const setup = await genuine(tokenSetup(options));
      const claims = { ...setup.claims };
      change(claims);
      const token = forgeHs256({ alg: 'HS256', kid: 'hs-1', typ: TYP }, claims, HMAC_SECRET);
      return { ...setup, forged: token };
    }

    it('refuses a token expired by 1 s (no tolerance)', async () => {
      const { service, clock, token, claims } = await genuine();
      clock.set((claims['exp'] as number) * 1000 + 1000);
      await expectRefused(service.verifyAccessToken(token), 'expired', 'TOKEN_EXPIRED');
    });

    it('accepts a token 1 s before the end of the clock tolerance', async () => {
      const { service, clock, token, claims } = await genuine(
        tokenSetup({ clockTolerance: '30s' }),
      );
      clock.set((claims['exp'] as number) * 1000 + 29_000);
      await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('refuses a token 1 s past the end of the clock tolerance', async () => {
      const { service, clock, token, claims } = await genuine(
        tokenSetup({ clockTolerance: '30s' }),
      );
      clock.set((claims['exp'] as number) * 1000 + 31_000);
      await expectRefused(service.verifyAccessToken(token), 'expired', 'TOKEN_EXPIRED');
    });

    it('refuses nbf in the future', async () => {
      const { service, forged } = await withClaims((c) => {
        c['nbf'] = (c['iat'] as number) + 120;
      });
      await expectRefused(service.verifyAccessToken(forged), 'not_yet_valid');
    });

    it('accepts nbf in the future by less than the clock tolerance', async () => {
      const { service, forged } = await withClaims(
        (c) => {
          c['nbf'] = (c['iat'] as number) + 20;
        },
        { clockTolerance: '30s' },
      );
      await expect(service.verifyAccessToken(forged)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('refuses iat in the future', async () => {
      const { service, forged } = await withClaims((c) => {
        c['iat'] = (c['iat'] as number) + 120;
      });
      await expectRefused(service.verifyAccessToken(forged), 'issued_in_future');
    });

    it('refuses a missing exp', async () => {
      const { service, forged } = await withClaims((c) => {
        delete c['exp'];
      });
      await expectRefused(service.verifyAccessToken(forged), 'bad_claims');
    });

    it('refuses exp as a string', async () => {
      const { service, forged } = await withClaims((c) => {
        c['exp'] = String(c['exp']);
      });
      await expectRefused(service.verifyAccessToken(forged), 'bad_claims');
    });

    for (const claim of ['iat', 'sub', 'sid', 'jti']) {
      it(`refuses a missing ${claim}`, async () => {
        const { service, forged } = await withClaims((c) => {
          delete c[claim];
        });
        await expectRefused(service.verifyAccessToken(forged), 'bad_claims');
      });
    }

    it('refuses a missing iss', async () => {
      const { service, forged } = await withClaims((c) => {
        delete c['iss'];
      });
      await expectRefused(service.verifyAccessToken(forged), 'wrong_iss');
    });

    it('refuses a wrong iss', async () => {
      const { service, forged } = await withClaims((c) => {
        c['iss'] = 'https://evil.example';
      });
      await expectRefused(service.verifyAccessToken(forged), 'wrong_iss');
    });

    it('refuses a missing aud', async () => {
      const { service, forged } = await withClaims((c) => {
        delete c['aud'];
      });
      await expectRefused(service.verifyAccessToken(forged), 'wrong_aud');
    });

    it('refuses a wrong aud', async () => {
      const { service, forged } = await withClaims((c) => {
        c['aud'] = 'another-api';
      });
      await expectRefused(service.verifyAccessToken(forged), 'wrong_aud');
    });

    it('refuses a payload that is a JSON array', async () => {
      const { service } = await genuine();
      const token = forgeHs256({ alg: 'HS256', kid: 'hs-1', typ: TYP }, [1, 2], HMAC_SECRET);
      await expectRefused(service.verifyAccessToken(token), 'bad_claims');
    });

    it('refuses a correctly signed token for a session that never existed', async () => {
      const { service, forged } = await withClaims((c) => {
        c['sid'] = '00000000-0000-4000-8000-000000000000';
      });
      await expectRefused(service.verifyAccessToken(forged), 'session_ended');
    });

    it('refuses a token whose sub does not own its sid', async () => {
      const { service, forged } = await withClaims((c) => {
        c['sub'] = 'user-2';
      });
      await expectRefused(service.verifyAccessToken(forged), 'session_ended');
    });
  });

  describe('revoked tokens re-encoded', () => {
    it('refuses a revoked token re-sent with a trailing "="', async () => {
      const { service, token, sessionId } = await genuine();
      await service.verifyAccessToken(token);
      await service.logout(sessionId);
      const err = await refusal(service.verifyAccessToken(`${token}=`));
      expect(err.code).toBe('TOKEN_INVALID');
    });

    it('refuses a revoked token re-sent with a changed last signature character', async () => {
      const { service, token, sessionId } = await genuine();
      await service.verifyAccessToken(token);
      await service.logout(sessionId);
      // HS256: 43 characters, the last one carries 2 unused bits; '...A' -> '...B' decodes alike.
      const last = token.at(-1)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
      const err = await refusal(service.verifyAccessToken(token.slice(0, -1) + sibling));
      expect(err.code).toBe('TOKEN_INVALID');
    });

    it('refuses a non-canonical signature encoding outright, revoked or not', async () => {
      const { service, token } = await genuine();
      const last = token.at(-1)!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
      await expectRefused(
        service.verifyAccessToken(token.slice(0, -1) + sibling),
        'non_canonical_signature',
      );
    });

    it('refuses by sid: a never-seen token of a revoked session is refused too', async () => {
      const { service, user, sessionId } = await genuine();
      await service.logout(sessionId);
      const { token: fresh } = await service.signAccessToken(user, sessionId);
      await expectRefused(service.verifyAccessToken(fresh), 'session_ended');
    });
  });

  describe('refresh tokens and access tokens are not interchangeable', () => {
    it('refuses a refresh token presented as an access token', async () => {
      const { service, user } = tokenSetup();
      const { refreshToken } = await service.startSession(user);
      await expectRefused(service.verifyAccessToken(refreshToken), 'malformed');
    });

    it('refuses an access token presented as a refresh token', async () => {
      const { service, user } = tokenSetup();
      const { token } = await service.startSession(user);
      await expectRefused(service.refresh(token), 'refresh_malformed');
    });
  });
});
