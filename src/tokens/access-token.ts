import { SignJWT } from 'jose';
import { AuthError, withoutStack } from '../errors.js';
import type { KeySet, TokenKey } from './keys.js';

/** Tokens longer than this (in characters) are refused before anything is decoded. */
export const MAX_ACCESS_TOKEN_LENGTH = 8192;

/** The `typ` header of access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/**
 * The claims of a gatehouse access token (header `{ alg, kid, typ: 'at+jwt' }`).
 *
 * @example
 * ```ts
 * const { claims } = await auth.verifyAccessToken(token);
 * const c: AccessTokenClaims = claims; // { sub, email, role, sid, jti, iat, exp, iss, aud }
 * ```
 */
export interface AccessTokenClaims {
  /** The user id. */
  sub: string;
  email: string;
  role: string;
  /** The session (refresh-token family) id. */
  sid: string;
  /** A unique id of this token. */
  jti: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
  /** Not before, seconds since the epoch (gatehouse does not set it; checked when present). */
  nbf?: number;
  iss: string;
  aud: string | string[];
  readonly [claim: string]: unknown;
}

/**
 * The principal of a verified access token. Frozen: the same object may be returned to several
 * callers from the verified-token cache.
 *
 * @example
 * ```ts
 * const principal: AccessPrincipal = await auth.verifyAccessToken(token);
 * if (principal.role === 'admin') { ... }
 * ```
 */
export interface AccessPrincipal {
  readonly userId: string;
  readonly email: string;
  readonly role: string;
  readonly sessionId: string;
  readonly claims: Readonly<AccessTokenClaims>;
}

/**
 * Why a token was refused; carried (as `cause.message`) by the `AuthError`, logged at debug.
 * Never sent to the client, whose answer is only TOKEN_INVALID or TOKEN_EXPIRED.
 *
 * @example
 * ```ts
 * try {
 *   await auth.verifyAccessToken(token);
 * } catch (err) {
 *   const reason = (err as Error).cause instanceof Error ? (err as Error).cause.message : undefined;
 *   if (reason === ('unknown_kid' satisfies TokenRejection)) metrics.increment('jwt.unknown_kid');
 * }
 * ```
 */
export type TokenRejection =
  | 'not_a_string'
  | 'too_large'
  | 'malformed'
  | 'non_canonical_signature'
  | 'bad_header'
  | 'alg_none'
  | 'header_not_allowed'
  | 'unknown_kid'
  | 'alg_mismatch'
  | 'wrong_typ'
  | 'bad_signature'
  | 'bad_claims'
  | 'wrong_iss'
  | 'wrong_aud'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'expired'
  | 'too_old'
  | 'lifetime_too_long'
  | 'session_ended'
  | 'refresh_malformed'
  | 'refresh_unknown'
  | 'refresh_revoked'
  | 'refresh_reused'
  | 'refresh_expired'
  | 'user_inactive';

/**
 * Builds the error of a refused token: TOKEN_EXPIRED for an expired access token or session,
 * TOKEN_INVALID otherwise. The reason (never the token) is the `cause`'s message.
 *
 * @example
 * ```ts
 * throw tokenRejected('unknown_kid'); // AuthError TOKEN_INVALID, cause.message 'unknown_kid'
 * ```
 */
export function tokenRejected(reason: TokenRejection): AuthError {
  const code =
    reason === 'expired' || reason === 'refresh_expired' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID';
  // A routine refusal: no stack trace to capture (the reason says all a log needs).
  return withoutStack(() => new AuthError(code, undefined, { cause: new Error(reason) }));
}

/** The only header parameters a gatehouse access token may carry. */
const ALLOWED_HEADER = new Set(['alg', 'kid', 'typ']);
/**
 * Header segments already validated, by their exact string. Checking a header is a pure function
 * of that string and the key set, and every token of one key carries the same header, so this
 * saves a decode and a JSON.parse per verification. Bounded: once full, headers are checked
 * without being remembered.
 */
const MAX_REMEMBERED_HEADERS = 64;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The value of a base64url character, or -1 for any other character (including `=`). */
function base64urlValue(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 71; // a-z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  if (code === 45) return 62; // -
  return code === 95 ? 63 : -1; // _
}

/**
 * Checks the signature segment: only base64url characters (no padding), and the one canonical
 * encoding of its bytes (the unused low bits of the last character are zero). Otherwise several
 * strings decode to the same signature, and a re-encoded token could pass for a different one.
 * The header and payload need no such check: the signature covers their exact characters.
 */
function signatureProblem(segment: string): TokenRejection | null {
  let last = 0;
  for (let i = 0; i < segment.length; i++) {
    last = base64urlValue(segment.charCodeAt(i));
    if (last < 0) return 'malformed';
  }
  const rest = segment.length % 4;
  if (rest === 1) return 'malformed';
  if (rest !== 0 && (last & (rest === 2 ? 0x0f : 0x03)) !== 0) return 'non_canonical_signature';
  return null;
}

