import { z } from 'zod';
import { AuthError } from '../errors.js';

// Generous caps on raw lengths: the core applies the real rules (email syntax, the 72-byte
// password limit, the name policy) and refuses before any hashing; these only bound the work.
const text = (max: number) => z.string().max(max);

/**
 * `POST /register`: `{ email, password, name }`. Other fields are ignored.
 *
 * @example
 * ```ts
 * const { email, password, name } = validateBody(registerBodySchema, body);
 * ```
 */
export const registerBodySchema = z.object({
  email: text(1024),
  password: text(4096),
  name: text(1024),
});

/**
 * `POST /login`: `{ email, password, deviceLabel? }` (the label names the session in the
 * sessions list; the core checks it is 1–100 printable characters).
 *
 * @example
 * ```ts
 * const { email, password, deviceLabel } = validateBody(loginBodySchema, body);
 * ```
 */
export const loginBodySchema = z.object({
  email: text(1024),
  password: text(4096),
  deviceLabel: text(1024).optional(),
});

/**
 * `POST /refresh` outside cookie mode: `{ refreshToken }`.
 *
 * @example
 * ```ts
 * const { refreshToken } = validateBody(refreshBodySchema, body);
 * ```
 */
export const refreshBodySchema = z.object({ refreshToken: text(4096) });

/**
 * `POST /logout`: `{ refreshToken? }` (the session is the access token's).
 *
 * @example
 * ```ts
 * validateBody(logoutBodySchema, undefined); // fine: the body is optional
 * ```
 */
export const logoutBodySchema = z.object({ refreshToken: text(4096).optional() }).optional();

/**
 * `PUT /password`: `{ currentPassword, newPassword }`.
 *
 * @example
 * ```ts
 * const { currentPassword, newPassword } = validateBody(passwordBodySchema, body);
 * ```
 */
export const passwordBodySchema = z.object({
  currentPassword: text(4096),
  newPassword: text(4096),
});

// Reset and verification tokens are 43 characters (base64url of 32 bytes); a longer string is
// refused before it is hashed, a shorter or odd one is simply an invalid link (LINK_INVALID).
const linkToken = text(512);

/**
 * `POST /password/forgot`: `{ email }`. Any string up to the cap passes here: a malformed address
 * is answered exactly like an unknown one by the core.
 *
 * @example
 * ```ts
 * const { email } = validateBody(forgotPasswordBodySchema, body);
 * ```
 */
export const forgotPasswordBodySchema = z.object({ email: text(1024) });

/**
 * `POST /password/reset`: `{ token, password }` (the token from the reset link).
 *
 * @example
 * ```ts
 * const { token, password } = validateBody(resetPasswordBodySchema, body);
 * ```
 */
export const resetPasswordBodySchema = z.object({ token: linkToken, password: text(4096) });

/**
 * `POST /email/verify`: `{ token }` (the token from the verification link).
 *
 * @example
 * ```ts
 * const { token } = validateBody(verifyEmailBodySchema, body);
 * ```
 */
export const verifyEmailBodySchema = z.object({ token: linkToken });

// MFA: a code is 6 digits and a recovery code 12 characters (with dashes and spaces allowed);
// the core checks their shape, these caps only bound the work. Challenges are one-time tokens.
const mfaCode = text(64);
const mfaChallenge = text(512);

/**
 * `POST /mfa/totp/enroll`: no body when authenticated; `{ challenge }` with the enrolment
 * challenge of a login answered MFA_ENROLLMENT_REQUIRED.
 *
 * @example
 * ```ts
 * const challenge = validateBody(mfaEnrollBodySchema, body)?.challenge;
 * ```
 */
export const mfaEnrollBodySchema = z.object({ challenge: mfaChallenge.optional() }).optional();

/**
 * `POST /mfa/totp/confirm`: `{ code, challenge? }` (the challenge as for enroll).
 *
 * @example
 * ```ts
 * const { code, challenge } = validateBody(mfaConfirmBodySchema, body);
 * ```
 */
export const mfaConfirmBodySchema = z.object({
  code: mfaCode,
  challenge: mfaChallenge.optional(),
});

/**
 * `POST /mfa/verify`: `{ challenge, code }` or `{ challenge, recoveryCode }`, and the
 * `deviceLabel?` of the session it starts (as at login; the core checks it).
 *
 * @example
 * ```ts
 * const { challenge, code, recoveryCode } = validateBody(mfaVerifyBodySchema, body);
 * ```
 */
export const mfaVerifyBodySchema = z.object({
  challenge: mfaChallenge,
  code: mfaCode.optional(),
  recoveryCode: mfaCode.optional(),
  deviceLabel: text(1024).optional(),
});

/**
 * `POST /mfa/recovery-codes`: `{ code }` (a current code from the app).
 *
 * @example
 * ```ts
 * const { code } = validateBody(mfaRecoveryCodesBodySchema, body);
 * ```
 */
export const mfaRecoveryCodesBodySchema = z.object({ code: mfaCode });

/**
 * `DELETE /mfa/totp`: `{ password, code }` or `{ password, recoveryCode }`.
 *
 * @example
 * ```ts
 * const { password, code, recoveryCode } = validateBody(mfaDisableBodySchema, body);
 * ```
 */
export const mfaDisableBodySchema = z.object({
  password: text(4096),
  code: mfaCode.optional(),
  recoveryCode: mfaCode.optional(),
});

/**
 * Validates a parsed JSON body against a route's schema; throws `AuthError('VALIDATION_ERROR')`
 * naming the first wrong field in the message and in `details.field`.
 *
 * @example
 * ```ts
 * const { email, password } = validateBody(loginBodySchema, body);
 * ```
 */
export function validateBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? String(issue.path[0]) : 'body';
  if (field === 'body') {
    throw new AuthError('VALIDATION_ERROR', 'The request body must be a JSON object.', {
      details: { field },
    });
  }
  const reason = issue?.code === 'too_big' ? 'too_long' : 'required';
  throw new AuthError(
    'VALIDATION_ERROR',
    reason === 'too_long' ? `${field} is too long.` : `${field} is required and must be a string.`,
    { details: { field, reason } },
  );
}
