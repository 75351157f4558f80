import { AuthError, type PublicUser } from 'gatehouse';
import type { ExampleContext } from './context.js';
import { parseTotal } from './orders.js';

/** The caller as the guards leave it on the request. */
export interface Caller {
  userId: string;
  role: string;
}

function fieldOf(body: unknown, field: string): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)[field]
    : undefined;
}

/**
 * The example's own routes, framework-neutral: each takes what the guards established and
 * returns the JSON body. Authorization has already run (gatehouse's `authorize`), so these hold
 * no permission logic of their own.
 */
export function exampleHandlers(ctx: ExampleContext) {
  return {
    /** GET /api/users/:id: the user the guard loaded. */
    getUser: (user: PublicUser) => ({ success: true, user }),

    /** PUT /api/users/:id: only `name` is taken; other fields (role, email...) are ignored. */
    async updateUser(id: string, body: unknown, caller: Caller) {
      const user = await ctx.auth.updateUser(
        id,
        { name: fieldOf(body, 'name') },
        { actorId: caller.userId },
      );
      return { success: true, user };
    },

    /** DELETE /api/users/:id: removes the user and ends its sessions. */
    async deleteUser(id: string, caller: Caller) {
      if (id === caller.userId) {
        throw new AuthError('VALIDATION_ERROR', 'Admins cannot delete their own account here.', {
          details: { field: 'id' },
        });
      }
      await ctx.auth.deleteUser(id);
      return { success: true };
    },

    /** POST /api/orders: an order of the caller's, total as a decimal string. */
    async createOrder(caller: Caller, body: unknown) {
      const total = parseTotal(fieldOf(body, 'total'));
      const order = await ctx.orders.create(caller.userId, total);
      return { success: true, order };
    },

    /** GET /api/orders: the orders the policy lets the caller read (its own). */
    async listOrders(caller: Caller) {
      const orders = await ctx.orders.list(ctx.auth.filter(caller, 'orders:read'));
      return { success: true, orders };
    },

    /** Loads the user of `:id` for the guards; null when there is none. */
    async loadUser(id: string): Promise<PublicUser | null> {
      return ctx.auth.getUser(id).catch((err: unknown) => {
        if ((err as AuthError).code === 'NOT_FOUND') return null;
        throw err;
      });
    },
  };
}
