// Store instrumentation. When telemetry is on, createAuth wraps every store it uses (users,
// attempts, rate limits, tokens, one-time tokens, mail outbox, MFA) so that each call records
// `gatehouse.store.duration` and, when it fails, `gatehouse.store.errors`, in a child span of the
// active one. When telemetry is off nothing is wrapped: the stores createAuth holds are the very
// objects it was given.
//
// A wrapper changes nothing a caller can observe but the time: the same methods (an optional one
// the store lacks stays absent, since the core changes behaviour on its presence), called on the
// store itself (`this`), with the same arguments, answering the same values, and failing with the
// very same error, synchronously when the store throws synchronously. Attributes carry the store
// and operation names only, never an argument or a result.
import type { Context, Meter, Span, SpanOptions, Tracer } from '@opentelemetry/api';
import { isAuthError } from '../errors.js';
import { OPTIONAL_TOKEN_STORE_METHODS, REQUIRED_STORE_METHODS } from '../stores/methods.js';
import type {
  AttemptStore,
  AuditLogStore,
  MailOutboxStore,
  MfaStore,
  OneTimeTokenStore,
  RateLimitStore,
  TokenStore,
  UserStore,
} from '../stores/types.js';
import type { OtelApi } from './load.js';
import type { Telemetry } from './telemetry.js';

/** The histogram of store call durations, in seconds. */
export const STORE_DURATION = 'gatehouse.store.duration';
/** The counter of failed store calls. */
export const STORE_ERRORS = 'gatehouse.store.errors';

/** The stores an instance uses, under their instrumentation names (the `store` attribute). */
export interface InstrumentedStores {
  users: UserStore;
  attempts: AttemptStore;
  rate_limits: RateLimitStore;
  tokens: TokenStore;
  one_time_tokens: OneTimeTokenStore;
  mail_outbox: MailOutboxStore;
  mfa: MfaStore;
  /** `stores.auditLog`, when the app gives one (it is optional). */
  audit_log?: AuditLogStore;
}

/** The value of the `store` attribute. */
export type StoreName = keyof InstrumentedStores;

/**
 * The methods of a store interface, each exactly once: a list that misses one does not compile,
 * so a method added to an interface cannot go missing from its wrapper.
 */
type MethodList<S> = readonly (keyof S & string)[];
function allMethods<S>() {
  return <const L extends MethodList<S>>(
    list: L &
      (Exclude<keyof S, L[number]> extends never
        ? unknown
        : { missing: Exclude<keyof S, L[number]> }),
  ): L => list;
}

/** Timed and counted: every round trip of each interface (optional ones only when present). */
const OPERATIONS = {
  users: allMethods<UserStore>()([...REQUIRED_STORE_METHODS.users]),
  attempts: allMethods<AttemptStore>()([...REQUIRED_STORE_METHODS.attempts]),
  rate_limits: allMethods<RateLimitStore>()([...REQUIRED_STORE_METHODS.rateLimits]),
  tokens: allMethods<TokenStore>()([
    ...REQUIRED_STORE_METHODS.tokens,
    ...OPTIONAL_TOKEN_STORE_METHODS,
  ]),
  one_time_tokens: allMethods<OneTimeTokenStore>()([...REQUIRED_STORE_METHODS.oneTimeTokens]),
  mail_outbox: allMethods<MailOutboxStore>()([...REQUIRED_STORE_METHODS.outbox]),
  mfa: allMethods<MfaStore>()([...REQUIRED_STORE_METHODS.mfa]),
  audit_log: allMethods<AuditLogStore>()([...REQUIRED_STORE_METHODS.auditLog]),
} satisfies { [K in StoreName]-?: MethodList<NonNullable<InstrumentedStores[K]>> };

/**
 * Forwarded untimed: not a round trip but a subscription that answers synchronously (its events
 * reach the listener unchanged).
 */
const PASSED_THROUGH: ReadonlySet<string> = new Set(['watchRevocations']);

type AnyMethod = (...args: unknown[]) => unknown;

function wrapStore<S extends object>(
  telemetry: Telemetry,
  store: StoreName,
  inner: S,
  methods: MethodList<S>,
): S {
  const wrapper: Record<string, AnyMethod> = {};
  for (const operation of methods) {
    // Absent (or an own property holding undefined, as a class field may): stays absent.
    if (typeof inner[operation] !== 'function') continue;
    if (PASSED_THROUGH.has(operation)) {
      wrapper[operation] = (...args) => Reflect.apply(inner[operation] as AnyMethod, inner, args);
      continue;
    }
    // The method is looked up at each call, and called on the store itself.
    wrapper[operation] = (...args) =>
      telemetry.storeCall(
        store,
        operation,
        () => Reflect.apply(inner[operation] as AnyMethod, inner, args) as Promise<unknown>,
      );
  }
  return wrapper as S;
}

/**
 * The stores createAuth uses, each wrapped to record its calls, when `telemetry` is on; the very
 * same objects (no wrapper, no cost) when it is off.
 */
