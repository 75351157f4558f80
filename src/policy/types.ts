// The type-level model of a policy: resource and action names are declared once in
// `definePolicy({ resources })` and every permission string, condition field and check call is
// typed from them.

declare const resourceTypeBrand: unique symbol;

/**
 * A resource declared with the type of its instances, made by {@link resource}. The type is
 * only a compile-time brand: at run time this is `{ actions }`.
 *
 * @example
 * ```ts
 * const orders: ResourceSpec<Order, 'read' | 'cancel'> = resource<Order>()(['read', 'cancel']);
 * ```
 */
export interface ResourceSpec<
  T extends object = Record<string, unknown>,
  A extends string = string,
> {
  readonly actions: readonly A[];
  /** Compile-time only: the type of this resource's instances. */
  readonly [resourceTypeBrand]?: T;
}

/**
 * How one resource is declared: its actions, optionally with the type of its instances.
 *
 * @example
 * ```ts
 * const users: ResourceDeclaration = ['read', 'update'];
 * ```
 */
export type ResourceDeclaration = readonly string[] | ResourceSpec<object, string>;

/**
 * The `resources` of a policy: resource name to declaration.
 *
 * @example
 * ```ts
 * const resources = { users: ['read'], orders: resource<Order>()(['read']) } satisfies ResourceModel;
 * ```
 */
export type ResourceModel = Record<string, ResourceDeclaration>;

/**
 * The action names declared for resource `K`.
 *
 * @example
 * ```ts
 * type OrderAction = ActionOf<{ orders: readonly ['read', 'cancel'] }, 'orders'>; // 'read' | 'cancel'
 * ```
 */
export type ActionOf<M, K extends keyof M> = ActionsOfDeclaration<M[K]>;

type ActionsOfDeclaration<D> =
  D extends ResourceSpec<object, infer A>
    ? A
    : D extends readonly (infer A extends string)[]
      ? A
      : never;

/**
 * The instance type declared for resource `K` (`Record<string, unknown>` when undeclared).
 *
 * @example
 * ```ts
 * type O = ResourceTypeOf<{ orders: ResourceSpec<Order, 'read'> }, 'orders'>; // Order
 * ```
 */
export type ResourceTypeOf<M, K extends keyof M> = InstanceOfDeclaration<M[K]>;

type InstanceOfDeclaration<D> =
  D extends ResourceSpec<infer T, string> ? T : Record<string, unknown>;

/**
 * A concrete permission `resource:action` of model `M`: what a check asks for.
 *
 * @example
 * ```ts
 * type P = Permission<{ users: readonly ['read', 'delete'] }>; // 'users:read' | 'users:delete'
 * ```
 */
export type Permission<M> = {
  [K in keyof M & string]: `${K}:${ActionOf<M, K>}`;
}[keyof M & string];

/**
 * A permission as a rule may grant or deny it: concrete, `resource:*`, or `*` (everything).
 *
 * @example
 * ```ts
 * const rules: RulePermission<{ users: readonly ['read'] }>[] = ['users:read', 'users:*', '*'];
 * ```
 */
export type RulePermission<M> = Permission<M> | `${keyof M & string}:*` | '*';

/** The resource name of permission `P`. */
export type ResourceNameOf<P extends string> = P extends `${infer K}:${string}` ? K : never;

/**
 * The resource argument a check of permission `P` accepts: the declared instance type, or any
 * object when the resource was declared without one.
 *
 * @example
 * ```ts
 * type R = CheckedResource<{ orders: ResourceSpec<Order, 'read'> }, 'orders:read'>; // Order
 * ```
 */
export type CheckedResource<M, P extends string> =
  ResourceNameOf<P> extends infer K extends keyof M
    ? string extends keyof ResourceTypeOf<M, K>
      ? object
      : ResourceTypeOf<M, K>
    : object;

