import { randomUUID } from 'node:crypto';
import { AuthError } from '../errors.js';
import type { NewUser, UserPatch, UserRecord, UserStore } from './types.js';

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

  #copy(record: UserRecord | undefined): UserRecord | null {
    if (!record) return null;
    return {
      ...record,
      lastLoginAt: record.lastLoginAt ? new Date(record.lastLoginAt) : null,
      createdAt: new Date(record.createdAt),
      updatedAt: new Date(record.updatedAt),
    };
  }
}
