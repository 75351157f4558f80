import type { PolicyExplanation } from './types.js';

/**
 * The metadata of an `ACCESS_DENIED` audit event, from an explanation: the permission, the
 * principal's role, the reason code and the deciding rule (as `deny[0] of role 'user'`). Holds
 * no field of the resource and no condition value.
 *
 * @example
 * ```ts
 * const why = policy.explain(principal, 'users:delete', target);
 * sink({ event: 'ACCESS_DENIED', status: 'failure', userId: principal.userId,
 *        timestamp: new Date().toISOString(), metadata: accessDeniedMetadata(why) });
 * ```
 */
export function accessDeniedMetadata(explanation: PolicyExplanation): {
  permission: string;
  role: string | null;
  reason: PolicyExplanation['reason'];
  rule: string | null;
} {
  const { rule } = explanation;
  return {
    permission: explanation.permission,
    role: explanation.role,
    reason: explanation.reason,
    rule: rule === null ? null : `${rule.effect}[${rule.index}] of role '${rule.role}'`,
  };
}
