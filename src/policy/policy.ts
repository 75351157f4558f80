import { AuthError } from '../errors.js';
import {
  type CompiledCondition,
  compilePolicy,
  LITERAL,
  type PermissionEntry,
  PRINCIPAL_FIELD,
  type RoleTable,
} from './compile.js';
import type {
  CheckedResource,
  FieldEquals,
  Permission,
  PolicyDecisionReason,
  PolicyDefinition,
  PolicyExplanation,
  PolicyFilter,
  PolicyPrincipal,
  PolicyRuleReference,
  ResourceModel,
  ResourceSpec,
} from './types.js';

/**
 * A compiled authorization policy, made by {@link definePolicy}. Every check is a couple of map
 * lookups; nothing is built per user or per request, and no check throws for a bad principal,
 * an unknown role or a resource with missing fields (those are denied).
 *
 * @example
 * ```ts
 * import { seedPolicy } from 'gatehouse';
 *
 * seedPolicy.can(principal, 'users:update', { id: principal.userId }); // true
 * seedPolicy.can(principal, 'users:delete'); // false for role 'user'
 * ```
 */
export interface Policy<M extends ResourceModel = ResourceModel, R extends string = string> {
  /** The declared role names. */
  readonly roles: readonly R[];
  /** Every concrete `resource:action` permission of the policy. */
  readonly permissions: readonly Permission<M>[];

  /**
   * Whether `principal` may do `permission`, to `resource` when given. A conditional grant
   * checked without a resource answers `false` (fail closed); use {@link Policy.canSome} to ask
   * "may they do this to some instance".
   *
   * @example
   * ```ts
   * if (policy.can(req.auth, 'orders:read', order)) res.json(order);
   * ```
   */
  can<P extends Permission<M>>(
    principal: PolicyPrincipal | null | undefined,
    permission: P,
    resource?: CheckedResource<M, P>,
  ): boolean;

  /**
   * Like {@link Policy.can}, but throws `AuthError('FORBIDDEN')` when denied.
   *
   * @example
   * ```ts
   * policy.authorize(req.auth, 'users:delete'); // throws FORBIDDEN for a non-admin
   * ```
   */
  authorize<P extends Permission<M>>(
    principal: PolicyPrincipal | null | undefined,
    permission: P,
    resource?: CheckedResource<M, P>,
  ): void;

  /**
   * Whether `principal` may do `permission` to at least some instance: some allow, conditional
   * or not, applies and no unconditional deny does. Use it to show a menu entry or a route;
   * use {@link Policy.can} on the instance or {@link Policy.filter} for the list.
   *
   * @example
   * ```ts
   * policy.canSome(principal, 'orders:read'); // true: a user may read their own orders
   * ```
   */
  canSome<P extends Permission<M>>(
    principal: PolicyPrincipal | null | undefined,
    permission: P,
  ): boolean;

  /**
   * The same decision as {@link Policy.can}, with the rule and role that made it or why nothing
   * matched. Slower than `can` (it builds a result); call it when you need the why, e.g. to log
   * an `ACCESS_DENIED` audit event. The result never contains the resource's data.
   *
   * @example
   * ```ts
   * const why = policy.explain(principal, 'users:delete', { id: 'u2' });
   * // { decision: 'deny', reason: 'no_rule', role: 'user', rule: null, ... }
   * ```
   */
  explain<P extends Permission<M>>(
    principal: PolicyPrincipal | null | undefined,
    permission: P,
    resource?: CheckedResource<M, P>,
  ): PolicyExplanation;

  /**
   * The policy's conditions for `permission` and `principal` as plain data a store can turn
   * into a query, so that a list and the single-item check never disagree. Throws
   * `AuthError('INVALID_CONFIG')` when a relevant rule has a `when` function (not expressible
   * as data).
   *
   * @example
   * ```ts
   * policy.filter(principal, 'orders:read');
   * // { kind: 'where', anyOf: [[{ field: 'userId', equals: 'u1' }]], noneOf: [] }
   * ```
   */
  filter<P extends Permission<M>>(
    principal: PolicyPrincipal | null | undefined,
    permission: P,
  ): PolicyFilter;

  /** Whether `role` is declared in this policy. */
  hasRole(role: string): role is R;
}

/**
 * The resource model of a policy type, to type code that wraps a policy (like `createAuth`).
 *
 * @example
 * ```ts
 * type SeedPermission = Permission<PolicyModelOf<typeof seedPolicy>>; // 'users:read' | ...
 * ```
 */
