// Validates a policy definition and compiles it into per-role lookup tables. Everything that can
// be wrong with a definition is refused here, with a message naming the culprit, so that a check
// at request time never throws.
import { AuthError } from '../errors.js';
import type { PolicyRuleReference } from './types.js';

/** A compiled condition; `kinds[i]`: 0 literal, 1 principal field, 2 principal claim. */
export interface CompiledCondition {
  readonly fields: readonly string[];
  readonly kinds: readonly number[];
  readonly values: readonly unknown[];
  readonly when: ((principal: never, resource: never) => unknown) | null;
  readonly ref: PolicyRuleReference;
}

export interface PermissionEntry {
  readonly denyAlways: PolicyRuleReference | null;
  readonly allowAlways: PolicyRuleReference | null;
  readonly denies: readonly CompiledCondition[];
  readonly allows: readonly CompiledCondition[];
  /** Some allow exists and no unconditional deny: "may they do this to some instance". */
  readonly someAllowed: boolean;
}

/** Permission to entry; `true` is an unconditional allow with no deny (the fast path). */
export type RoleTable = Map<string, PermissionEntry | true>;

export interface CompiledPolicy {
  /** The hot-path tables of `can()`. */
  readonly tables: Map<string, RoleTable>;
  /** Every entry in full (with the rule behind a `true`), for `explain()` and `filter()`. */
  readonly entries: Map<string, Map<string, PermissionEntry>>;
  readonly roles: readonly string[];
  readonly permissions: readonly string[];
}

export const LITERAL = 0;
export const PRINCIPAL_FIELD = 1;
export const PRINCIPAL_CLAIM = 2;

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PRINCIPAL_FIELDS = new Set(['userId', 'role', 'email', 'sessionId']);
const POLICY_KEYS = new Set(['resources', 'roles']);
const ROLE_KEYS = new Set(['inherits', 'allow', 'deny', 'description']);
const RULE_KEYS = new Set(['resource', 'actions', 'where', 'when']);

