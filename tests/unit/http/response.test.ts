import { describe, expect, it } from 'vitest';
import { errorResponse, jsonResponse, wwwAuthenticateOf } from '../../../src/http/index.js';
import { AuthError, type Logger } from '../../../src/index.js';

function recordingLogger() {
  const errors: { message: string; data?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message, data) => void errors.push({ message, ...(data ? { data } : {}) }),
  };
  return { logger, errors };
}

describe('errorResponse', () => {
  it('answers an AuthError with its status and the contract body', () => {
    const response = errorResponse(new AuthError('EMAIL_TAKEN'), recordingLogger().logger);
    expect(response.status).toBe(409);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: 'An account with this email already exists.',
      code: 'EMAIL_TAKEN',
    });
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('never serialises details or cause', () => {
    const err = new AuthError('VALIDATION_ERROR', 'Bad.', {
      details: { field: 'email' },
      cause: new Error('internal'),
    });
    expect(errorResponse(err, recordingLogger().logger).body).toBe(
      '{"success":false,"error":"Bad.","code":"VALIDATION_ERROR"}',
    );
  });

  it('sends retryAfter as a whole-second Retry-After header', () => {
    const response = errorResponse(
      new AuthError('RATE_LIMITED', undefined, { retryAfter: 12.2 }),
      recordingLogger().logger,
    );
    expect(response.headers['retry-after']).toBe('13');
  });

  it('answers an unexpected exception with the generic SERVER_ERROR, logging the real one', () => {
    const { logger, errors } = recordingLogger();
    const response = errorResponse(new TypeError('db password is hunter2'), logger);
    expect(response.status).toBe(500);
    expect(response.body).not.toContain('hunter2');
    expect(JSON.parse(response.body).code).toBe('SERVER_ERROR');
    expect(JSON.stringify(errors)).toContain('hunter2');
  });

  it('keeps 503 for a store that is unavailable but replaces its message', () => {
    const { logger } = recordingLogger();
    const err = new AuthError('SERVER_ERROR', 'connect ECONNREFUSED 10.0.0.5:5432', {
      status: 503,
    });
    const response = errorResponse(err, logger);
    expect(response.status).toBe(503);
    expect(response.body).not.toContain('10.0.0.5');
  });

  it('answers INVALID_CONFIG raised during a request as a generic SERVER_ERROR', () => {
    const err = new AuthError(
      'INVALID_CONFIG',
      'No authorization policy: pass createAuth({ policy })',
    );
    const response = errorResponse(err, recordingLogger().logger);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'SERVER_ERROR' });
    expect(response.body).not.toContain('policy');
  });

  it.each([
    [{ status: 413, type: 'entity.too.large' }, 413, 'PAYLOAD_TOO_LARGE'],
    [{ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [{ status: 400, type: 'entity.parse.failed', body: '{bad' }, 400, 'VALIDATION_ERROR'],
    [{ statusCode: 404 }, 404, 'NOT_FOUND'],
    [{ statusCode: 408 }, 400, 'VALIDATION_ERROR'],
  ])('maps a framework error %j to %i %s', (err, status, code) => {
    const response = errorResponse(
      Object.assign(new Error('framework text'), err),
      recordingLogger().logger,
    );
    expect(response.status).toBe(status);
    expect(JSON.parse(response.body).code).toBe(code);
    expect(response.body).not.toContain('framework text');
  });

  it('answers a thrown non-Error value as SERVER_ERROR', () => {
    expect(errorResponse('a string', recordingLogger().logger).status).toBe(500);
    expect(errorResponse(null, recordingLogger().logger).status).toBe(500);
  });
});

describe('wwwAuthenticateOf', () => {
  it.each([
    ['UNAUTHENTICATED', 'Bearer'],
    ['INVALID_CREDENTIALS', 'Bearer'],
    ['TOKEN_INVALID', 'Bearer error="invalid_token"'],
    ['TOKEN_EXPIRED', 'Bearer error="invalid_token", error_description="The access token expired"'],
  ] as const)('challenges a %s 401 with %s', (code, challenge) => {
    expect(wwwAuthenticateOf(new AuthError(code))).toBe(challenge);
  });

  it('answers a malformed Authorization header with error="invalid_request"', () => {
    const err = new AuthError('VALIDATION_ERROR', 'dup', { details: { field: 'authorization' } });
    expect(wwwAuthenticateOf(err)).toBe('Bearer error="invalid_request"');
  });

  it('adds no challenge to other errors', () => {
    expect(wwwAuthenticateOf(new AuthError('FORBIDDEN'))).toBeUndefined();
    expect(wwwAuthenticateOf(new AuthError('VALIDATION_ERROR'))).toBeUndefined();
  });
});

describe('jsonResponse', () => {
  it('sets the JSON content type, the byte length and no-store', () => {
    const response = jsonResponse(200, { name: 'Zoë' });
    expect(response.headers).toEqual({
      'cache-control': 'no-store',
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength('{"name":"Zoë"}')),
    });
  });

  it('keeps a cache-control given by the caller', () => {
    expect(
      jsonResponse(200, {}, { 'cache-control': 'public, max-age=300' }).headers['cache-control'],
    ).toBe('public, max-age=300');
  });
});
