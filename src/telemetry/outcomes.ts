// How the core's errors fold into the small, documented attribute values of the metrics
// (docs/observability.md): a few values per attribute, never a message, id or address.
import { isAuthError } from '../errors.js';
import type { TokenRejection } from '../tokens/access-token.js';
import type { LoginOutcome, RefreshOutcome, VerificationRejectReason } from './telemetry.js';

/** `gatehouse.token.verifications {reason}` of each `TokenRejection`. */
const REJECTION_REASONS: Readonly<Record<TokenRejection, VerificationRejectReason>> = {
  not_a_string: 'malformed',
  too_large: 'malformed',
  malformed: 'malformed',
  bad_header: 'malformed',
  bad_claims: 'malformed',
  non_canonical_signature: 'invalid_signature',
  bad_signature: 'invalid_signature',
  unknown_kid: 'unknown_key',
  alg_none: 'forbidden_header',
  header_not_allowed: 'forbidden_header',
  alg_mismatch: 'forbidden_header',
  wrong_typ: 'forbidden_header',
  wrong_iss: 'invalid_claims',
  wrong_aud: 'invalid_claims',
  not_yet_valid: 'invalid_claims',
  issued_in_future: 'invalid_claims',
  lifetime_too_long: 'invalid_claims',
  expired: 'expired',
  too_old: 'expired',
  refresh_expired: 'expired',
  session_ended: 'revoked',
  refresh_revoked: 'revoked',
  refresh_reused: 'revoked',
  refresh_malformed: 'malformed',
  refresh_unknown: 'malformed',
  user_inactive: 'revoked',
};

/** `gatehouse.refresh {outcome}` of each refusal reason a refresh can end with. */
const REFRESH_OUTCOMES: Partial<Record<TokenRejection, RefreshOutcome>> = {
  refresh_reused: 'reuse_detected',
  refresh_expired: 'expired',
  refresh_revoked: 'revoked',
  refresh_malformed: 'invalid',
  refresh_unknown: 'invalid',
  user_inactive: 'user_inactive',
};

/** The `TokenRejection` an error carries (`tokenRejected`'s cause), or undefined. */
function rejectionOf(err: unknown): TokenRejection | undefined {
  if (!isAuthError(err) || (err.code !== 'TOKEN_INVALID' && err.code !== 'TOKEN_EXPIRED')) {
    return undefined;
  }
  const cause = (err as Error).cause;
  const reason = cause instanceof Error ? cause.message : undefined;
  return reason !== undefined && Object.hasOwn(REJECTION_REASONS, reason)
    ? (reason as TokenRejection)
    : undefined;
}

/**
 * The `reason` of a refused access token: the rejection's documented group, or `unavailable`
 * when the refusal is not a token rejection (the session state could not be read).
 */
export function verificationRejectReason(err: unknown): VerificationRejectReason {
  const rejection = rejectionOf(err);
  return rejection === undefined ? 'unavailable' : REJECTION_REASONS[rejection];
}

/** The `outcome` of a failed refresh. */
export function refreshOutcomeOf(err: unknown): RefreshOutcome {
  const rejection = rejectionOf(err);
  if (rejection !== undefined) return REFRESH_OUTCOMES[rejection] ?? 'invalid';
  return isAuthError(err) && err.code === 'RATE_LIMITED' ? 'rate_limited' : 'server_error';
}

/** The `outcome` of a failed login. */
export function loginOutcomeOf(err: unknown): LoginOutcome {
  if (!isAuthError(err)) return 'server_error';
  switch (err.code) {
    case 'INVALID_CREDENTIALS':
      return 'invalid_credentials';
    case 'ACCOUNT_LOCKED':
      return 'locked';
    case 'RATE_LIMITED':
      return 'rate_limited';
    case 'VALIDATION_ERROR':
      return 'validation_error';
    case 'EMAIL_NOT_VERIFIED':
      return 'email_not_verified';
    case 'MFA_REQUIRED':
      return 'mfa_required';
    case 'MFA_ENROLLMENT_REQUIRED':
      return 'mfa_enrollment_required';
    case 'MFA_INVALID_CODE':
    case 'MFA_CHALLENGE_INVALID':
      return 'mfa_failed';
    case 'MFA_LOCKED':
      return 'locked';
    default:
      return 'server_error';
  }
}

/**
 * The `error.type` of a failed span: the AuthError code, or the error's class name (`Error`,
 * `TypeError`), never its message (which may quote input).
 */
export function errorTypeOf(err: unknown): string {
  if (isAuthError(err)) return err.code;
  if (err instanceof Error)
    return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(err.name) ? err.name : 'Error';
  return 'unknown';
}
