import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AuthError } from '../errors.js';

/**
 * The request ids of the adapters: an incoming `X-Request-Id` is taken when it is valid, else a
 * new id is made; the id goes back on the response and into the audit events and log lines of
 * the request. Pass `false` instead to turn request ids off.
 *
 * @example
 * ```ts
 * import { gatehouseExpress } from 'gatehouse/express';
 *
 * const requestId: RequestIdOptions = { trustIncoming: false, generate: () => `api-${randomUUID()}` };
 * const gate = gatehouseExpress(auth, { requestId });
 * ```
 */
export interface RequestIdOptions {
  /**
   * The header read from the request and written on the response (any case; an HTTP token).
   * @default 'X-Request-Id'
   */
  header?: string;
  /**
   * Take the request's own id when it is valid (1 to 128 characters of `A-Z a-z 0-9 . _ : -`).
   * An invalid one is never echoed and never an error: it is replaced by a new id. Turn this off
   * when clients reach the app directly and no proxy of yours sets or overwrites the header.
   * @default true
   */
  trustIncoming?: boolean;
  /**
   * Makes a new id. A value that is not a valid id (see `trustIncoming`) is replaced by a
   * default one.
   * @default UUID-shaped ids, unique but not random throughout: 24 characters random per process,
   * then a counter (see `newRequestId`)
   */
  generate?: () => string;
  /**
   * Put the header on every response, not only on gatehouse's own answers (its routes and every
   * error it writes). Express: every response of the routes mounted after `gate.router`;
   * Fastify: every response of the app. Off by default: the app's own responses are the app's,
   * and the header costs about 4 % of a bare Fastify request (writing one more header is most
   * of it; docs/observability.md). When false, a request a guard grants gets no header, and on
   * Express no id unless something asks for one (`gate.requestIdOf(req)`); on Fastify
   * `request.id` is still gatehouse's id, in every log line.
   * @default false
   */
  everyResponse?: boolean;
}

// Request ids are unique, not secret: a client may send its own, and every id is echoed. So the
// default id is UUID-shaped: 24 characters random per process (74 random bits, with the layout
// of a version 4 UUID), then a 12-digit counter, the prefix drawn anew when the counter runs out.
// Generating a fully random UUID per request cost about 3.5k CPU instructions (filling and
// formatting the random bytes), and formatting a 12-digit number (a heap number) about 1.5k, in a
// bare Fastify route of about 75k in all (callgrind, docs/benchmarks.md). Here a new id is one
// concatenation: a 33-character stem, changed every 1000 ids, and one of 1000 ready-made
// 3-digit endings. Two processes collide only if their 74 random bits do.
const ENDINGS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const STEMS_PER_PREFIX = 1_000_000_000; // 9 digits of stem counter (a small integer in V8)
let idPrefix = '';
let stemCount = STEMS_PER_PREFIX;
let stem = '';
let ending = ENDINGS.length;

function newIdPrefix(): string {
  const hex = randomBytes(12).toString('hex'); // 24 characters: 18 go into the id, one picks the variant
  const variant = '89ab'[Number.parseInt(hex[15]!, 16) & 3]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(12, 15)}-${variant}${hex.slice(16, 19)}-`;
}

function nextStem(): void {
  if (stemCount === STEMS_PER_PREFIX) {
    idPrefix = newIdPrefix();
    stemCount = 0;
  }
  stem = idPrefix + String(stemCount++).padStart(9, '0');
  ending = 0;
}

/**
 * A new request id: UUID-shaped (`xxxxxxxx-xxxx-4xxx-yxxx-` then 12 digits), unique, cheap; the
 * default request id generator. Its first 24 characters are random per process (74 bits), the
 * last 12 a counter: not meant to be unpredictable, as no request id is (a client may choose
 * its own).
 *
 * @example
 * ```ts
 * newRequestId(); // 'b7f0c9a2-5d1e-4c47-9b0e-000000000001'
 * ```
 */
export function newRequestId(): string {
  if (ending === ENDINGS.length) nextStem();
  return stem + ENDINGS[ending++]!;
}

/** The longest request id taken or made. */
export const MAX_REQUEST_ID_LENGTH = 128;

// No whitespace, quotes, `,`, `;`, `=`, `/` or control characters: an id can go into a header,
// a log line or a URL as it is, and two ids joined by a proxy (`a, b`) are refused.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// RFC 9110 token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/**
 * Whether `value` is a request id gatehouse takes or writes: a string of 1 to 128 characters
 * of `A-Z a-z 0-9 . _ : -`.
 *
 * @example
 * ```ts
 * isValidRequestId('b7f0c9a2-5d1e-4c47-9b0e-3f5a6c7d8e9f'); // true
 * isValidRequestId('abc\r\nSet-Cookie: x=1'); // false
 * ```
 */
export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

/** The request ids of one adapter, resolved from {@link RequestIdOptions}. Internal. */
export interface RequestIds {
  /** The header, lower-case. */
  readonly header: string;
  readonly trustIncoming: boolean;
  readonly everyResponse: boolean;
  /** A new id (a custom generator's invalid value is replaced by a UUID). */
  generate(): string;
  /** The id of a request with `headers`: its own when trusted and valid, else a new one. */
  idOf(headers: Readonly<Record<string, string | string[] | undefined>>): string;
  /** `id` when it is valid, else a new one. */
  valid(id: unknown): string;
}

const optionsSchema = z
  .object({
    header: z
      .string({ message: 'must be a string' })
      .regex(HEADER_NAME, 'must be an HTTP header name (letters, digits, "-"...; at most 64)')
      .optional(),
    trustIncoming: z.boolean({ message: 'must be a boolean' }).optional(),
    generate: z.custom((value) => typeof value === 'function', 'must be a function').optional(),
    everyResponse: z.boolean({ message: 'must be a boolean' }).optional(),
  })
  .strict();

/**
 * Validates the `requestId` option of an adapter (`owner` names it in the INVALID_CONFIG
 * message); null when request ids are off.
 */
export function resolveRequestIds(
  options: RequestIdOptions | false | undefined,
  owner: string,
): RequestIds | null {
  if (options === false) return null;
  const result = optionsSchema.safeParse(options ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const option = ['requestId', ...issue.path].join('.');
    throw new AuthError('INVALID_CONFIG', `${owner}: option "${option}" ${issue.message}.`, {
      details: { option },
    });
  }
  const custom = options?.generate;
  const header = (options?.header ?? 'x-request-id').toLowerCase();
  const trustIncoming = options?.trustIncoming !== false;
  const generate =
    custom === undefined
      ? newRequestId
      : () => {
          const id = custom();
          return isValidRequestId(id) ? id : newRequestId();
        };
  return {
    header,
    trustIncoming,
    everyResponse: options?.everyResponse === true,
    generate,
    idOf(headers) {
      if (trustIncoming) {
        // Node joins repeated x- headers with ", ", which is not a valid id: a new one then.
        const incoming = headers[header];
        if (typeof incoming === 'string' && REQUEST_ID.test(incoming)) return incoming;
      }
      return generate();
    },
    valid(id) {
      return isValidRequestId(id) ? id : generate();
    },
  };
}