/**
 * Whether `text[from..to)` is unpadded base64url: only the 64 characters, and a length that is not
 * 1 more than a multiple of 4 (which no byte string encodes to).
 */
function isBase64url(text: string, from: number, to: number): boolean {
  if ((to - from) % 4 === 1) return false;
  for (let i = from; i < to; i++) {
    if (base64urlValue(text.charCodeAt(i)) < 0) return false;
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** What to put in an access token. */
export interface AccessTokenSubject {
  userId: string;
  email: string;
  role: string;
  sessionId: string;
}

/** A successful verification: the principal and when the token stops being accepted (ms). */
export interface VerifiedAccessToken {
  principal: AccessPrincipal;
  /**
   * The earlier of `exp` and `iat` + the access TTL, plus the clock tolerance, in ms: at or after
   * this instant the token is refused.
   */
  acceptUntil: number;
}

/**
 * Signs and strictly verifies access JWTs with a key set. It checks signatures and claims only;
 * the caller checks that the session is still active.
 *
 * @example
 * ```ts
 * const codec = new AccessTokenCodec({ keys, issuer: 'gatehouse', audience: 'gatehouse', toleranceMs: 30_000, maxLifetimeMs: 900_000 });
 * const { token } = await codec.sign({ userId, email, role, sessionId }, { now, ttlMs: 900_000, jti });
 * const { principal } = await codec.verify(token, now);
 * ```
 */
export class AccessTokenCodec {
  readonly #keys: KeySet;
  readonly #issuer: string;
  readonly #audience: string;
  readonly #toleranceMs: number;
  readonly #maxLifetimeMs: number;
  readonly #validHeaders = new Map<string, TokenKey>();

  /**
   * `maxLifetimeMs` is the access TTL: a token whose `exp - iat` exceeds it, or whose `iat` is
   * older than it plus the tolerance, is refused even with a valid signature.
   */
  constructor(options: {
    keys: KeySet;
    issuer: string;
    audience: string;
    toleranceMs: number;
    maxLifetimeMs: number;
  }) {
    this.#keys = options.keys;
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#toleranceMs = options.toleranceMs;
    this.#maxLifetimeMs = options.maxLifetimeMs;
  }

  /**
   * Signs an access token with the active key. `expiresAt` (ms) caps `exp` (e.g. at the end of
   * the session). Returns the token and its lifetime in seconds.
   */
  async sign(
    subject: AccessTokenSubject,
    { now, ttlMs, jti, expiresAt }: { now: number; ttlMs: number; jti: string; expiresAt?: number },
  ): Promise<{ token: string; expiresIn: number }> {
    const key = this.#keys.signing;
    const signKey =
      key.signKey ??
      (await key.ready.then(
        () => key.signKey,
        () => null,
      ));
    if (!signKey) throw new AuthError('SERVER_ERROR', 'The token signing key is not available.');
    const iat = Math.floor(now / 1000);
    let exp = iat + Math.max(1, Math.floor(ttlMs / 1000));
    if (expiresAt !== undefined) exp = Math.min(exp, Math.floor(expiresAt / 1000));
    const token = await new SignJWT({
      email: subject.email,
      role: subject.role,
      sid: subject.sessionId,
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setSubject(subject.userId)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setIssuer(this.#issuer)
      .setAudience(this.#audience)
      .sign(signKey);
    return { token, expiresIn: Math.max(0, exp - iat) };
  }

  /**
   * Verifies a token's structure, header, signature and claims at `now` (ms): the promise form of
   * {@link AccessTokenCodec.verifySync} (same checks, same rejections).
   */
  async verify(token: unknown, now: number): Promise<VerifiedAccessToken> {
    return this.verifySync(token, now);
  }

  /**
   * Verifies a token's structure, header, signature and claims at `now` (ms), synchronously:
   * the signature is checked with node:crypto over the key imported once at construction (no
   * WebCrypto, no promise). Throws {@link tokenRejected} errors.
   *
   * @example
   * ```ts
   * const { principal, acceptUntil } = codec.verifySync(token, Date.now());
   * ```
   */
  verifySync(token: unknown, now: number): VerifiedAccessToken {
    if (typeof token !== 'string') throw tokenRejected('not_a_string');
    if (token.length > MAX_ACCESS_TOKEN_LENGTH) throw tokenRejected('too_large');
    // Exactly three non-empty segments: a JWE (five), four segments or an opaque string fail.
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    if (
      firstDot <= 0 ||
      lastDot <= firstDot + 1 ||
      lastDot === token.length - 1 ||
      token.indexOf('.', firstDot + 1) !== lastDot
    ) {
      throw tokenRejected('malformed');
    }
    const encodedSignature = token.slice(lastDot + 1);
    const problem = signatureProblem(encodedSignature);
    if (problem) throw tokenRejected(problem);
    const key = this.#keyFor(token.slice(0, firstDot));
    // The header and payload are signed as written: only base64url characters (no padding, no
    // whitespace), so the signed bytes are exactly the decoded ones.
    if (!isBase64url(token, firstDot + 1, lastDot)) throw tokenRejected('malformed');
    const signingInput = token.slice(0, lastDot);
    if (!key.verifySignature(signingInput, Buffer.from(encodedSignature, 'base64url'))) {
      throw tokenRejected('bad_signature');
    }
    return this.#checkClaims(Buffer.from(token.slice(firstDot + 1, lastDot), 'base64url'), now);
  }

  #keyFor(encodedHeader: string): TokenKey {
    const known = this.#validHeaders.get(encodedHeader);
    if (known !== undefined) return known;
    const key = this.#checkHeader(encodedHeader);
    if (this.#validHeaders.size < MAX_REMEMBERED_HEADERS)
      this.#validHeaders.set(encodedHeader, key);
    return key;
  }

  #checkHeader(encodedHeader: string): TokenKey {
    if (!isBase64url(encodedHeader, 0, encodedHeader.length)) throw tokenRejected('malformed');
    let header: unknown;
    try {
      header = JSON.parse(decoder.decode(Buffer.from(encodedHeader, 'base64url')));
    } catch {
      throw tokenRejected('bad_header');
    }
    if (!isPlainObject(header)) throw tokenRejected('bad_header');
    const { alg, kid, typ } = header;
    if (typeof alg !== 'string') throw tokenRejected('bad_header');
    if (alg.toLowerCase() === 'none') throw tokenRejected('alg_none');
    // Refuses crit, jwk, jku, x5u, x5c, x5t, cty, enc, zip, b64...: nothing is ever fetched,
    // read or trusted because of a header.
    for (const name in header) {
      if (!ALLOWED_HEADER.has(name)) throw tokenRejected('header_not_allowed');
    }
    if (typeof typ !== 'string') throw tokenRejected('wrong_typ');
    const type = typ.toLowerCase();
    if (type !== ACCESS_TOKEN_TYPE && type !== `application/${ACCESS_TOKEN_TYPE}`) {
      throw tokenRejected('wrong_typ');
    }
    const key = typeof kid === 'string' ? this.#keys.byKid(kid) : undefined;
    if (!key) throw tokenRejected('unknown_kid');
    if (key.alg !== alg) throw tokenRejected('alg_mismatch');
    return key;
  }

  #checkClaims(payload: Uint8Array, now: number): VerifiedAccessToken {
    let claims: unknown;
    try {
      claims = JSON.parse(decoder.decode(payload));
    } catch {
      throw tokenRejected('bad_claims');
    }
    if (!isPlainObject(claims)) throw tokenRejected('bad_claims');
    const { sub, email, role, sid, jti, iat, exp, nbf, iss, aud } = claims;
    if (
      !isNonEmptyString(sub) ||
      typeof email !== 'string' ||
      typeof role !== 'string' ||
      !isNonEmptyString(sid) ||
      !isNonEmptyString(jti) ||
      !isNumericDate(iat) ||
      !isNumericDate(exp) ||
      (nbf !== undefined && !isNumericDate(nbf))
    ) {
      throw tokenRejected('bad_claims');
    }
    if (iss !== this.#issuer) throw tokenRejected('wrong_iss');
    if (aud !== this.#audience && !(Array.isArray(aud) && aud.includes(this.#audience))) {
      throw tokenRejected('wrong_aud');
    }
    const tolerance = this.#toleranceMs;
    if (nbf !== undefined && nbf * 1000 > now + tolerance) throw tokenRejected('not_yet_valid');
    if (iat * 1000 > now + tolerance) throw tokenRejected('issued_in_future');
    if (now >= exp * 1000 + tolerance) throw tokenRejected('expired');
    // A valid signature is not enough: a token minted with a wrong TTL, or with a leaked key, must
    // not live longer than the configured TTL. `iat` and `exp` come from the same (issuer's)
    // clock, so the lifetime gets no tolerance; the age is measured on ours, so it does.
    const ageLimit = iat * 1000 + this.#maxLifetimeMs;
    if (now >= ageLimit + tolerance) throw tokenRejected('too_old');
    if ((exp - iat) * 1000 > this.#maxLifetimeMs) throw tokenRejected('lifetime_too_long');
    const acceptUntil = Math.min(exp * 1000, ageLimit) + tolerance;
    if (Array.isArray(aud)) Object.freeze(aud);
    const frozenClaims = Object.freeze(claims) as Readonly<AccessTokenClaims>;
    const principal: AccessPrincipal = Object.freeze({
      userId: sub,
      email,
      role,
      sessionId: sid,
      claims: frozenClaims,
    });
    return { principal, acceptUntil };
  }
}