/**
 * The caller a policy decides for. The principal produced by token verification fits; any object
 * with at least `userId` and `role` works.
 *
 * @example
 * ```ts
 * const principal: PolicyPrincipal = { userId: 'u1', role: 'user', claims: { tenantId: 't1' } };
 * ```
 */
export interface PolicyPrincipal {
  readonly userId: string;
  readonly role: string;
  readonly email?: string;
  readonly sessionId?: string;
  readonly claims?: Readonly<Record<string, unknown>>;
}

/**
 * A principal field a declarative condition can compare with: a top-level field or a claim.
 *
 * @example
 * ```ts
 * const field: PrincipalField = 'claims.tenantId';
 * ```
 */
export type PrincipalField = 'userId' | 'role' | 'email' | 'sessionId' | `claims.${string}`;

/**
 * A value a declarative condition can compare a resource field with.
 *
 * @example
 * ```ts
 * const where = { status: 'open', archived: false, deletedAt: null }; // all ConditionLiteral
 * ```
 */
export type ConditionLiteral = string | number | boolean | bigint | null;

/**
 * "This resource field equals that field of the principal", e.g. `{ principal: 'userId' }`.
 *
 * @example
 * ```ts
 * const where = { userId: { principal: 'userId' } satisfies PrincipalReference };
 * ```
 */
export interface PrincipalReference {
  readonly principal: PrincipalField;
}

/**
 * A declarative condition: every listed resource field must equal its value, which is a literal
 * or a {@link PrincipalReference}.
 *
 * @example
 * ```ts
 * const mine: WhereCondition<Order> = { userId: { principal: 'userId' }, status: 'open' };
 * ```
 */
export type WhereCondition<T> = {
  readonly [F in keyof T & string]?:
    | (unknown extends T[F] ? ConditionLiteral : Extract<T[F], ConditionLiteral>)
    | PrincipalReference;
};

/**
 * A function condition for anything a `where` cannot say. Only a return value of exactly `true`
 * counts as "holds" (a promise, a truthy string or a throw never grants anything).
 *
 * @example
 * ```ts
 * const small: WhenCondition<Order> = (principal, order) => order.total < 100;
 * ```
 */
export type WhenCondition<T> = (principal: PolicyPrincipal, resource: T) => boolean;

/**
 * A rule on one resource's actions, optionally conditional.
 *
 * @example
 * ```ts
 * { resource: 'orders', actions: ['read'], where: { userId: { principal: 'userId' } } }
 * ```
 */
export type ConditionalRule<M> = {
  [K in keyof M & string]: {
    readonly resource: K;
    /** The actions this rule covers, or `'*'` for all of the resource's actions. */
    readonly actions: '*' | readonly ActionOf<M, K>[];
    /** Declarative condition: field equals literal or principal field (AND of all entries). */
    readonly where?: WhereCondition<ResourceTypeOf<M, K>>;
    /** Function condition; ANDed with `where` when both are given. */
    readonly when?: WhenCondition<ResourceTypeOf<M, K>>;
  };
}[keyof M & string];

/**
 * One entry of a role's `allow` or `deny` list.
 *
 * @example
 * ```ts
 * const allow = ['orders:create', 'users:*', { resource: 'orders', actions: '*', where: { userId: { principal: 'userId' } } }];
 * ```
 */
export type PolicyRule<M> = RulePermission<M> | ConditionalRule<M>;

/**
 * One role of a policy.
 *
 * @example
 * ```ts
 * const admin = { inherits: ['user'], allow: ['users:*'], deny: ['orders:refund'], description: 'Staff' };
 * ```
 */
export interface RoleDefinition<M, R extends string> {
  /** Roles whose rules (allows and denies) this role also has; any number, any depth. */
  readonly inherits?: readonly R[];
  /** What this role may do. Anything not allowed is denied. */
  readonly allow?: readonly PolicyRule<M>[];
  /** What this role may never do; a matching deny beats every allow, inherited or not. */
  readonly deny?: readonly PolicyRule<M>[];
  /** Free text for humans and `explain()`. */
  readonly description?: string;
}

