import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The option interfaces (src/options.ts) are what an editor shows on hover: every optional field
// must say what it does and its @default; a required field must say it is required. The hover
// itself is checked through the TypeScript language service, as an editor asks for it.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const OPTIONS_FILE = `${root}src/options.ts`;

/** `Interface.field` of each field of the file's interfaces whose TSDoc breaks the rule. */
function undocumentedFields(source: ts.SourceFile): { problems: string[]; fields: number } {
  const problems: string[] = [];
  let fields = 0;
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    for (const member of statement.members) {
      if (!ts.isPropertySignature(member)) continue;
      fields += 1;
      const name = `${statement.name.text}.${member.name.getText(source)}`;
      const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
      const summary = docs.map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '').join(' ');
      const tags = ts.getJSDocTags(member);
      const hasDefault = tags.some((tag) => tag.tagName.text === 'default');
      const deprecated = tags.some((tag) => tag.tagName.text === 'deprecated');
      if (!summary.trim() && !deprecated) problems.push(`${name}: no summary`);
      if (member.questionToken && !hasDefault) problems.push(`${name}: optional without @default`);
      if (!member.questionToken && !/\bRequired\b/.test(summary)) {
        problems.push(`${name}: required but the summary does not say "Required"`);
      }
    }
  }
  return { problems, fields };
}

function parse(fileName: string, text: string): ts.SourceFile {
  return ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
}

/** A language service over the project's tsconfig.json plus one in-memory file. */
function languageService(fileName: string, text: string): ts.LanguageService {
  const configPath = `${root}tsconfig.json`;
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath);
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => parsed.options,
    getScriptFileNames: () => [fileName],
    getScriptVersion: () => '1',
    getScriptSnapshot: (name) => {
      const content = name === fileName ? text : ts.sys.readFile(name);
      return content === undefined ? undefined : ts.ScriptSnapshot.fromString(content);
    },
    getCurrentDirectory: () => root,
    getDefaultLibFileName: (options) => ts.getDefaultLibFilePath(options),
    fileExists: (name) => name === fileName || ts.sys.fileExists(name),
    readFile: (name) => (name === fileName ? text : ts.sys.readFile(name)),
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  };
  return ts.createLanguageService(host, ts.createDocumentRegistry());
}

/** What an editor shows when hovering `word` (its first occurrence after `after`) in `text`. */
function hover(text: string, word: string, after = 0): { docs: string; tags: string[] } {
  const fileName = `${root}tests/unit/config/hover-fixture.ts`;
  const service = languageService(fileName, text);
  const position = text.indexOf(word, after);
  const info = service.getQuickInfoAtPosition(fileName, position);
  return {
    docs: ts.displayPartsToString(info?.documentation),
    tags: (info?.tags ?? []).map((tag) => `@${tag.name} ${ts.displayPartsToString(tag.text)}`),
  };
}

describe('option interfaces: documentation on hover', () => {
  it('every optional field of every option interface has a summary and a @default; every required field says so', () => {
    const source = parse(OPTIONS_FILE, ts.sys.readFile(OPTIONS_FILE) ?? '');
    const { problems, fields } = undocumentedFields(source);
    expect(
      fields,
      'src/options.ts declares no fields: the check would pass vacuously',
    ).toBeGreaterThan(60);
    expect(problems).toEqual([]);
  });

  it('flags a field without @default, one without a summary and a required one that does not say so', () => {
    const fixture = parse(
      'fixture.ts',
      `export interface X {
        /** Documented. @default 1 */
        good?: number;
        /** No default here. */
        noDefault?: number;
        /** @default 2 */
        noSummary?: number;
        /** A must. */
        mandatory: string;
        /** Required: the name. */
        required: string;
      }`,
    );
    expect(undocumentedFields(fixture).problems).toEqual([
      'X.noDefault: optional without @default',
      'X.noSummary: no summary',
      'X.mandatory: required but the summary does not say "Required"',
    ]);
  });

  it("hovering tokens.accessTtl in a createAuth call shows its meaning, bounds and @default '15m'", () => {
    const text = `import { createAuth } from 'gatehouse';\ncreateAuth({ tokens: { accessTtl: '10m' } });\n`;
    const { docs, tags } = hover(text, 'accessTtl');
    expect(docs).toContain('Lifetime of an access token, 1 s to 24 h');
    expect(tags).toContain("@default '15m'");
  });

  it('hovering lockout.maxAttempts shows its bounds and @default 5', () => {
    const text = `import { createAuth } from 'gatehouse';\ncreateAuth({ lockout: { maxAttempts: 3 } });\n`;
    const { docs, tags } = hover(text, 'maxAttempts');
    expect(docs).toContain('1 to 1000');
    expect(tags).toContain('@default 5');
  });
});