export type PolicyModelOf<P> = P extends Policy<infer M, string> ? M : ResourceModel;

const FALSE = 0;
const TRUE = 1;
const UNKNOWN = 2;

function isComparable(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint';
}

function principalValue(principal: object, kind: number, name: string): unknown {
  if (kind === PRINCIPAL_FIELD) return (principal as Record<string, unknown>)[name];
  const claims = (principal as { claims?: unknown }).claims;
  return typeof claims === 'object' && claims !== null
    ? (claims as Record<string, unknown>)[name]
    : undefined;
}

/**
 * Three-valued: FALSE, TRUE, or UNKNOWN. A missing resource field is unknown, and a conjunction
 * with a false term is false (SQL's logic on NULL columns, so `filter()` agrees). A missing
 * principal field makes the whole condition unknown (a deny that names it always applies), as
 * does a condition that throws.
 */
function evaluate(condition: CompiledCondition, principal: object, resource: object): number {
  try {
    const { fields, kinds, values } = condition;
    let result = TRUE;
    for (let i = 0; i < fields.length; i++) {
      const kind = kinds[i]!;
      let expected = values[i];
      if (kind !== LITERAL) {
        expected = principalValue(principal, kind, expected as string);
        if (!isComparable(expected)) return UNKNOWN;
      }
      if (result === FALSE) continue;
      const actual = (resource as Record<string, unknown>)[fields[i]!];
      if (actual === undefined || (actual === null && expected !== null)) result = UNKNOWN;
      else if (actual !== expected) result = FALSE;
    }
    if (result !== TRUE) return result;
    if (condition.when === null) return TRUE;
    const held = (condition.when as (p: object, r: object) => unknown)(principal, resource);
    return held === true ? TRUE : held === false ? FALSE : UNKNOWN;
  } catch {
    return UNKNOWN;
  }
}

function decide(entry: PermissionEntry, principal: object, resource: unknown): boolean {
  if (!entry.someAllowed) return false;
  const hasResource = typeof resource === 'object' && resource !== null;
  const denies = entry.denies;
  if (denies.length !== 0) {
    if (!hasResource) return false;
    for (let i = 0; i < denies.length; i++) {
      if (evaluate(denies[i]!, principal, resource) !== FALSE) return false;
    }
  }
  if (entry.allowAlways !== null) return true;
  if (!hasResource) return false;
  const allows = entry.allows;
  for (let i = 0; i < allows.length; i++) {
    if (evaluate(allows[i]!, principal, resource) === TRUE) return true;
  }
  return false;
}

function describeRule(ref: PolicyRuleReference): string {
  const condition = ref.condition === null ? '' : ` when ${ref.condition}`;
  return `${ref.effect}[${ref.index}] of role '${ref.role}' (${ref.permissions}${condition})`;
}

function explanation(
  decision: 'allow' | 'deny',
  reason: PolicyDecisionReason,
  permission: string,
  role: string | null,
  rule: PolicyRuleReference | null,
  considered: readonly PolicyRuleReference[],
  message: string,
): PolicyExplanation {
  return { decision, reason, permission, role, rule, considered, message };
}

class CompiledPolicyEngine {
  readonly roles: readonly string[];
  readonly permissions: readonly string[];
  readonly #tables: Map<string, RoleTable>;
  readonly #entries: Map<string, Map<string, PermissionEntry>>;
  readonly #permissionSet: Set<string>;

  constructor(definition: unknown) {
    const compiled = compilePolicy(definition);
    this.roles = Object.freeze([...compiled.roles]);
    this.permissions = Object.freeze([...compiled.permissions]);
    this.#tables = compiled.tables;
    this.#entries = compiled.entries;
    this.#permissionSet = new Set(compiled.permissions);
  }

  can(
    principal: PolicyPrincipal | null | undefined,
    permission: string,
    resource?: unknown,
  ): boolean {
    if (typeof principal !== 'object' || principal === null) return false;
    const table = this.#tables.get(principal.role);
    if (table === undefined) return false;
    const entry = table.get(permission);
    if (entry === true) return true;
    if (entry === undefined) return false;
    return decide(entry, principal, resource);
  }

  authorize(
    principal: PolicyPrincipal | null | undefined,
    permission: string,
    resource?: unknown,
  ): void {
    if (!this.can(principal, permission, resource)) throw new AuthError('FORBIDDEN');
  }

