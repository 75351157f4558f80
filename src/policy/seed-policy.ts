import { definePolicy, resource } from './policy.js';

/**
 * The fields of a user that {@link seedPolicy} reads.
 *
 * @example
 * ```ts
 * seedPolicy.can(principal, 'users:read', { id: req.params.id } satisfies SeedUserResource);
 * ```
 */
export interface SeedUserResource {
  readonly id: string;
}

/**
 * The fields of an order that {@link seedPolicy} reads.
 *
 * @example
 * ```ts
 * seedPolicy.can(principal, 'orders:read', order satisfies SeedOrderResource);
 * ```
 */
export interface SeedOrderResource {
  readonly userId: string;
}

/**
 * The policy of the seed's example system (the authorization table of the reference API):
 *
 * | route | permission | who |
 * |---|---|---|
 * | `POST /api/auth/login` | none (public) | anyone |
 * | `GET /api/users/:id` | `users:read` | the user itself; `admin` any user |
 * | `PUT /api/users/:id` | `users:update` | the user itself (admins too, for their own record) |
 * | `DELETE /api/users/:id` | `users:delete` | `admin` only (erases the account) |
 * | `GET /api/users/:id/export` | `users:export` | the user itself; `admin` any user |
 * | `GET /api/admin/users` | `users:list` | `admin` only |
 * | `POST /api/admin/users/:id/ban`, `…/unban` | `users:ban` | `admin` only |
 * | `PUT /api/admin/users/:id/role` | `users:role` | `admin` only |
 * | `POST /api/orders` | `orders:create` | any authenticated user |
 * | `GET /api/orders` | `orders:read` + `filter()` | the caller's own orders |
 *
 * `admin` inherits everything of `user`. Use it as is in the example apps, or as the starting
 * point of your own policy.
 *
 * @example
 * ```ts
 * import { createAuth, seedPolicy } from 'gatehouse';
 *
 * const auth = createAuth({ ...options, policy: seedPolicy });
 * auth.can(principal, 'users:read', { id: req.params.id });
 * auth.filter(principal, 'orders:read'); // userId equals the caller's id
 * ```
 */
export const seedPolicy = definePolicy({
  resources: {
    users: resource<SeedUserResource>()([
      'read',
      'update',
      'delete',
      'export',
      'list',
      'ban',
      'role',
    ]),
    orders: resource<SeedOrderResource>()(['create', 'read']),
  },
  roles: {
    user: {
      description: 'A signed-up user: their own record (and its export) and their own orders.',
      allow: [
        { resource: 'users', actions: ['read', 'update'], where: { id: { principal: 'userId' } } },
        'orders:create',
        { resource: 'orders', actions: ['read'], where: { userId: { principal: 'userId' } } },
        // Their own data (the right of access); an admin may export anyone's.
        { resource: 'users', actions: ['export'], where: { id: { principal: 'userId' } } },
      ],
    },
    admin: {
      description:
        'Everything a user may do, and read, export, list, ban, re-role or erase any user.',
      inherits: ['user'],
      allow: [
        'users:read',
        'users:delete',
        'users:export',
        'users:list',
        'users:ban',
        'users:role',
      ],
    },
  },
});
