import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type CompiledSnippets,
  compileSnippets,
  documentationFiles,
  extractBlocks,
  TYPESCRIPT_FENCES,
} from './doc-snippets.js';

// Every ```ts block of README.md and docs/*.md compiles under strict, as a module importing
// `gatehouse` like a user's file: a snippet that names something nobody declares (`createOrder`,
// `keys`), calls an API that changed, or passes a mistyped option fails here. Fragments name
// their hidden prelude (docs/preludes/) in a comment before the fence: see doc-snippets.ts.

const root = fileURLToPath(new URL('../../', import.meta.url));

const pages = documentationFiles(root).map((file) => ({
  file,
  blocks: extractBlocks(file, readFileSync(join(root, file), 'utf8')),
}));
const docBlocks = pages.flatMap((page) => page.blocks).filter((b) => TYPESCRIPT_FENCES.has(b.lang));

/** Blocks that check the checker, compiled in the same program as the docs (one program). */
const FIXTURE = extractBlocks(
  'fixture.md',
  [
    'An undeclared name:',
    '```ts',
    "import { gatehouseExpress } from 'gatehouse/express';",
    '',
    'app.post("/api/orders", createOrder);',
    '```',
    '<!-- prelude: express-app',
    'declare function createOrder(): void;',
    '-->',
    '```typescript',
    "app.post('/api/orders', gate.authenticate(), createOrder);",
    '```',
    'A key list declared apart from createAuth, typed:',
    '```ts',
    "import { createAuth, type TokenKeyInput } from 'gatehouse';",
    "const keys: TokenKeyInput[] = [{ kid: '2026-11', alg: 'HS256', key: process.env.JWT_SECRET }];",
    'createAuth({ tokens: { keys } });',
    '```',
    'The same list without the type: `alg` widens to string.',
    '```ts',
    "import { createAuth } from 'gatehouse';",
    "const keys = [{ kid: '2026-11', alg: 'HS256', key: process.env.JWT_SECRET }];",
    'createAuth({ tokens: { keys } });',
    '```',
    'Shell is not compiled:',
    '```sh',
    'curl -s http://127.0.0.1:3000/ | definitely not typescript',
    '```',
  ].join('\n'),
);
const fixtureTs = FIXTURE.filter((b) => TYPESCRIPT_FENCES.has(b.lang));

let compiled: CompiledSnippets | undefined;
/** The docs' blocks and the fixtures, compiled once against the sources (tsconfig.json paths). */
function againstSources(): { docs: CompiledSnippets; fixtures: CompiledSnippets } {
  compiled ??= compileSnippets(root, [...docBlocks, ...fixtureTs], 'sources');
  const split = (from: number, to?: number): CompiledSnippets => ({
    diagnostics: compiled!.diagnostics.slice(from, to),
    moduleText: compiled!.moduleText.slice(from, to),
    programFiles: compiled!.programFiles,
  });
  return { docs: split(0, docBlocks.length), fixtures: split(docBlocks.length) };
}

function report(result: CompiledSnippets, index: number): string[] {
  return (result.diagnostics[index] ?? []).map((d) => `${d.where} TS${d.code}: ${d.message}`);
}

describe('TypeScript blocks of README.md and docs/*.md', () => {
  it('finds them: every fence names its language, so no TypeScript hides in an unlabeled one', () => {
    const unlabeled = pages
      .flatMap((page) => page.blocks)
      .filter((block) => block.lang === '')
      .map((block) => `${block.file}:${block.line}`);
    expect(unlabeled, 'fences without a language (use ts, sh, json, text...)').toEqual([]);
    expect(docBlocks.length).toBeGreaterThanOrEqual(40);
    const pagesWithCode = new Set(docBlocks.map((block) => block.file));
    for (const page of ['README.md', 'docs/getting-started.md', 'docs/tokens.md']) {
      expect(pagesWithCode, page).toContain(page);
    }
  });

  it.each(docBlocks.map((block, index) => [`${block.file}:${block.line}`, index] as const))(
    '%s compiles under strict against the sources',
    (_where, index) => {
      const { docs } = againstSources();
      expect(docs.programFiles).toContain('src/index.ts');
      expect(report(docs, index), docs.moduleText[index]).toEqual([]);
    },
  );

  // In CI (`.ci/run` builds before `npm test`), the blocks compile a second time the way a
  // user's compiler sees the package: `gatehouse` resolved through package.json `exports` to
  // dist/*.d.ts. Locally this runs whenever dist/ is at least as new as the sources.
  const dist = distState();
  if (dist === 'fresh' || process.env.CI) {
    it('every block also compiles against the built package (dist/*.d.ts through package.json exports)', () => {
      expect(dist, 'run `npm run build` first: dist/ must be built from the current sources').toBe(
        'fresh',
      );
      const result = compileSnippets(root, docBlocks, 'dist');
      expect(result.programFiles).toContain('dist/index.d.ts');
      expect(result.programFiles).toContain('dist/express.d.ts');
      expect(result.programFiles).not.toContain('src/index.ts');
      const failures = docBlocks.flatMap((_block, index) => report(result, index));
      expect(failures).toEqual([]);
    });
  }
});

describe('the docs snippet checker', () => {
  it('parses fences, their language and the prelude comment above them (files and inline lines)', () => {
    expect(FIXTURE.map((b) => [b.lang, b.line, b.preludes, b.inlinePrelude])).toEqual([
      ['ts', 3, [], ''],
      ['typescript', 11, ['express-app'], 'declare function createOrder(): void;'],
      ['ts', 15, [], ''],
      ['ts', 21, [], ''],
      ['sh', 27, [], ''],
    ]);
    expect(() => extractBlocks('open.md', '```ts\nconst a = 1;\n')).toThrow(/never closed/);
    expect(() => extractBlocks('bad.md', '<!-- prelude auth -->\n```ts\nx\n```')).toThrow(
      /bad\.md:1.*colon/,
    );
  });

  it('reports a name nobody declares (createOrder) at its line and column in the Markdown', () => {
    const { fixtures } = againstSources();
    expect(report(fixtures, 0)).toEqual([
      "fixture.md:5:1 TS2304: Cannot find name 'app'.",
      "fixture.md:5:25 TS2304: Cannot find name 'createOrder'.",
    ]);
    expect(report(fixtures, 1), 'declared by its preludes').toEqual([]);
  });

  it('a key list declared apart from createAuth compiles typed TokenKeyInput[] without a cast (and fails untyped)', () => {
    const { fixtures } = againstSources();
    expect(report(fixtures, 2)).toEqual([]);
    const untyped = report(fixtures, 3);
    expect(untyped).toHaveLength(1);
    expect(untyped[0]).toMatch(/^fixture\.md:23:24 TS2322: .*'string' is not assignable/s);
  });

  it('refuses a prelude that does not exist, naming it', () => {
    const [block] = extractBlocks('missing.md', '<!-- prelude: no-such-prelude -->\n```ts\n```');
    expect(() => compileSnippets(root, [block!], 'sources')).toThrow(
      'no prelude docs/preludes/no-such-prelude.ts',
    );
  });
});

/** Whether dist/ holds a build at least as new as every source file of the package. */
function distState(): 'fresh' | 'stale' | 'missing' {
  let built: number;
  try {
    built = statSync(join(root, 'dist', 'index.d.ts')).mtimeMs;
  } catch {
    return 'missing';
  }
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((name) => name.endsWith('.ts'))
        .map((name) => statSync(join(root, dir, name)).mtimeMs),
    );
  return Math.max(newest('src'), newest('adapters')) <= built ? 'fresh' : 'stale';
}