  canSome(principal: PolicyPrincipal | null | undefined, permission: string): boolean {
    if (typeof principal !== 'object' || principal === null) return false;
    const entry = this.#tables.get(principal.role)?.get(permission);
    return entry === true || (entry !== undefined && entry.someAllowed);
  }

  hasRole(role: string): boolean {
    return this.#tables.has(role);
  }

  explain(
    principal: PolicyPrincipal | null | undefined,
    permission: string,
    resource?: unknown,
  ): PolicyExplanation {
    if (typeof principal !== 'object' || principal === null) {
      return explanation(
        'deny',
        'no_principal',
        permission,
        null,
        null,
        [],
        `No principal: '${permission}' needs an authenticated caller.`,
      );
    }
    const role = typeof principal.role === 'string' ? principal.role : String(principal.role);
    const entries = this.#entries.get(principal.role);
    if (entries === undefined) {
      return explanation(
        'deny',
        'unknown_role',
        permission,
        role,
        null,
        [],
        `Role '${role}' is not declared in the policy (declared: ${this.roles.join(', ')}).`,
      );
    }
    if (!this.#permissionSet.has(permission)) {
      return explanation(
        'deny',
        'unknown_permission',
        permission,
        role,
        null,
        [],
        `Permission '${permission}' is not declared in the policy.`,
      );
    }
    const entry = entries.get(permission);
    const noRule = (): PolicyExplanation =>
      explanation(
        'deny',
        'no_rule',
        permission,
        role,
        null,
        [],
        `No rule of role '${role}' or the roles it inherits allows '${permission}'.`,
      );
    if (entry === undefined) return noRule();
    if (entry.denyAlways !== null) {
      return explanation(
        'deny',
        'denied_by_rule',
        permission,
        role,
        entry.denyAlways,
        [],
        `Denied by ${describeRule(entry.denyAlways)}.`,
      );
    }
    const hasResource = typeof resource === 'object' && resource !== null;
    for (const deny of entry.denies) {
      const result = hasResource ? evaluate(deny, principal, resource) : UNKNOWN;
      if (result === TRUE) {
        return explanation(
          'deny',
          'denied_by_rule',
          permission,
          role,
          deny.ref,
          [],
          `Denied by ${describeRule(deny.ref)}.`,
        );
      }
      if (result === UNKNOWN) {
        const why = hasResource
          ? 'a field it compares is missing, or its condition did not return a boolean'
          : 'no resource was given to check its condition';
        return explanation(
          'deny',
          'deny_not_ruled_out',
          permission,
          role,
          deny.ref,
          [],
          `Denied because ${describeRule(deny.ref)} could not be ruled out: ${why}.`,
        );
      }
    }
    if (entry.allowAlways !== null) {
      return explanation(
        'allow',
        'allowed',
        permission,
        role,
        entry.allowAlways,
        [],
        `Allowed by ${describeRule(entry.allowAlways)}.`,
      );
    }
    if (entry.allows.length === 0) return noRule();
    const considered = entry.allows.map((allow) => allow.ref);
    if (!hasResource) {
      return explanation(
        'deny',
        'resource_required',
        permission,
        role,
        null,
        considered,
        `'${permission}' is granted to role '${role}' only under conditions, and no resource was given to check them (use canSome() to ask about some instance).`,
      );
    }
    for (const allow of entry.allows) {
      if (evaluate(allow, principal, resource) === TRUE) {
        return explanation(
          'allow',
          'allowed',
          permission,
          role,
          allow.ref,
          [],
          `Allowed by ${describeRule(allow.ref)}.`,
        );
      }
    }
    return explanation(
      'deny',
      'condition_not_met',
      permission,
      role,
      null,
      considered,
      `No condition of the rules granting '${permission}' to role '${role}' held: ${considered.map(describeRule).join('; ')}.`,
    );
  }

