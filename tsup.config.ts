import { readdir, rm, writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

// One ESM build with every entry, so the core is bundled once into a shared chunk and an
// AuthError from any subpath is the same class. The CJS entry points are one-line re-exports
// of the ESM build (require(esm), Node >= 20.19), so ESM and CJS callers in one process share
// that single copy too. tsup still builds CJS to emit the .d.cts declarations.
async function cjsReexports(): Promise<void> {
  for (const file of await readdir('dist')) {
    if (!file.endsWith('.cjs')) continue;
    const entry = file.slice(0, -'.cjs'.length);
    if (file.startsWith('chunk-')) {
      await rm(`dist/${file}`);
      continue;
    }
    await writeFile(`dist/${file}`, `'use strict';\nmodule.exports = require('./${entry}.js');\n`);
  }
}

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing/index.ts',
    http: 'src/http/index.ts',
    postgres: 'adapters/postgres/index.ts',
    express: 'adapters/express/index.ts',
    fastify: 'adapters/fastify/index.ts',
    redis: 'adapters/redis/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  splitting: true,
  sourcemap: false,
  clean: true,
  target: 'node20',
  treeshake: true,
  external: ['express', 'fastify', 'pg', 'ioredis', 'redis', 'vitest'],
  onSuccess: cjsReexports,
});
