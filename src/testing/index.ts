// `gatehouse/testing`: the store conformance suites. Run them against your own store
// implementation to check it keeps every promise of the interface.
export { describeAttemptStore } from './attempt-store.js';
export { describeAuditLogStore } from './audit-log.js';
export type { StoreFactory, TestApi } from './harness.js';
export type { MailOutboxInspector } from './mail-outbox.js';
export { describeMailOutboxStore } from './mail-outbox.js';
export { describeMfaStore } from './mfa-store.js';
export type { OneTimeTokenStoreSet } from './one-time-token-store.js';
export { describeOneTimeTokenStore } from './one-time-token-store.js';
export { describeRateLimitStore } from './rate-limit-store.js';
export type { TokenStoreSuiteOptions } from './token-store.js';
export { describeTokenStore } from './token-store.js';
export { describeUserStore } from './user-store.js';
