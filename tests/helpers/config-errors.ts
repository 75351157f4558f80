import { expect } from 'vitest';
import { loadConfig } from '../../examples/common/env.js';
import { createAuth } from '../../src/index.js';

/** The message of the INVALID_CONFIG that createAuth throws for `options`; fails if it accepts them. */
export function configError(options: unknown): string {
  try {
    createAuth(options as never);
  } catch (err) {
    expect(err).toMatchObject({ code: 'INVALID_CONFIG' });
    return (err as Error).message;
  }
  throw new Error('createAuth accepted invalid options');
}

/** The message of the ConfigError the example apps' env parsing throws; fails if it accepts `env`. */
export function envError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect((err as Error).name).toBe('ConfigError');
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted a bad environment');
}
