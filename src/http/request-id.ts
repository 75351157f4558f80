import { randomFillSync } from 'node:crypto';
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
   * Makes a new id. A value that is not a valid id (see `trustIncoming`) is replaced by a UUID.
   * @default a random (v4) UUID, as `crypto.randomUUID` makes
   */
  generate?: () => string;
  /**
   * Put the header on every response, not only on gatehouse's own answers (its routes and every
   * error it writes). Express: every response of the routes mounted after `gate.router`;
   * Fastify: every response of the app. When false, a request a guard grants gets no header
   * and no id unless something asks for one (`gate.requestIdOf(req)` on Express).
   * @default true
   */
  everyResponse?: boolean;
}

// Random v4 UUIDs, made 128 at a time: `crypto.randomUUID` builds each one from 20
// concatenations that V8 must then flatten, which cost more than the rest of a request id's
// path. Same format and the same CSPRNG (16 random bytes each, version and variant bits set).
const UUID_BATCH = 128;
const HEX = '0123456789abcdef';
const uuidBytes = Buffer.alloc(16 * UUID_BATCH);
const uuidText = Buffer.alloc(36 * UUID_BATCH);
let uuidNext = UUID_BATCH;

function refillUuids(): void {
  randomFillSync(uuidBytes);
  let out = 0;
  for (let i = 0; i < uuidBytes.length; i++) {
    const at = i & 15;
    let byte = uuidBytes[i]!;
    if (at === 6) byte = (byte & 0x0f) | 0x40;
    else if (at === 8) byte = (byte & 0x3f) | 0x80;
    if (at === 4 || at === 6 || at === 8 || at === 10) uuidText[out++] = 0x2d;
    uuidText[out++] = HEX.charCodeAt(byte >> 4);
    uuidText[out++] = HEX.charCodeAt(byte & 15);
  }
  uuidNext = 0;
}

/**
 * A random (version 4) UUID, as `crypto.randomUUID()` makes one (lower-case hex), at a fraction
 * of its cost: the default request id generator.
 *
 * @example
 * ```ts
 * randomRequestUuid(); // 'b7f0c9a2-5d1e-4c47-9b0e-3f5a6c7d8e9f'
 * ```
 */
export function randomRequestUuid(): string {
  if (uuidNext === UUID_BATCH) refillUuids();
  const at = 36 * uuidNext++;
  return uuidText.toString('latin1', at, at + 36);
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
      ? randomRequestUuid
      : () => {
          const id = custom();
          return isValidRequestId(id) ? id : randomRequestUuid();
        };
  return {
    header,
    trustIncoming,
    everyResponse: options?.everyResponse !== false,
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
