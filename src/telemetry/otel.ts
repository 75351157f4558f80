// The OpenTelemetry implementation of Telemetry: instruments created once from the Meter
// `gatehouse`, spans from the Tracer `gatehouse`, every attribute object built ahead (or once, on
// first use) so that recording allocates nothing of gatehouse's own.
import type {
  Attributes,
  Context,
  Counter,
  Histogram,
  Meter,
  ObservableCounter,
  ObservableGauge,
  ObservableResult,
  Span,
  Tracer,
} from '@opentelemetry/api';
import type { OtelApi } from './load.js';
import { errorTypeOf } from './outcomes.js';
import { createStoreCall } from './stores.js';
import type {
  LoginOutcome,
  MailDeliveryOutcome,
  RefreshOutcome,
  Telemetry,
  TelemetryAttributes,
  TokenVerificationResult,
  VerificationRejectReason,
} from './telemetry.js';

/** The instrumentation scope of the Meter and the Tracer. */
export const SCOPE = 'gatehouse';

/** The instruments gatehouse records (their names are part of the public contract). */
export const METRIC = {
  loginAttempts: 'gatehouse.login.attempts',
  lockouts: 'gatehouse.lockouts',
  rateLimited: 'gatehouse.rate_limited',
  tokenVerifications: 'gatehouse.token.verifications',
  refresh: 'gatehouse.refresh',
  authzDecisions: 'gatehouse.authz.decisions',
  passwordHashDuration: 'gatehouse.password.hash.duration',
  passwordHashQueueLength: 'gatehouse.password.hash.queue_length',
  mailOutboxPending: 'gatehouse.mail.outbox.pending',
  mailDeliveries: 'gatehouse.mail.deliveries',
} as const;

const LOGIN_OUTCOMES: readonly LoginOutcome[] = [
  'success',
  'invalid_credentials',
  'locked',
  'rate_limited',
  'validation_error',
  'email_not_verified',
  'mfa_required',
  'mfa_enrollment_required',
  'mfa_failed',
  'server_error',
];
const REFRESH_OUTCOMES: readonly RefreshOutcome[] = [
  'success',
  'reuse_detected',
  'expired',
  'revoked',
  'invalid',
  'user_inactive',
  'rate_limited',
  'server_error',
];
const REJECT_REASONS: readonly VerificationRejectReason[] = [
  'expired',
  'invalid_signature',
  'unknown_key',
  'forbidden_header',
  'malformed',
  'invalid_claims',
  'revoked',
  'unavailable',
];
const MAIL_OUTCOMES: readonly MailDeliveryOutcome[] = ['sent', 'retry', 'failed'];

/**
 * Bucket bounds of `gatehouse.password.hash.duration`, in seconds: bcrypt at cost 10 takes about
 * 50–100 ms on one core, cost 12 four times that; the SDK's default bounds (0, 5, 10, … 10 000)
 * would put every check in one bucket.
 */
export const PASSWORD_HASH_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * At most this many distinct `route` or `permission` values get their own series; any further
 * one is recorded as `other` (a caller passing unbounded strings cannot blow up cardinality).
 */
export const MAX_LABELS = 256;

function byValue<K extends string>(
  values: readonly K[],
  attributes: (value: K) => Attributes,
): ReadonlyMap<string, Attributes> {
  return new Map(values.map((value) => [value, Object.freeze(attributes(value))]));
}

/** Attribute objects of a bounded label (`route`, `permission`), built once per value. */
class LabelAttributes {
  readonly #build: (value: string) => Attributes;
  readonly #known = new Map<string, Attributes>();
  readonly #other: Attributes;

  constructor(build: (value: string) => Attributes) {
    this.#build = build;
    this.#other = Object.freeze(build('other'));
  }

