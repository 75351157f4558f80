// The methods of each store interface, named once: the configuration checks that a store given
// in `stores` has the required ones (src/config.ts), and the telemetry wrapper times every one,
// the optional ones included when present (src/telemetry/stores.ts, which also checks at compile
// time that no method of an interface is missing from these lists).

/** The methods a store must have, per `stores` option, in the order a config error names them. */
export const REQUIRED_STORE_METHODS = {
  users: [
    'findByEmail',
    'findById',
    'create',
    'update',
    'replacePasswordHash',
    'delete',
    'listUsers',
  ],
  attempts: ['reserve', 'recordFailure', 'reset', 'inspect'],
  tokens: [
    'createSession',
    'rotate',
    'getSession',
    'revokeSession',
    'revokeUserSessions',
    'prune',
    'listSessions',
    'touchSession',
    'deleteUserSessions',
  ],
  rateLimits: ['hit', 'reset'],
  oneTimeTokens: [
    'issue',
    'consume',
    'find',
    'revokeUserTokens',
    'listUserTokens',
    'deleteUserTokens',
    'prune',
  ],
  outbox: [
    'enqueue',
    'claim',
    'markDelivered',
    'markFailed',
    'pending',
    'prune',
    'deleteForRecipient',
  ],
  auditLog: ['write', 'listForUser', 'pseudonymiseUser', 'prune'],
  mfa: [
    'getFactor',
    'savePendingFactor',
    'activateFactor',
    'acceptStep',
    'consumeRecoveryCode',
    'replaceRecoveryCodes',
    'recoveryCodesLeft',
    'deleteFactor',
    'updateSecret',
  ],
} as const;

/** The optional methods of the token store: their presence changes what the core does. */
export const OPTIONAL_TOKEN_STORE_METHODS = ['findSessionByTokenHash', 'watchRevocations'] as const;