function refuse(message: string): never {
  throw new AuthError('INVALID_CONFIG', `Invalid policy: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      refuse(`${where} has unknown key '${key}' (expected one of: ${[...allowed].join(', ')})`);
    }
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function readResources(input: unknown): Map<string, readonly string[]> {
  if (!isPlainObject(input) || Object.keys(input).length === 0) {
    refuse('`resources` must be an object declaring at least one resource and its actions');
  }
  const resources = new Map<string, readonly string[]>();
  for (const [name, declaration] of Object.entries(input)) {
    if (!NAME.test(name)) {
      refuse(`resource name '${name}' must be letters, digits, '_' or '-' (no ':' or '*')`);
    }
    const actions = Array.isArray(declaration)
      ? (declaration as unknown[])
      : isPlainObject(declaration) && Array.isArray(declaration.actions)
        ? (declaration.actions as unknown[])
        : refuse(`resource '${name}' must be declared as an array of actions or resource()(...)`);
    if (actions.length === 0) refuse(`resource '${name}' declares no actions`);
    const seen = new Set<string>();
    for (const action of actions) {
      if (typeof action !== 'string' || !NAME.test(action)) {
        refuse(
          `action ${show(action)} of resource '${name}' must be letters, digits, '_' or '-' (no ':' or '*')`,
        );
      }
      if (seen.has(action)) refuse(`resource '${name}' declares action '${action}' twice`);
      seen.add(action);
    }
    resources.set(name, [...seen]);
  }
  return resources;
}

interface CompiledRule {
  readonly permissions: readonly string[];
  readonly condition: CompiledCondition | null;
  readonly ref: PolicyRuleReference;
}

function parsePermissionString(
  text: unknown,
  resources: Map<string, readonly string[]>,
  where: string,
): { permissions: string[]; declared: string } {
  if (typeof text !== 'string') {
    refuse(
      `${where} must be a permission string or a { resource, actions } rule, got ${show(text)}`,
    );
  }
  if (text === '*') {
    const all: string[] = [];
    for (const [name, actions] of resources) for (const a of actions) all.push(`${name}:${a}`);
    return { permissions: all, declared: '*' };
  }
  const parts = text.split(':');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    refuse(
      `${where}: malformed permission '${text}' (expected 'resource:action', 'resource:*' or '*')`,
    );
  }
  const [resourceName, action] = parts as [string, string];
  const actions = resources.get(resourceName);
  if (!actions) {
    refuse(
      `${where}: unknown resource '${resourceName}' in '${text}' (declared: ${[...resources.keys()].join(', ')})`,
    );
  }
  if (action === '*') {
    return { permissions: actions.map((a) => `${resourceName}:${a}`), declared: text };
  }
  if (!actions.includes(action)) {
    refuse(
      `${where}: unknown action '${action}' of resource '${resourceName}' in '${text}' (declared: ${actions.join(', ')})`,
    );
  }
  return { permissions: [text], declared: text };
}

function compileWhere(
  input: unknown,
  where: string,
): { fields: string[]; kinds: number[]; values: unknown[]; words: string[] } {
  if (!isPlainObject(input)) refuse(`${where}.where must be an object of field: value`);
  const entries = Object.entries(input);
  if (entries.length === 0) {
    refuse(`${where}.where is empty; omit it for an unconditional rule`);
  }
  const fields: string[] = [];
  const kinds: number[] = [];
  const values: unknown[] = [];
  const words: string[] = [];
  for (const [field, value] of entries) {
    if (!FIELD.test(field)) {
      refuse(`${where}.where: field '${field}' must be an identifier (letters, digits, '_')`);
    }
    fields.push(field);
    if (isPlainObject(value)) {
      checkKeys(value, new Set(['principal']), `${where}.where.${field}`);
      const ref = value.principal;
      if (typeof ref === 'string' && PRINCIPAL_FIELDS.has(ref)) {
        kinds.push(PRINCIPAL_FIELD);
        values.push(ref);
      } else if (typeof ref === 'string' && ref.startsWith('claims.') && FIELD.test(ref.slice(7))) {
        kinds.push(PRINCIPAL_CLAIM);
        values.push(ref.slice(7));
      } else {
        refuse(
          `${where}.where.${field}: unknown principal field ${show(ref)} (expected userId, role, email, sessionId or claims.<name>)`,
        );
      }
      words.push(`${field} = principal.${ref}`);
      continue;
    }
    const literal =
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      typeof value === 'bigint' ||
      (typeof value === 'number' && !Number.isNaN(value));
    if (!literal) {
      refuse(
        `${where}.where.${field} must be a string, number, boolean, bigint, null or { principal: '<field>' }, got ${show(value)}`,
      );
    }
    kinds.push(LITERAL);
    values.push(value);
    words.push(`${field} = ${show(value)}`);
  }
  return { fields, kinds, values, words };
}

function compileRule(
  rule: unknown,
  resources: Map<string, readonly string[]>,
  role: string,
  effect: 'allow' | 'deny',
  index: number,
): CompiledRule {
  const where = `role '${role}' ${effect}[${index}]`;
  if (!isPlainObject(rule)) {
    const { permissions, declared } = parsePermissionString(rule, resources, where);
    return {
      permissions,
      condition: null,
      ref: { role, effect, index, permissions: declared, condition: null },
    };
  }
  checkKeys(rule, RULE_KEYS, where);
  const resourceName = rule.resource;
  const actions = typeof resourceName === 'string' ? resources.get(resourceName) : undefined;
  if (!actions) {
    refuse(
      `${where}: unknown resource ${show(resourceName)} (declared: ${[...resources.keys()].join(', ')})`,
    );
  }
  let permissions: string[];
  let declared: string;
  if (rule.actions === '*') {
    permissions = actions.map((a) => `${resourceName}:${a}`);
    declared = `${resourceName}:*`;
  } else if (Array.isArray(rule.actions) && rule.actions.length > 0) {
    permissions = [];
    for (const action of rule.actions as unknown[]) {
      if (typeof action !== 'string' || !actions.includes(action)) {
        refuse(
          `${where}: unknown action ${show(action)} of resource '${resourceName}' (declared: ${actions.join(', ')})`,
        );
      }
      permissions.push(`${resourceName}:${action}`);
    }
    declared = permissions.join(', ');
  } else {
    refuse(
      `${where}: \`actions\` must be '*' or a non-empty array of actions of '${resourceName}'`,
    );
  }
  if (rule.where === undefined && rule.when === undefined) {
    return {
      permissions,
      condition: null,
      ref: { role, effect, index, permissions: declared, condition: null },
    };
  }
  if (rule.when !== undefined && typeof rule.when !== 'function') {
    refuse(`${where}.when must be a function (principal, resource) => boolean`);
  }
  const compiled =
    rule.where === undefined
      ? { fields: [], kinds: [], values: [], words: [] as string[] }
      : compileWhere(rule.where, where);
  const when = (rule.when as CompiledCondition['when'] | undefined) ?? null;
  if (when) compiled.words.push(`when ${when.name || 'function'}()`);
  const ref: PolicyRuleReference = {
    role,
    effect,
    index,
    permissions: declared,
    condition: compiled.words.join(' and '),
  };
  return {
    permissions,
    condition: {
      fields: compiled.fields,
      kinds: compiled.kinds,
      values: compiled.values,
      when,
      ref,
    },
    ref,
  };
}

interface RoleInput {
  inherits: readonly string[];
  allow: readonly unknown[];
  deny: readonly unknown[];
}