  filter(principal: PolicyPrincipal | null | undefined, permission: string): PolicyFilter {
    const none: PolicyFilter = { kind: 'none' };
    if (typeof principal !== 'object' || principal === null) return none;
    const entry = this.#entries.get(principal.role)?.get(permission);
    if (entry === undefined || !entry.someAllowed) return none;
    const noneOf = new Map<string, FieldEquals[]>();
    for (const deny of entry.denies) {
      const conjunction = this.#toConjunction(deny, principal, permission);
      if (conjunction === null) return none;
      noneOf.set(conjunctionKey(conjunction), conjunction);
    }
    const anyOf = new Map<string, FieldEquals[]>();
    if (entry.allowAlways !== null) {
      if (noneOf.size === 0) return { kind: 'all' };
      anyOf.set('', []);
    } else {
      for (const allow of entry.allows) {
        const conjunction = this.#toConjunction(allow, principal, permission);
        if (conjunction !== null) anyOf.set(conjunctionKey(conjunction), conjunction);
      }
      if (anyOf.size === 0) return none;
    }
    return { kind: 'where', anyOf: [...anyOf.values()], noneOf: [...noneOf.values()] };
  }

  /** The condition with the principal's values filled in; `null` when a principal field is missing. */
  #toConjunction(
    condition: CompiledCondition,
    principal: object,
    permission: string,
  ): FieldEquals[] | null {
    if (condition.when !== null) {
      throw new AuthError(
        'INVALID_CONFIG',
        `Invalid policy: filter('${permission}') cannot express the function condition of ${describeRule(condition.ref)} as data; use a where condition, or check each row with can()`,
      );
    }
    const conjunction: FieldEquals[] = [];
    for (let i = 0; i < condition.fields.length; i++) {
      const kind = condition.kinds[i]!;
      let value = condition.values[i];
      if (kind !== LITERAL) {
        value = principalValue(principal, kind, value as string);
        if (!isComparable(value)) return null;
      }
      conjunction.push({ field: condition.fields[i]!, equals: value as FieldEquals['equals'] });
    }
    return conjunction;
  }
}

/** A policy seen without its model types (for code that wraps one, like `createAuth`). */
export type UntypedPolicy = Pick<
  CompiledPolicyEngine,
  'can' | 'authorize' | 'canSome' | 'explain' | 'filter'
>;

function conjunctionKey(conjunction: readonly FieldEquals[]): string {
  return conjunction
    .map((c) => `${c.field}=${typeof c.equals}:${String(c.equals)}`)
    .sort()
    .join('\u0000');
}

/**
 * Declares and compiles an authorization policy: resources with their actions, and roles with
 * `allow` and `deny` rules and `inherits`. Resource and action names declared here type every
 * permission string: a misspelt permission is a compile error. The definition is validated and
 * compiled into lookup tables at once; a mistake (unknown role or resource, inheritance cycle,
 * malformed permission, bad condition) throws `AuthError('INVALID_CONFIG')` naming the culprit.
 *
 * Rules: `'users:read'`, `'users:*'`, `'*'`, or `{ resource, actions, where?, when? }`. A
 * `where` compares resource fields with literals or principal fields (`{ principal: 'userId' }`);
 * a `when` is a function for anything else. A deny that matches (or cannot be ruled out) beats
 * every allow; anything not allowed is denied.
 *
 * @example
 * ```ts
 * import { definePolicy, resource } from 'gatehouse';
 *
 * interface Order { id: string; userId: string }
 *
 * export const policy = definePolicy({
 *   resources: {
 *     users: ['read', 'update', 'delete'],
 *     orders: resource<Order>()(['create', 'read']),
 *   },
 *   roles: {
 *     user: {
 *       allow: [
 *         'orders:create',
 *         { resource: 'orders', actions: ['read'], where: { userId: { principal: 'userId' } } },
 *       ],
 *     },
 *     admin: { inherits: ['user'], allow: ['users:*'] },
 *   },
 * });
 * ```
 */
export function definePolicy<const M extends ResourceModel, const R extends string>(
  definition: PolicyDefinition<M, R>,
): Policy<M, R> {
  return new CompiledPolicyEngine(definition) as unknown as Policy<M, R>;
}

/**
 * Declares a resource with the type of its instances, so that `where` fields, `when` functions
 * and the resource argument of checks are typed. Call it twice: once with the type, once with
 * the actions. Declare only the fields the policy reads.
 *
 * @example
 * ```ts
 * interface Order { id: string; userId: string; status: 'open' | 'paid' }
 * const resources = { orders: resource<Order>()(['create', 'read', 'cancel']) };
 * ```
 */
export function resource<T extends object = Record<string, unknown>>(): <const A extends string>(
  actions: readonly A[],
) => ResourceSpec<T, A> {
  return (actions) => ({ actions });
}
