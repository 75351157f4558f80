import { randomUUID } from 'node:crypto';
import { AuthError } from '../errors.js';
import type {
  NewUser,
  UserListPage,
  UserListQuery,
  UserPatch,
  UserRecord,
  UserStore,
} from './types.js';

/**
 * Orders two strings by code point (the order of their UTF-8 bytes, PostgreSQL's `COLLATE "C"`),
 * which differs from `<` on UTF-16 units only where an astral character meets U+E000–U+FFFF.
 */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    // A surrogate starts a code point above U+FFFF: after any unit that is not one.
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function dateOrNull(value: Date | null | undefined): Date | null {
  return value ? new Date(value) : null;
}

/**
 * The reference {@link UserStore}, in memory. Unbounded (it holds accounts, not caches); for
 * tests, demos and single-process apps.
 *
 * @example
 * ```ts
 * import { createAuth, MemoryUserStore } from 'gatehouse';
 * const auth = createAuth({ stores: { users: new MemoryUserStore() } });
 * ```
 */
export class MemoryUserStore implements UserStore {
  readonly #byId = new Map<string, UserRecord>();
  readonly #idByEmail = new Map<string, string>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async findByEmail(email: string): Promise<UserRecord | null> {
    const id = this.#idByEmail.get(email);
    return id === undefined ? null : this.#copy(this.#byId.get(id));
  }

  async findById(id: string): Promise<UserRecord | null> {
    return this.#copy(this.#byId.get(id));
  }

  async create(user: NewUser): Promise<UserRecord> {
    if (this.#idByEmail.has(user.email)) throw new AuthError('EMAIL_TAKEN');
    const now = new Date(this.#now());
    const record: UserRecord = {
      id: randomUUID(),
      email: user.email,
      name: user.name,
      role: user.role,
      passwordHash: user.passwordHash,
      isActive: true,
      emailVerified: false,
      lastLoginAt: null,
      createdAt: now,
      updatedAt: now,
      bannedAt: null,
      bannedUntil: null,
      banReason: null,
    };
    this.#byId.set(record.id, record);
    this.#idByEmail.set(record.email, record.id);
    return this.#copy(record)!;
  }

  async update(id: string, patch: UserPatch): Promise<UserRecord | null> {
    const record = this.#byId.get(id);
    if (!record) return null;
    if (patch.name !== undefined) record.name = patch.name;
    if (patch.role !== undefined) record.role = patch.role;
    if (patch.isActive !== undefined) record.isActive = patch.isActive;
    if (patch.emailVerified !== undefined) record.emailVerified = patch.emailVerified;
    if (patch.passwordHash !== undefined) record.passwordHash = patch.passwordHash;
    if (patch.lastLoginAt !== undefined) record.lastLoginAt = new Date(patch.lastLoginAt);
    if (patch.bannedAt !== undefined) record.bannedAt = dateOrNull(patch.bannedAt);
    if (patch.bannedUntil !== undefined) record.bannedUntil = dateOrNull(patch.bannedUntil);
    if (patch.banReason !== undefined) record.banReason = patch.banReason;
    record.updatedAt = new Date(this.#now());
    return this.#copy(record);
  }

  async replacePasswordHash(id: string, expectedHash: string, newHash: string): Promise<boolean> {
    const record = this.#byId.get(id);
    if (!record || record.passwordHash !== expectedHash) return false;
    record.passwordHash = newHash;
    record.updatedAt = new Date(this.#now());
    return true;
  }

  async delete(id: string): Promise<boolean> {
    const record = this.#byId.get(id);
    if (!record) return false;
    this.#byId.delete(id);
    this.#idByEmail.delete(record.email);
    return true;
  }

  /** Keyset pagination over the emails; a linear pass and a sort of what follows the cursor. */
  async listUsers(query: UserListQuery): Promise<UserListPage> {
    const { cursor, limit, query: prefix } = query;
    const page: { key: string; record: UserRecord }[] = [];
    for (const record of this.#byId.values()) {
      const key = record.email.toLowerCase();
      if (cursor !== undefined && compareCodePoints(key, cursor) <= 0) continue;
      if (prefix !== undefined && !key.startsWith(prefix)) continue;
      page.push({ key, record });
    }
    page.sort((a, b) => compareCodePoints(a.key, b.key));
    const users = page.slice(0, limit).map((entry) => this.#copy(entry.record)!);
    return {
      users,
      nextCursor: page.length > limit ? page[limit - 1]!.key : null,
    };
  }

  #copy(record: UserRecord | undefined): UserRecord | null {
    if (!record) return null;
    return {
      ...record,
      lastLoginAt: record.lastLoginAt ? new Date(record.lastLoginAt) : null,
      createdAt: new Date(record.createdAt),
      updatedAt: new Date(record.updatedAt),
      bannedAt: dateOrNull(record.bannedAt),
      bannedUntil: dateOrNull(record.bannedUntil),
      banReason: record.banReason ?? null,
    };
  }
}