function readRoles(input: unknown): Map<string, RoleInput> {
  if (!isPlainObject(input) || Object.keys(input).length === 0) {
    refuse('`roles` must be an object declaring at least one role');
  }
  const roles = new Map<string, RoleInput>();
  for (const [name, definition] of Object.entries(input)) {
    if (name.trim() === '' || name !== name.trim()) {
      refuse(`role name ${show(name)} must be non-empty without surrounding spaces`);
    }
    if (!isPlainObject(definition)) refuse(`role '${name}' must be an object`);
    checkKeys(definition, ROLE_KEYS, `role '${name}'`);
    const list = (key: 'inherits' | 'allow' | 'deny'): readonly unknown[] => {
      const value = definition[key];
      if (value === undefined) return [];
      if (!Array.isArray(value)) refuse(`role '${name}'.${key} must be an array`);
      return value;
    };
    const inherits = list('inherits');
    for (const parent of inherits) {
      if (typeof parent !== 'string')
        refuse(`role '${name}' inherits ${show(parent)}, not a role name`);
    }
    if (definition.description !== undefined && typeof definition.description !== 'string') {
      refuse(`role '${name}'.description must be a string`);
    }
    roles.set(name, {
      inherits: inherits as string[],
      allow: list('allow'),
      deny: list('deny'),
    });
  }
  for (const [name, role] of roles) {
    for (const parent of role.inherits) {
      if (!roles.has(parent)) {
        refuse(
          `role '${name}' inherits unknown role '${parent}' (declared: ${[...roles.keys()].join(', ')})`,
        );
      }
    }
  }
  return roles;
}

function refuseCycles(roles: Map<string, RoleInput>): void {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): void => {
    const at = path.indexOf(name);
    if (at !== -1) refuse(`inheritance cycle: ${[...path.slice(at), name].join(' -> ')}`);
    if (done.has(name)) return;
    path.push(name);
    for (const parent of roles.get(name)!.inherits) visit(parent);
    path.pop();
    done.add(name);
  };
  for (const name of roles.keys()) visit(name);
}

/** The role itself first, then every ancestor once (breadth first). */
function lineage(name: string, roles: Map<string, RoleInput>): string[] {
  const order = [name];
  for (let i = 0; i < order.length; i++) {
    for (const parent of roles.get(order[i]!)!.inherits) {
      if (!order.includes(parent)) order.push(parent);
    }
  }
  return order;
}

interface EntryDraft {
  denyAlways: PolicyRuleReference | null;
  allowAlways: PolicyRuleReference | null;
  denies: CompiledCondition[];
  allows: CompiledCondition[];
}

/** Validates `definition` and compiles it into lookup tables; throws INVALID_CONFIG naming the culprit. */
export function compilePolicy(definition: unknown): CompiledPolicy {
  if (!isPlainObject(definition)) refuse('definePolicy() needs { resources, roles }');
  checkKeys(definition, POLICY_KEYS, 'the definition');
  const resources = readResources(definition.resources);
  const roles = readRoles(definition.roles);
  refuseCycles(roles);

  const rulesOf = new Map<string, CompiledRule[]>();
  for (const [name, role] of roles) {
    rulesOf.set(name, [
      ...role.allow.map((rule, i) => compileRule(rule, resources, name, 'allow', i)),
      ...role.deny.map((rule, i) => compileRule(rule, resources, name, 'deny', i)),
    ]);
  }

  const tables = new Map<string, RoleTable>();
  const entries = new Map<string, Map<string, PermissionEntry>>();
  for (const name of roles.keys()) {
    const drafts = new Map<string, EntryDraft>();
    for (const ancestor of lineage(name, roles)) {
      for (const rule of rulesOf.get(ancestor)!) {
        for (const permission of rule.permissions) {
          let draft = drafts.get(permission);
          if (!draft) {
            draft = { denyAlways: null, allowAlways: null, denies: [], allows: [] };
            drafts.set(permission, draft);
          }
          if (rule.ref.effect === 'deny') {
            if (rule.condition) draft.denies.push(rule.condition);
            else draft.denyAlways ??= rule.ref;
          } else if (rule.condition) draft.allows.push(rule.condition);
          else draft.allowAlways ??= rule.ref;
        }
      }
    }
    const table: RoleTable = new Map();
    const full = new Map<string, PermissionEntry>();
    for (const [permission, draft] of drafts) {
      const someAllowed =
        draft.denyAlways === null && (draft.allowAlways !== null || draft.allows.length > 0);
      const entry: PermissionEntry = { ...draft, someAllowed };
      full.set(permission, entry);
      const unconditional = draft.allowAlways && !draft.denyAlways && draft.denies.length === 0;
      table.set(permission, unconditional ? true : entry);
    }
    tables.set(name, table);
    entries.set(name, full);
  }

  const permissions: string[] = [];
  for (const [name, actions] of resources)
    for (const a of actions) permissions.push(`${name}:${a}`);
  return { tables, entries, roles: [...roles.keys()], permissions };
}
