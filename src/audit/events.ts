/** Every security event gatehouse emits. */
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
  | 'ACCESS_DENIED'
  | 'RATE_LIMITED'
  | 'CSRF_REJECTED'
  | 'USER_DISABLED'
  | 'USER_DELETED';

/**
 * One security event, in the seed's audit format. It never carries a password, a hash or a
 * token; the email appears only as a keyed hash (`emailHash`).
 */
export interface AuditEvent {
  /** ISO 8601 time of the event. */
  timestamp: string;
  event: AuditEventName;
  status: 'success' | 'failure';
  userId?: string;
  ip?: string;
  userAgent?: string;
  metadata: Record<string, unknown>;
}

/**
 * Receives audit events. It may be async; gatehouse does not await a slow sink on the request
 * path longer than the call itself and never lets a failing sink break a login.
 *
 * @example
 * ```ts
 * const audit: AuditSink = (event) => console.log(JSON.stringify(event));
 * ```
 */
export type AuditSink = (event: AuditEvent) => void | Promise<void>;
