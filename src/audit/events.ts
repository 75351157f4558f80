/**
 * Every security event gatehouse emits.
 *
 * @example
 * ```ts
 * const alarming: AuditEventName[] = ['ACCOUNT_LOCKED', 'TOKEN_REUSE_DETECTED'];
 * createAuth({ audit: (e) => alarming.includes(e.event) && pager.notify(e) });
 * ```
 */
export type AuditEventName =
  | 'USER_REGISTERED'
  | 'LOGIN_SUCCEEDED'
  | 'LOGIN_FAILED'
  | 'ACCOUNT_LOCKED'
  | 'PASSWORD_CHANGED'
  | 'TOKEN_REFRESHED'
  | 'TOKEN_REUSE_DETECTED'
  | 'LOGOUT'
  | 'LOGOUT_ALL'
  | 'SESSIONS_REVOKED'
  | 'SESSION_REVOKED'
  | 'ACCESS_DENIED'
  | 'RATE_LIMITED'
  | 'CSRF_REJECTED'
  | 'USER_DISABLED'
  | 'USER_DELETED'
  | 'USER_ERASED'
  | 'USER_BANNED'
  | 'USER_UNBANNED'
  | 'USER_UPDATED'
  | 'ROLE_CHANGED'
  | 'PASSWORD_RESET_REQUESTED'
  | 'PASSWORD_RESET'
  | 'EMAIL_VERIFICATION_SENT'
  | 'EMAIL_VERIFIED'
  | 'REGISTRATION_ON_EXISTING_EMAIL'
  | 'MAIL_FAILED'
  | 'MFA_ENROLLED'
  | 'MFA_DISABLED'
  | 'MFA_FAILED'
  | 'MFA_LOCKED'
  | 'RECOVERY_CODE_USED'
  | 'RECOVERY_CODES_REGENERATED';

/**
 * One security event, in the seed's audit format (plus `requestId`, present when the event
 * happened while an adapter handled a request). It never carries a password, a hash or a
 * token; the email appears only as a keyed hash (`metadata.emailHash`).
 *
 * @example
 * ```ts
 * const event: AuditEvent = {
 *   timestamp: '2025-06-01T12:00:00.000Z',
 *   event: 'LOGIN_FAILED',
 *   status: 'failure',
 *   ip: '203.0.113.7',
 *   requestId: 'b7f0c9a2-5d1e-4c47-9b0e-3f5a6c7d8e9f',
 *   metadata: { reason: 'wrong_password', emailHash: '9f2c…' },
 * };
 * ```
 */
export interface AuditEvent {
  /** ISO 8601 time of the event. */
  timestamp: string;
  event: AuditEventName;
  status: 'success' | 'failure';
  userId?: string;
  ip?: string;
  userAgent?: string;
  /**
   * The id of the request behind the event (the `X-Request-Id` of its response); absent for an
   * event outside a request (a direct call without it in the context).
   */
  requestId?: string;
  metadata: Record<string, unknown>;
}

/**
 * Receives audit events. It may be async: gatehouse calls it and never awaits the promise, so a
 * slow sink does not delay a request, and a sink that throws or rejects is reported to the
 * logger and never breaks a login.
 *
 * @example
 * ```ts
 * const audit: AuditSink = (event) => console.log(JSON.stringify(event));
 * ```
 */
export type AuditSink = (event: AuditEvent) => void | Promise<void>;
