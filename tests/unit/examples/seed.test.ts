import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../examples/common/env.js';
import { createLogger } from '../../../examples/common/logger.js';
import { seed } from '../../../examples/common/seed.js';
import { seedPolicy } from '../../../src/index.js';
import { makeAuth } from '../../helpers/auth.js';

const logger = createLogger('silent');

describe('example seeding of ADMIN_EMAIL / ADMIN_PASSWORD', () => {
  it.each([
    ['a common password', 'passwordpassword'],
    ['a repetitive password', 'aaaaaaaaaaaaaaaaaaaa'],
    ["the admin address's local part", 'rootmaster-of-the-example'],
  ])(
    'a weak ADMIN_PASSWORD (%s) stops the start with a config error naming the variable',
    async (_, password) => {
      const { auth } = makeAuth({ policy: seedPolicy });
      const failure = await seed(
        auth,
        { demo: false, admin: { email: 'rootmaster@example.com', password } },
        logger,
      ).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toMatch(/ADMIN_PASSWORD: Password/);
      expect((failure as Error).message).not.toContain(password);
      expect(await auth.findUserByEmail('rootmaster@example.com')).toBeNull();
    },
  );

  it('a strong ADMIN_PASSWORD creates the admin, and a second start changes nothing', async () => {
    const { auth } = makeAuth({ policy: seedPolicy });
    const admin = { email: 'rootmaster@example.com', password: 'quiet harbour lighthouse' };
    await seed(auth, { demo: false, admin }, logger);
    await seed(auth, { demo: false, admin }, logger);
    expect((await auth.findUserByEmail(admin.email))?.role).toBe('admin');
  });
});
