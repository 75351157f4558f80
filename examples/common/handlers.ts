import { AuthError, type PublicUser, type RequestContext } from 'gatehouse';
import { z } from 'zod';
import type { ExampleContext } from './context.js';
import { parseTotal } from './orders.js';

/** The caller as the guards leave it on the request. */
export interface Caller {
  userId: string;
  role: string;
}

/** `POST /api/admin/users/:id/ban`: a reason, and an end (ISO 8601) unless the ban is permanent. */
const banBodySchema = z.object({
  reason: z
    .string({ error: 'reason is required and must be a string.' })
    .trim()
    .min(1, { error: 'reason must not be empty.' })
    .max(500, { error: 'reason is too long (500 characters at most).' }),
  until: z.iso
    .datetime({
      offset: true,
      error: 'until must be a date and time in ISO 8601, such as 2030-01-31T12:00:00Z.',
    })
    .optional(),
});

/** `PUT /api/admin/users/:id/role`: the new role (the policy must declare it). */
const roleBodySchema = z.object({
  role: z
    .string({ error: 'role is required and must be a string.' })
    .min(1, { error: 'role must not be empty.' })
    .max(100, { error: 'role is too long.' }),
});

/** `GET /api/admin/users?cursor&limit&query` (`q` is short for `query`). */
const listQuerySchema = z.object({
  cursor: z.string({ error: 'cursor must be given once.' }).max(1024).optional(),
  limit: z
    .string({ error: 'limit must be given once.' })
    .regex(/^\d{1,3}$/, { error: 'limit must be a whole number from 1 to 100.' })
    .optional(),
  query: z.string({ error: 'query must be given once.' }).max(200).optional(),
  q: z.string({ error: 'q must be given once.' }).max(200).optional(),
});

/**
 * Validates a body or a query string with one of the schemas above: VALIDATION_ERROR with the
 * contract's body, the first wrong field in the message and in `details.field`.
 */
function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? String(issue.path[0]) : 'body';
  const message =
    field === 'body' ? 'The request body must be a JSON object.' : (issue?.message ?? 'Invalid.');
  throw new AuthError('VALIDATION_ERROR', message, { details: { field } });
}

/** Admins act on other accounts here: banning or demoting oneself would lock the admin out. */
function refuseSelf(id: string, caller: Caller, what: string): void {
  if (id === caller.userId) {
    throw new AuthError('VALIDATION_ERROR', `Admins cannot ${what} their own account here.`, {
      details: { field: 'id' },
    });
  }
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

    /**
     * DELETE /api/users/:id: erases the user (gatehouse ends its sessions, deletes what it holds
     * about them and pseudonymises their audit events; the example's `erase` hook deletes their
     * orders first). Users erase their own account with POST /api/auth/account/delete.
     */
    async deleteUser(id: string, caller: Caller, context: RequestContext) {
      refuseSelf(id, caller, 'delete');
      await ctx.auth.eraseUser(id, { ...context, actorId: caller.userId });
      return { success: true };
    },

    /**
     * GET /api/users/:id/export: everything gatehouse holds about the user (no hash, secret or
     * token), with the example's orders under `app.orders`.
     */
    async exportUser(id: string) {
      return { success: true, export: await ctx.auth.exportUser(id) };
    },

    /** GET /api/admin/users: a page of accounts by email, `nextCursor` null on the last one. */
    async listUsers(query: unknown) {
      const input = validate(listQuerySchema, query);
      const search = input.query ?? input.q;
      const page = await ctx.auth.listUsers({
        ...(input.cursor !== undefined ? { cursor: input.cursor } : {}),
        ...(input.limit !== undefined ? { limit: Number(input.limit) } : {}),
        ...(search !== undefined && search !== '' ? { query: search } : {}),
      });
      return { success: true, users: page.users, nextCursor: page.nextCursor };
    },

    /**
     * POST /api/admin/users/:id/ban: ends the user's sessions at once; their login is refused
     * (like a wrong password) until `until`, or for good without it. Answers the admin's view.
     */
    async banUser(id: string, body: unknown, caller: Caller, context: RequestContext) {
      refuseSelf(id, caller, 'ban');
      const { reason, until } = validate(banBodySchema, body);
      const user = await ctx.auth.banUser(
        id,
        { reason, ...(until !== undefined ? { until: new Date(until) } : {}) },
        { ...context, actorId: caller.userId },
      );
      return { success: true, user };
    },

    /** POST /api/admin/users/:id/unban: the user may log in again. */
    async unbanUser(id: string, caller: Caller, context: RequestContext) {
      const user = await ctx.auth.unbanUser(id, { ...context, actorId: caller.userId });
      return { success: true, user };
    },

    /** PUT /api/admin/users/:id/role: a new role; the user's sessions end (they log in again). */
    async setRole(id: string, body: unknown, caller: Caller, context: RequestContext) {
      refuseSelf(id, caller, 'change the role of');
      const { role } = validate(roleBodySchema, body);
      const user = await ctx.auth.setRole(id, role, { ...context, actorId: caller.userId });
      return { success: true, user };
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
