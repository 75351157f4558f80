/**
 * Every error code gatehouse produces, with its HTTP status and a default human message.
 * This table is the single registry: `docs/errors.md` documents each entry and a test fails
 * when one is missing there.
 *
 * @example
 * ```ts
 * import { ERROR_CODES } from 'gatehouse';
 * ERROR_CODES.ACCOUNT_LOCKED.status; // 403
 * ```
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: { status: 400, message: 'The request is invalid.' },
  LINK_INVALID: {
    status: 400,
    message: 'This link is invalid or has expired. Please request a new one.',
  },
  INVALID_CREDENTIALS: { status: 401, message: 'Invalid email or password. Please try again.' },
  UNAUTHENTICATED: { status: 401, message: 'Authentication is required.' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired.' },
  TOKEN_INVALID: { status: 401, message: 'The token is invalid.' },
  ACCOUNT_LOCKED: {
    status: 403,
    message:
      'Your account has been temporarily locked due to multiple failed login attempts. Please contact support or try again later.',
  },
  FORBIDDEN: { status: 403, message: 'You do not have permission to do this.' },
  EMAIL_NOT_VERIFIED: {
    status: 403,
    message: 'Please verify your email address first. Check your inbox or request a new link.',
  },
  CSRF_REJECTED: { status: 403, message: 'The request failed the cross-site request check.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  EMAIL_TAKEN: { status: 409, message: 'An account with this email already exists.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be JSON.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests. Please try again later.' },
  SERVER_ERROR: {
    status: 500,
    message: "We're experiencing technical difficulties. Please try again in a few moments.",
  },
  INVALID_CONFIG: { status: 500, message: 'gatehouse is misconfigured.' },
  MFA_REQUIRED: {
    status: 401,
    message: 'Enter the code from your authenticator app to finish signing in.',
  },
  MFA_INVALID_CODE: { status: 401, message: 'The code is incorrect. Please try again.' },
  MFA_CHALLENGE_INVALID: {
    status: 401,
    message: 'This sign-in has expired or was already completed. Please sign in again.',
  },
  MFA_ENROLLMENT_REQUIRED: {
    status: 403,
    message: 'Your account must set up two-factor authentication before signing in.',
  },
  MFA_LOCKED: {
    status: 403,
    message:
      'Too many incorrect codes. Two-factor sign-in is locked for a while; please try again later.',
  },
  MFA_ALREADY_ENROLLED: {
    status: 409,
    message: 'Two-factor authentication is already set up for this account.',
  },
  MFA_NOT_ENROLLED: {
    status: 409,
    message: 'Two-factor authentication is not set up for this account.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

/**
 * The union of every code an {@link AuthError} can carry; `switch (err.code)` narrows on it.
 *
 * @example
 * ```ts
 * function messageFor(code: AuthErrorCode): string {
 *   switch (code) {
 *     case 'ACCOUNT_LOCKED': return 'Too many attempts: try again later.';
 *     case 'INVALID_CREDENTIALS': return 'Wrong email or password.';
 *     default: return 'Something went wrong.';
 *   }
 * }
 * ```
 */
export type AuthErrorCode = keyof typeof ERROR_CODES;

/**
 * Options of the {@link AuthError} constructor.
 *
 * @example
 * ```ts
 * throw new AuthError('SERVER_ERROR', undefined, { status: 503, cause: dbError } satisfies AuthErrorOptions);
 * ```
 */
export interface AuthErrorOptions {
  /** Overrides the registry's status (SERVER_ERROR uses 503 when a store is unavailable). */
  status?: number;
  /** Seconds until a retry can succeed (ACCOUNT_LOCKED, RATE_LIMITED); sent as `Retry-After`. */
  retryAfter?: number;
  /** Structured detail safe to show the client (e.g. which field failed validation). */
  details?: Record<string, unknown>;
  /** The underlying error; never serialised into a response. */
  cause?: unknown;
}

/**
 * The one error class of gatehouse. Every failure the library reports is an `AuthError` with a
 * typed {@link AuthErrorCode} and the HTTP status that code maps to.
 *
 * @example
 * ```ts
 * import { AuthError } from 'gatehouse';
 *
 * try {
 *   await auth.login({ email, password }, { ip });
 * } catch (err) {
 *   if (err instanceof AuthError && err.code === 'ACCOUNT_LOCKED') {
 *     console.log(`retry in ${err.retryAfter}s`);
 *   }
 * }
 * ```
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: AuthErrorCode;
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: AuthErrorCode, message?: string, options: AuthErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].message, options.cause ? { cause: options.cause } : {});
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.retryAfter = options.retryAfter;
    this.details = options.details;
  }

  /** The contract's JSON body: `{ success: false, error, code }`. Never includes `cause`. */
  toJSON(): { success: false; error: string; code: AuthErrorCode } {
    return { success: false, error: this.message, code: this.code };
  }
}

/**
 * Runs `build` (which creates errors) without capturing stack traces, for routine refusals such
 * as a missing or invalid token: their frames tell a log nothing, and capturing them (through
 * every async frame) is the costliest part of an error when a client floods refused requests.
 * The errors stay `instanceof AuthError` with their code, status and cause; their `stack` is
 * only the `Name: message` line. Never use it for an unexpected error, whose stack is the clue.
 * Internal: not exported from an entry point.
 */
export function withoutStack<T>(build: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Tells whether a value is an {@link AuthError}, also across duplicated copies of the package
 * (checks the brand, not only the prototype chain).
 *
 * @example
 * ```ts
 * import { isAuthError } from 'gatehouse';
 * if (isAuthError(err)) res.status(err.status).json(err.toJSON());
 * ```
 */
export function isAuthError(value: unknown): value is AuthError {
  return (
    value instanceof AuthError ||
    (typeof value === 'object' &&
      value !== null &&
      (value as { name?: unknown }).name === 'AuthError' &&
      typeof (value as { code?: unknown }).code === 'string' &&
      (value as { code: string }).code in ERROR_CODES)
  );
}
