import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, it } from 'vitest';
import type { RateLimitStore } from '../../../src/index.js';
import { describeRateLimitStore } from '../../../src/testing/index.js';

// The example store of docs/custom-stores.md is run as written: the first TypeScript block after
// the marker comment is compiled and checked with the conformance suite, so the page cannot
// drift into an example that breaks the contract.

const MARKER = '<!-- The code block below is run against the conformance suite';
const page = readFileSync(new URL('../../../docs/custom-stores.md', import.meta.url), 'utf8');

function exampleStoreClass(): new () => RateLimitStore {
  const after = page.slice(page.indexOf(MARKER));
  const block = /```ts\n([\s\S]*?)```/.exec(after)?.[1];
  if (page.indexOf(MARKER) < 0 || block === undefined) {
    throw new Error('docs/custom-stores.md has no marked example block');
  }
  const { outputText } = ts.transpileModule(block, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  const exports: Record<string, unknown> = {};
  new Function('exports', 'require', outputText)(exports, () => {
    throw new Error('the example store must not import anything at run time');
  });
  return exports['MapRateLimitStore'] as new () => RateLimitStore;
}

const MapRateLimitStore = exampleStoreClass();

describeRateLimitStore(
  'MapRateLimitStore of docs/custom-stores.md',
  () => new MapRateLimitStore(),
  {
    describe,
    it,
  },
);
