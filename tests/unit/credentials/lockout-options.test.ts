import { describe, expect, it } from 'vitest';
import { createAuth } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { configError } from '../../helpers/config-errors.js';

describe('lockout options', () => {
  it('defaults to a progressive lock: 1 minute, doubling, at most 1 hour (victim lockout DoS)', () => {
    expect(internalsOf(createAuth()).config.lockout).toEqual({
      maxAttempts: 5,
      window: 15 * 60_000,
      duration: 60_000,
      backoffFactor: 2,
      maxDuration: 60 * 60_000,
    });
  });

  it('refuses a maximum lock shorter than the lock, naming both options, instead of clamping it', () => {
    const message = configError({ lockout: { duration: '30m', maxDuration: '10m' } });
    expect(message).toMatch(/lockout\.maxDuration: must not be shorter than lockout\.duration/);
    expect(message).toContain('lockout.maxDuration is 600s');
    expect(message).toContain('lockout.duration is 1800s');
  });

  it('takes a lock longer than one hour given without a maximum as its own maximum (flat)', () => {
    const auth = createAuth({ lockout: { duration: '2h' } });
    expect(internalsOf(auth).config.lockout).toMatchObject({
      duration: 2 * 3_600_000,
      maxDuration: 2 * 3_600_000,
    });
  });

  it('accepts a maximum equal to the lock (a flat lockout) and uses it as given', () => {
    const auth = createAuth({ lockout: { duration: '30m', maxDuration: '30m', backoffFactor: 1 } });
    expect(internalsOf(auth).config.lockout).toMatchObject({
      duration: 30 * 60_000,
      maxDuration: 30 * 60_000,
    });
  });
});
