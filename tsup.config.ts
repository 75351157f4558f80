import { defineConfig } from 'tsup';

// One build with every entry, so the core is bundled once into a shared chunk and an
// AuthError from any subpath is the same class (see tests/package).
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  splitting: true,
  sourcemap: false,
  clean: true,
  target: 'node20',
  treeshake: true,
  external: ['express', 'fastify', 'pg', 'vitest'],
});
