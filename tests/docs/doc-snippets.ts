import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

// The TypeScript blocks of the docs, compiled as users would compile them: every ```ts block of
// README.md and docs/*.md becomes a module of one program (strict, NodeNext, as tsconfig.json),
// importing `gatehouse` and its subpaths. A block written as a fragment names what it assumes
// in an HTML comment right before the fence, which GitHub does not render:
//
//   <!-- prelude: express-app -->                    docs/preludes/express-app.ts goes first
//   <!-- prelude
//   declare const since: Date;                       inline declarations go first
//   -->
//   <!-- prelude: postgres                            both: the files, then the inline lines
//   declare const since: Date;
//   -->
//
// Nothing else is added, so a name the block uses and nobody declares fails the build.

/** Fence languages compiled as TypeScript. Every other language is left alone. */
export const TYPESCRIPT_FENCES = new Set(['ts', 'typescript']);

export interface DocBlock {
  /** The Markdown file, relative to the repository root (`docs/tokens.md`). */
  file: string;
  /** 1-based line of the block's first code line in the Markdown file. */
  line: number;
  /** The fence's language (`ts`, `sh`, ...), lower-cased; '' when the fence has none. */
  lang: string;
  code: string;
  /** Prelude file names from `<!-- prelude: a, b -->`. */
  preludes: string[];
  /** Inline prelude lines from the body of a `<!-- prelude ... -->` comment. */
  inlinePrelude: string;
}

const OPENING_FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;

/** The fenced code blocks of one Markdown text, with the prelude comment each one carries. */
export function extractBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPENING_FENCE.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[1] as string;
    const lang = (open[2] ?? '').toLowerCase();
    const start = i + 1;
    let end = start;
    while (end < lines.length && !isClosingFence(lines[end] ?? '', fence)) end++;
    if (end >= lines.length) throw new Error(`${file}:${i + 1}: the code fence is never closed`);
    blocks.push({
      file,
      line: start + 1,
      lang,
      code: lines.slice(start, end).join('\n'),
      ...preludeBefore(file, lines, i),
    });
    i = end;
  }
  return blocks;
}

function isClosingFence(line: string, fence: string): boolean {
  const trimmed = line.trim();
  return (
    trimmed.startsWith(fence) &&
    trimmed.split('').every((char) => char === fence[0]) &&
    line.length - line.trimStart().length <= 3
  );
}

/** The `<!-- prelude ... -->` comment ending right above line `fenceIndex` (blank lines allowed). */
function preludeBefore(
  file: string,
  lines: string[],
  fenceIndex: number,
): { preludes: string[]; inlinePrelude: string } {
  let end = fenceIndex - 1;
  while (end >= 0 && (lines[end] ?? '').trim() === '') end--;
  if (end < 0 || !(lines[end] ?? '').trimEnd().endsWith('-->')) {
    return { preludes: [], inlinePrelude: '' };
  }
  let start = end;
  while (start >= 0 && !(lines[start] ?? '').includes('<!--')) start--;
  const comment = lines
    .slice(start, end + 1)
    .join('\n')
    .replace(/^[\s\S]*?<!--/, '')
    .replace(/-->\s*$/, '');
  const header = /^\s*prelude\b(:?)([^\n]*)\n?/.exec(comment);
  if (!header) return { preludes: [], inlinePrelude: '' };
  const [, colon, rest = ''] = header;
  if (!colon && rest.trim() !== '') {
    throw new Error(`${file}:${start + 1}: write "<!-- prelude: name -->" (with a colon)`);
  }
  const preludes = rest
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return { preludes, inlinePrelude: comment.slice(header[0].length).trimEnd() };
}

/** README.md and every docs/*.md page, relative to `root`. */
export function documentationFiles(root: string): string[] {
  const pages = ts.sys
    .readDirectory(join(root, 'docs'), ['.md'], undefined, undefined, 1)
    .map((path) => relative(root, path))
    .sort();
  return ['README.md', ...pages];
}

export interface SnippetDiagnostic {
  /** `docs/tokens.md:14:7` (the position in the Markdown), or the prelude file for its errors. */
  where: string;
  code: number;
  message: string;
}

export interface CompiledSnippets {
  /** The diagnostics of each block, in the order of `blocks`. */
  diagnostics: SnippetDiagnostic[][];
  /** The module each block became, to read when a message is unclear. */
  moduleText: string[];
  /** Every file of the program, relative to the root (to see where `gatehouse` resolved). */
  programFiles: string[];
}

export type PackageResolution =
  /** `gatehouse` and its subpaths resolve to the sources (tsconfig.json `paths`): always fresh. */
  | 'sources'
  /** `gatehouse` resolves through package.json `exports` to `dist/*.d.ts`, as for a user. */
  | 'dist';