  of(value: string): Attributes {
    const known = this.#known.get(value);
    if (known !== undefined) return known;
    if (typeof value !== 'string' || this.#known.size >= MAX_LABELS) return this.#other;
    const built = Object.freeze(this.#build(value));
    this.#known.set(value, built);
    return built;
  }
}

/** One series of a hot counter: its attribute set, built once, and its running total. */
interface Cell {
  readonly attributes: Attributes;
  count: number;
}

function cell(attributes: Attributes): Cell {
  return { attributes: Object.freeze(attributes), count: 0 };
}

/** Cells of a bounded label (`permission`), one per value, at most {@link MAX_LABELS} then `other`. */
class LabelCells {
  readonly #build: (value: string) => Attributes;
  readonly #known = new Map<string, Cell>();
  readonly other: Cell;

  constructor(build: (value: string) => Attributes) {
    this.#build = build;
    this.other = cell(build('other'));
  }

  of(value: string): Cell {
    const known = this.#known.get(value);
    if (known !== undefined) return known;
    if (typeof value !== 'string' || this.#known.size >= MAX_LABELS) return this.other;
    const built = cell(this.#build(value));
    this.#known.set(value, built);
    return built;
  }

  *[Symbol.iterator](): IterableIterator<Cell> {
    yield* this.#known.values();
    yield this.other;
  }
}

/**
 * The counters of the request hot path (`gatehouse.token.verifications`,
 * `gatehouse.authz.decisions`), kept as plain integers and reported through ObservableCounters
 * at collection time: a synchronous SDK Counter hashes the attribute set on every `add`
 * (≈0.5–1.2 µs), a `count++` costs nothing measurable. The values are the same cumulative
 * totals a Counter would export (a series appears once it has counted something).
 */
interface HotCounters {
  readonly hit: Cell;
  readonly miss: Cell;
  readonly rejected: ReadonlyMap<string, Cell>;
  readonly rejectedOther: Cell;
  readonly allow: LabelCells;
  readonly deny: LabelCells;
}

/**
 * One set of hot counters per Meter: instances sharing a MeterProvider add into the same series
 * (as they would into one SDK Counter) and one callback per instrument reports them.
 */
const hotCountersOf = new WeakMap<Meter, HotCounters>();

function observeCells(result: ObservableResult, cells: Iterable<Cell>): void {
  for (const { count, attributes } of cells) if (count > 0) result.observe(count, attributes);
}

function hotCounters(meter: Meter): HotCounters {
  const existing = hotCountersOf.get(meter);
  if (existing !== undefined) return existing;
  const hot: HotCounters = {
    hit: cell({ result: 'cache_hit' }),
    miss: cell({ result: 'cache_miss' }),
    rejected: new Map(
      REJECT_REASONS.map((reason) => [reason, cell({ result: 'rejected', reason })]),
    ),
    rejectedOther: cell({ result: 'rejected', reason: 'other' }),
    allow: new LabelCells((permission) => ({ decision: 'allow', permission })),
    deny: new LabelCells((permission) => ({ decision: 'deny', permission })),
  };
  const verifications: ObservableCounter = meter.createObservableCounter(
    METRIC.tokenVerifications,
    {
      description:
        'Access-token verifications: cache_hit, cache_miss (accepted) or rejected (with a reason).',
      unit: '{verification}',
    },
  );
  verifications.addCallback((result) => {
    observeCells(result, [hot.hit, hot.miss]);
    observeCells(result, hot.rejected.values());
    observeCells(result, [hot.rejectedOther]);
  });
  const decisions: ObservableCounter = meter.createObservableCounter(METRIC.authzDecisions, {
    description: 'Authorization decisions by decision and permission.',
    unit: '{decision}',
  });
  decisions.addCallback((result) => {
    observeCells(result, hot.allow);
    observeCells(result, hot.deny);
  });
  hotCountersOf.set(meter, hot);
  return hot;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** What {@link createOtelTelemetry} records into; a missing half records nothing of its kind. */
export interface OtelTargets {
  readonly api: OtelApi;
  readonly meter: Meter;
  /** Null: no tracer provider (spans are skipped, `fn` runs as is). */
  readonly tracer: Tracer | null;
}

/**
 * The Telemetry of an instance with telemetry on: the instruments are created here, once. The
 * object is frozen.
 */
export function createOtelTelemetry({ api, meter, tracer }: OtelTargets): Telemetry {
  const counter = (name: string, description: string, unit: string): Counter =>
    meter.createCounter(name, { description, unit });
  const loginAttempts = counter(METRIC.loginAttempts, 'Login attempts by outcome.', '{attempt}');
  const lockouts = counter(
    METRIC.lockouts,
    'Accounts (login identifiers) locked out.',
    '{lockout}',
  );
  const rateLimited = counter(
    METRIC.rateLimited,
    'Requests refused by a rate limit, by route.',
    '{request}',
  );
  const refreshes = counter(
    METRIC.refresh,
    'Refresh-token exchanges by outcome (reuse_detected: a rotated token presented again).',
    '{refresh}',
  );
  const hot = hotCounters(meter);
  const mailDeliveries = counter(
    METRIC.mailDeliveries,
    'Mail delivery attempts by outcome (sent, retry: failed and rescheduled, failed: given up).',
    '{delivery}',
  );
  const hashDuration: Histogram = meter.createHistogram(METRIC.passwordHashDuration, {
    description: 'Duration of one bcrypt hash or verify, excluding the wait in the queue.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...PASSWORD_HASH_BUCKETS] },
  });
  const queueLength: ObservableGauge = meter.createObservableGauge(METRIC.passwordHashQueueLength, {
    description: 'Password hashes and verifications waiting for a slot in the bcrypt queue.',
    unit: '{operation}',
  });
  const outboxPending: ObservableGauge = meter.createObservableGauge(METRIC.mailOutboxPending, {
    description: 'Mails in the outbox waiting for delivery.',
    unit: '{message}',
  });

  const loginAttributes = byValue(LOGIN_OUTCOMES, (outcome) => ({ outcome }));
  const refreshAttributes = byValue(REFRESH_OUTCOMES, (outcome) => ({ outcome }));
  const mailAttributes = byValue(MAIL_OUTCOMES, (outcome) => ({ outcome }));
  const HASH: Attributes = Object.freeze({ operation: 'hash' });
  const VERIFY: Attributes = Object.freeze({ operation: 'verify' });
  const routeAttributes = new LabelAttributes((route) => ({ route }));

  const callbacks: (() => void)[] = [];
  const ERROR = api.SpanStatusCode.ERROR;

  function fail(span: Span, err: unknown): void {
    const type = errorTypeOf(err);
    // The type only, never the message or the stack: they may quote an email or a token.
    span.setAttribute('error.type', type);
    span.setStatus({ code: ERROR, message: type });
  }

  function within<T>(name: string, attributes: TelemetryAttributes, fn: () => T): T {
    if (tracer === null) return fn();
    const parent: Context = api.context.active();
    const span = tracer.startSpan(name, { attributes }, parent);
    let result: T;
    try {
      result = api.context.with(api.trace.setSpan(parent, span), fn);
    } catch (err) {
      fail(span, err);
      span.end();
      throw err;
    }
    if (!isThenable(result)) {
      span.end();
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        fail(span, err);
        span.end();
        throw err;
      },
    ) as T;
  }

  const telemetry: Telemetry = {
    enabled: true,
    loginAttempt(outcome) {
      loginAttempts.add(1, loginAttributes.get(outcome) ?? loginAttributes.get('server_error'));
    },
    lockout() {
      lockouts.add(1);
    },
    rateLimited(route) {
      rateLimited.add(1, routeAttributes.of(route));
    },
    tokenVerification(result: TokenVerificationResult, reason?: VerificationRejectReason) {
      if (result === 'cache_hit') hot.hit.count++;
      else if (result === 'cache_miss') hot.miss.count++;
      else {
        const rejected = reason === undefined ? undefined : hot.rejected.get(reason);
        (rejected ?? hot.rejectedOther).count++;
      }
    },
    refresh(outcome) {
      refreshes.add(1, refreshAttributes.get(outcome) ?? refreshAttributes.get('server_error'));
    },
    authzDecision(decision, permission) {
      (decision === 'allow' ? hot.allow : hot.deny).of(permission).count++;
    },
    passwordHashDuration(seconds, operation) {
      if (Number.isFinite(seconds) && seconds >= 0) {
        hashDuration.record(seconds, operation === 'hash' ? HASH : VERIFY);
      }
    },
    mailDelivery(outcome) {
      const attributes = mailAttributes.get(outcome);
      if (attributes !== undefined) mailDeliveries.add(1, attributes);
    },
    observeQueueLength(read) {
      const callback = (result: ObservableResult): void => {
        try {
          result.observe(read());
        } catch {
          // Nothing to observe this time.
        }
      };
      queueLength.addCallback(callback);
      callbacks.push(() => queueLength.removeCallback(callback));
    },
    observeOutboxPending(read) {
      const callback = async (result: ObservableResult): Promise<void> => {
        try {
          result.observe(await read());
        } catch {
          // The outbox could not be counted (its store is down): no point this time.
        }
      };
      outboxPending.addCallback(callback);
      callbacks.push(() => outboxPending.removeCallback(callback));
    },
    // Without a tracer provider, store calls are timed and counted under the API's no-op tracer.
    storeCall: createStoreCall(meter, tracer ?? api.trace.getTracer(SCOPE), api),
    span(name, attributes, fn) {
      return within(name, attributes, fn);
    },
    within,
    withinTrace(name, attributes, fn) {
      // Only as a child of a span that records (a request the app traces): an app that does not
      // trace its requests would otherwise pay a root span, and get a one-span trace, per call.
      if (tracer === null || api.trace.getSpan(api.context.active())?.isRecording() !== true) {
        return fn();
      }
      return within(name, attributes, fn);
    },
    close() {
      for (const remove of callbacks.splice(0)) remove();
    },
  };
  return Object.freeze(telemetry);
}

/**
 * A label value safe for the bounded `permission` attribute: the permission when `declared`
 * (the policy's own permissions) has it, else `unknown`.
 */
export function permissionLabel(permission: unknown, declared: ReadonlySet<string>): string {
  return typeof permission === 'string' && declared.has(permission) ? permission : 'unknown';
}
