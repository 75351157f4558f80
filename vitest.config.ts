import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Which suites run. `npm test` (the default): everything but tests/e2e, whose suites start the
// example apps as processes and a browser (several seconds each); `npm run test:e2e`
// (GATEHOUSE_TESTS=e2e): those alone; GATEHOUSE_TESTS=all: both (for runs that name files, as
// .ci/run's real-server steps do). .ci/run runs `npm test` and `npm run test:e2e`.
const scope = process.env['GATEHOUSE_TESTS'] ?? 'unit';
const E2E = 'tests/e2e/**';

export default defineConfig({
  // The examples import gatehouse as users do; in tests those names resolve to the sources.
  resolve: {
    alias: [
      { find: /^gatehouse$/, replacement: here('./src/index.ts') },
      { find: /^gatehouse\/testing$/, replacement: here('./src/testing/index.ts') },
      { find: /^gatehouse\/http$/, replacement: here('./src/http/index.ts') },
      {
        find: /^gatehouse\/(express|fastify|postgres|redis)$/,
        replacement: here('./adapters/$1/index.ts'),
      },
    ],
  },
  test: {
    include: [scope === 'e2e' ? `${E2E}/*.test.ts` : 'tests/**/*.test.ts'],
    exclude: ['tests/package/**', 'node_modules/**', ...(scope === 'unit' ? [E2E] : [])],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Type tests (`*.test-d.ts`) are compiled by tsc, not run: a broken type fails `npm test`
    // (and `npm run typecheck`, which covers tests/ too).
    typecheck: {
      enabled: scope !== 'e2e',
      include: ['tests/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'adapters/**/*.ts'],
      // adapters/redis is exercised by tests/redis on a real redis-server (scripts/with-redis.sh,
      // run by .ci/run); without REDIS_URL those tests skip, so it is not counted here.
      exclude: ['src/**/index.ts', 'src/testing/**', 'adapters/redis/**'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90 },
    },
  },
});