/**
 * Compiles every block as one module of one program, with the compiler options of tsconfig.json
 * (strict, noUncheckedIndexedAccess). The modules live only in memory, in a folder of the
 * repository (`.doc-snippets/`) so that `express`, `pg`... resolve from its node_modules.
 */
export function compileSnippets(
  root: string,
  blocks: readonly DocBlock[],
  resolution: PackageResolution,
  readPrelude: (name: string) => string = (name) => defaultPrelude(root, name),
): CompiledSnippets {
  const options = compilerOptions(root, resolution);
  // Blocks are files of a virtual app's `.doc-snippets/src/`, so that an import of the app's own
  // code (`./my-token-store.js`, or `../src/my-token-store.js` from a test file) finds the
  // stand-ins of docs/preludes/src/.
  const folder = join(root, '.doc-snippets', 'src');
  const appSources = folder;
  const standIns = join(root, 'docs', 'preludes', 'src');
  const standIn = (fileName: string): string | undefined =>
    fileName.startsWith(`${appSources}/`)
      ? ts.sys.readFile(join(standIns, relative(appSources, fileName)))
      : undefined;
  const modules = new Map<string, { text: string; block: DocBlock; preludeLines: number }>();
  const moduleText: string[] = [];
  const names: string[] = [];
  blocks.forEach((block, index) => {
    const prelude = [...block.preludes.map(readPrelude), block.inlinePrelude]
      .filter((text) => text.trim() !== '')
      .map((text) => text.trimEnd())
      .join('\n');
    const preludeText = prelude === '' ? '' : `${prelude}\n`;
    // `export {}` makes every block a module (its own scope, top-level await) even without imports.
    const text = `${preludeText}${block.code}\nexport {};\n`;
    const name = join(folder, `${block.file.replace(/[^\w.-]/g, '_')}_L${block.line}_${index}.ts`);
    modules.set(name, { text, block, preludeLines: lineCount(preludeText) });
    moduleText.push(text);
    names.push(name);
  });

  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const text = modules.get(fileName)?.text ?? standIn(fileName);
    return text !== undefined
      ? ts.createSourceFile(fileName, text, languageVersion, true)
      : getSourceFile(fileName, languageVersion, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) =>
    modules.has(fileName) || standIn(fileName) !== undefined || fileExists(fileName);
  const directoryExists = host.directoryExists?.bind(host);
  host.directoryExists = (name) =>
    name === folder || name === join(root, '.doc-snippets') || (directoryExists?.(name) ?? true);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) =>
    modules.get(fileName)?.text ?? standIn(fileName) ?? readFile(fileName);

  const program = ts.createProgram({ rootNames: names, options, host });
  const diagnostics = names.map((name) => {
    const source = program.getSourceFile(name);
    const snippet = modules.get(name);
    if (!source || !snippet) throw new Error(`${name} is not part of the program`);
    return [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ].map((diagnostic) => locate(root, diagnostic, snippet));
  });
  const global = program.getGlobalDiagnostics().map((diagnostic) => ({
    where: '(program)',
    code: diagnostic.code,
    message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
  }));
  if (global.length > 0) diagnostics[0]?.push(...global);
  const programFiles = program.getSourceFiles().map((file) => relative(root, file.fileName));
  return { diagnostics, moduleText, programFiles };
}

function defaultPrelude(root: string, name: string): string {
  if (!/^[\w-]+$/.test(name)) throw new Error(`prelude name "${name}" is not a plain file name`);
  const path = join(root, 'docs', 'preludes', `${name}.ts`);
  if (!existsSync(path)) throw new Error(`no prelude docs/preludes/${name}.ts`);
  return readFileSync(path, 'utf8');
}

function compilerOptions(root: string, resolution: PackageResolution): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  if (config.error) {
    throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  }
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true };
  if (!options.strict)
    throw new Error('tsconfig.json must keep "strict": the docs compile under it');
  // Without `paths`, a module inside the package resolves `gatehouse` by its own name through
  // package.json `exports`, to the built declarations: what a user's compiler sees.
  if (resolution === 'dist') delete options.paths;
  return options;
}

function locate(
  root: string,
  diagnostic: ts.Diagnostic,
  snippet: { block: DocBlock; preludeLines: number },
): SnippetDiagnostic {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (!diagnostic.file || diagnostic.start === undefined) {
    return { where: `${snippet.block.file}:${snippet.block.line}`, code: diagnostic.code, message };
  }
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const where = !diagnostic.file.fileName.includes('.doc-snippets')
    ? `${relative(root, diagnostic.file.fileName)}:${line + 1}:${character + 1}`
    : line < snippet.preludeLines
      ? `prelude of ${snippet.block.file}:${snippet.block.line} (line ${line + 1})`
      : `${snippet.block.file}:${snippet.block.line + line - snippet.preludeLines}:${character + 1}`;
  return { where, code: diagnostic.code, message };
}

function lineCount(text: string): number {
  return text === '' ? 0 : text.split('\n').length - 1;
}