/**
 * The argument of `definePolicy`.
 *
 * @example
 * ```ts
 * definePolicy({ resources: { users: ['read'] }, roles: { user: { allow: ['users:read'] } } });
 * ```
 */
export interface PolicyDefinition<M extends ResourceModel, R extends string> {
  readonly resources: M;
  readonly roles: { readonly [K in R]: RoleDefinition<NoInfer<M>, NoInfer<R>> };
}

/**
 * A rule as `explain()` reports it: where it was declared and what it says, never any data.
 *
 * @example
 * ```ts
 * // { role: 'user', effect: 'allow', index: 0, permissions: 'orders:read', condition: 'userId = principal.userId' }
 * const rule = auth.explain(principal, 'orders:read', order).rule;
 * ```
 */
export interface PolicyRuleReference {
  /** The role that declared the rule (an ancestor of the principal's role when inherited). */
  readonly role: string;
  readonly effect: 'allow' | 'deny';
  /** Position in that role's `allow` or `deny` list. */
  readonly index: number;
  /** The permissions as declared, e.g. `users:read, users:update` or `orders:*`. */
  readonly permissions: string;
  /** The condition in words, e.g. `id = principal.userId`; `null` when unconditional. */
  readonly condition: string | null;
}

/**
 * Why a decision was made; stable strings for logs and audit events.
 *
 * @example
 * ```ts
 * const needsOrder = auth.explain(principal, 'orders:read').reason === 'resource_required';
 * ```
 */
export type PolicyDecisionReason =
  | 'allowed'
  | 'denied_by_rule'
  | 'deny_not_ruled_out'
  | 'resource_required'
  | 'condition_not_met'
  | 'no_rule'
  | 'unknown_role'
  | 'unknown_permission'
  | 'no_principal';

/**
 * The result of `explain()`: the decision, the rule and role that made it, or why nothing
 * matched. Contains no field of the resource, so it can go into an `ACCESS_DENIED` audit event.
 *
 * @example
 * ```ts
 * const why: PolicyExplanation = auth.explain(principal, 'users:delete', target);
 * logger.info(why.message, { reason: why.reason, rule: why.rule });
 * ```
 */
export interface PolicyExplanation {
  readonly decision: 'allow' | 'deny';
  readonly reason: PolicyDecisionReason;
  readonly permission: string;
  /** The principal's role as given (`null` without a principal). */
  readonly role: string | null;
  /** The rule that decided; `null` when no rule did (no rule, unknown role, ...). */
  readonly rule: PolicyRuleReference | null;
  /** Conditional allows that were considered but did not hold (why nothing matched). */
  readonly considered: readonly PolicyRuleReference[];
  /** One sentence for a developer. */
  readonly message: string;
}

/**
 * One equality of a {@link PolicyFilter}: resource field `field` equals `equals`.
 *
 * @example
 * ```ts
 * const term: FieldEquals = { field: 'userId', equals: 'u1' };
 * ```
 */
export interface FieldEquals {
  readonly field: string;
  readonly equals: ConditionLiteral;
}

/**
 * A policy's conditions for one permission and principal as plain data, for a store to turn into
 * a query (`WHERE`). `where` keeps a row when at least one conjunction of `anyOf` holds (an empty
 * conjunction always holds) and no conjunction of `noneOf` holds or is unknown (a missing/NULL
 * field in a deny condition excludes the row: fail closed, like SQL's `NOT` on NULL).
 *
 * @example
 * ```ts
 * const filter: PolicyFilter = auth.filter(principal, 'orders:read');
 * // { kind: 'where', anyOf: [[{ field: 'userId', equals: 'u1' }]], noneOf: [] }
 * ```
 */
export type PolicyFilter =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | {
      readonly kind: 'where';
      readonly anyOf: readonly (readonly FieldEquals[])[];
      readonly noneOf: readonly (readonly FieldEquals[])[];
    };
