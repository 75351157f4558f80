import type { UserRecord } from '../stores/types.js';

/**
 * Whether a user is banned at `now` (ms since the epoch): a ban was decided (`bannedAt`) and it
 * has no end or ends later. An absent field (a store written before bans) reads as null.
 */
export function isBanned(user: Pick<UserRecord, 'bannedAt' | 'bannedUntil'>, now: number): boolean {
  if (user.bannedAt == null) return false;
  return user.bannedUntil == null || user.bannedUntil.getTime() > now;
}