export function instrumentStores(
  telemetry: Telemetry,
  stores: InstrumentedStores,
): InstrumentedStores {
  if (!telemetry.enabled) return stores;
  return {
    users: wrapStore(telemetry, 'users', stores.users, OPERATIONS.users),
    attempts: wrapStore(telemetry, 'attempts', stores.attempts, OPERATIONS.attempts),
    rate_limits: wrapStore(telemetry, 'rate_limits', stores.rate_limits, OPERATIONS.rate_limits),
    tokens: wrapStore(telemetry, 'tokens', stores.tokens, OPERATIONS.tokens),
    one_time_tokens: wrapStore(
      telemetry,
      'one_time_tokens',
      stores.one_time_tokens,
      OPERATIONS.one_time_tokens,
    ),
    mail_outbox: wrapStore(telemetry, 'mail_outbox', stores.mail_outbox, OPERATIONS.mail_outbox),
    mfa: wrapStore(telemetry, 'mfa', stores.mfa, OPERATIONS.mfa),
    ...(stores.audit_log
      ? { audit_log: wrapStore(telemetry, 'audit_log', stores.audit_log, OPERATIONS.audit_log) }
      : {}),
  };
}

/**
 * The `error.type` of a failed store call: `unavailable` for a store that cannot be reached
 * (`SERVER_ERROR` with status 503), the lower-cased code of any other `AuthError` (a bounded set,
 * e.g. `email_taken`), `error` for anything else.
 */
export function storeErrorType(error: unknown): string {
  if (!isAuthError(error)) return 'error';
  return error.status === 503 ? 'unavailable' : error.code.toLowerCase();
}

type Attributes = Record<string, string>;

/**
 * Bucket bounds of `gatehouse.store.duration`, in seconds: from half a millisecond (a memory store)
 * to ten seconds (a database that stopped answering). The SDK's default bounds start at 5 and
 * would put every healthy call in the first bucket.
 */
export const STORE_DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

interface OperationRecord {
  readonly spanName: string;
  readonly spanOptions: SpanOptions;
  readonly attributes: Attributes;
  /** By `error.type`, built on first use. */
  readonly errorAttributes: Map<string, Attributes>;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The body of `Telemetry.storeCall` over a meter, a tracer and the loaded API: times the call,
 * counts a failure by `error.type`, and runs it in a `gatehouse.store <store>.<operation>` span
 * (kind CLIENT) that is a child of the active span and the active span of the call (so a driver's
 * own spans nest under it). Recording never changes the call's outcome: the same value or the
 * same error, a synchronous throw stays synchronous.
 */
export function createStoreCall(
  meter: Meter,
  tracer: Tracer,
  api: OtelApi,
): Telemetry['storeCall'] {
  const duration = meter.createHistogram(STORE_DURATION, {
    description: 'Duration of one call to a gatehouse store (users, tokens, attempts, …).',
    unit: 's',
    advice: { explicitBucketBoundaries: [...STORE_DURATION_BUCKETS] },
  });
  const errors = meter.createCounter(STORE_ERRORS, {
    description:
      'Store calls that failed, by error.type (unavailable: the store cannot be reached).',
    unit: '{error}',
  });
  // Built once per store and operation: a call allocates no attribute object.
  const records = new Map<string, Map<string, OperationRecord>>();
  function recordOf(store: string, operation: string): OperationRecord {
    let byOperation = records.get(store);
    if (!byOperation) {
      byOperation = new Map();
      records.set(store, byOperation);
    }
    let record = byOperation.get(operation);
    if (!record) {
      record = {
        spanName: `gatehouse.store ${store}.${operation}`,
        spanOptions: {
          kind: api.SpanKind.CLIENT,
          attributes: Object.freeze({
            'gatehouse.store': store,
            'gatehouse.store.operation': operation,
          }),
        },
        attributes: Object.freeze({ store, operation }),
        errorAttributes: new Map(),
      };
      byOperation.set(operation, record);
    }
    return record;
  }

  // A misbehaving meter or tracer never changes what the store answered, nor leaves a span open.
  function succeeded(record: OperationRecord, span: Span, started: number): void {
    try {
      duration.record((performance.now() - started) / 1000, record.attributes);
    } catch {}
    try {
      span.end();
    } catch {}
  }

  function failed(record: OperationRecord, span: Span, started: number, error: unknown): void {
    const type = storeErrorType(error);
    let attributes = record.errorAttributes.get(type);
    if (!attributes) {
      attributes = Object.freeze({ ...record.attributes, 'error.type': type });
      record.errorAttributes.set(type, attributes);
    }
    try {
      duration.record((performance.now() - started) / 1000, attributes);
      errors.add(1, attributes);
    } catch {}
    try {
      // The type only: an error's message may quote what the store was given.
      span.setAttribute('error.type', type);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: type });
    } catch {}
    try {
      span.end();
    } catch {}
  }

  return function storeCall<T>(
    store: string,
    operation: string,
    call: () => Promise<T>,
  ): Promise<T> {
    const record = recordOf(store, operation);
    let parent: Context;
    let span: Span;
    try {
      parent = api.context.active();
      span = tracer.startSpan(record.spanName, record.spanOptions, parent);
    } catch {
      // A tracer that cannot start a span: the call goes on, unrecorded.
      return call();
    }
    const started = performance.now();
    let result: Promise<T>;
    try {
      result = api.context.with(api.trace.setSpan(parent, span), call);
    } catch (error) {
      failed(record, span, started, error);
      throw error;
    }
    if (!isThenable(result)) {
      // A store answering synchronously (the interface says promise; a custom store may not).
      succeeded(record, span, started);
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        succeeded(record, span, started);
        return value;
      },
      (error: unknown) => {
        failed(record, span, started, error);
        throw error;
      },
    );
  };
}
