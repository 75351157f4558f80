import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Every public name must carry TSDoc with a summary and an @example: the API reference
// (`npm run docs`) is built from these comments, and a name without an example is a name a
// reader has to guess how to call.

const root = fileURLToPath(new URL('../../', import.meta.url));

const ENTRY_POINTS = [
  'src/index.ts',
  'src/testing/index.ts',
  'src/http/index.ts',
  'adapters/postgres/index.ts',
  'adapters/express/index.ts',
  'adapters/fastify/index.ts',
  'adapters/redis/index.ts',
] as const;

function hasSummaryAndExample(declaration: ts.Declaration): boolean {
  // getJSDocCommentsAndTags walks up to the statement holding the comment (for `export const`).
  const docs = ts.getJSDocCommentsAndTags(declaration).filter(ts.isJSDoc);
  const summary = docs.some((doc) => ts.getTextOfJSDocComment(doc.comment)?.trim());
  const example = ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === 'example');
  return summary && example;
}

/** The exported names of `entry` whose declaration lacks TSDoc with a summary and an @example. */
function undocumentedExports(
  program: ts.Program,
  entry: string,
): { names: string[]; count: number } {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`${entry} is not part of the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`${entry} is not a module`);
  const exports = checker.getExportsOfModule(moduleSymbol);
  const names = exports
    .filter((symbol) => {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declarations = target.getDeclarations() ?? [];
      return !declarations.some(hasSummaryAndExample);
    })
    .map((symbol) => symbol.getName())
    .sort();
  return { names, count: exports.length };
}

function loadDocsProgram(): ts.Program {
  const configPath = `${root}tsconfig.docs.json`;
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  if (config.error) {
    throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  }
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath);
  return ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
}

/** A program over one in-memory file, to check the checker itself. */
function inMemoryProgram(text: string): { program: ts.Program; entry: string } {
  const entry = `${root}tsdoc-fixture.ts`;
  const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, noLib: true };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    fileName === entry
      ? ts.createSourceFile(fileName, text, languageVersion)
      : getSourceFile(fileName, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => fileName === entry || fileExists(fileName);
  return { program: ts.createProgram({ rootNames: [entry], options, host }), entry };
}

describe('TSDoc of the public API', () => {
  const program = loadDocsProgram();

  it.each(ENTRY_POINTS)('documents every export of %s with a summary and an @example', (entry) => {
    const { names, count } = undocumentedExports(program, `${root}${entry}`);
    expect(count, `${entry} exports nothing: the check would pass vacuously`).toBeGreaterThan(0);
    expect(names, `exports of ${entry} without TSDoc and an @example`).toEqual([]);
  });

  it('flags an export without TSDoc, one without an @example and one documented only by a tag', () => {
    const { program: fixture, entry } = inMemoryProgram(`
      /**
       * Documented.
       *
       * @example
       * \`\`\`ts
       * documented();
       * \`\`\`
       */
      export function documented(): void {}

      export function bare(): void {}

      /** A summary, but no example. */
      export const noExample = 1;

      /** @example tagOnly */
      export interface TagOnly {}

      /**
       * Documented interface.
       * @example
       * const a: Aliased = {};
       */
      interface Aliased {}
      export type { Aliased as Renamed };
    `);
    expect(undocumentedExports(fixture, entry).names).toEqual(['TagOnly', 'bare', 'noExample']);
  });
});
