import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // The examples import gatehouse as users do; in tests those names resolve to the sources.
  resolve: {
    alias: [
      { find: /^gatehouse$/, replacement: here('./src/index.ts') },
      { find: /^gatehouse\/testing$/, replacement: here('./src/testing/index.ts') },
      {
        find: /^gatehouse\/(express|fastify|postgres)$/,
        replacement: here('./adapters/$1/index.ts'),
      },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/package/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Type tests (`*.test-d.ts`) are compiled by tsc, not run: a broken type fails `npm test`
    // (and `npm run typecheck`, which covers tests/ too).
    typecheck: {
      enabled: true,
      include: ['tests/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts', 'adapters/**/*.ts'],
      exclude: ['src/**/index.ts', 'src/testing/**'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90 },
    },
  },
});
