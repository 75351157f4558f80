// The exported names of every entry point, pinned: adding, renaming or removing a public name
// changes this snapshot, so the change is a decision (update it with `npx vitest -u` and say so
// in a changeset), never an accident of a barrel edit.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRIES = {
  gatehouse: 'src/index.ts',
  'gatehouse/testing': 'src/testing/index.ts',
  'gatehouse/http': 'src/http/index.ts',
  'gatehouse/express': 'adapters/express/index.ts',
  'gatehouse/fastify': 'adapters/fastify/index.ts',
  'gatehouse/postgres': 'adapters/postgres/index.ts',
  'gatehouse/redis': 'adapters/redis/index.ts',
} as const;

function exportsOf(): Record<string, { values: string[]; types: string[] }> {
  const files = Object.values(ENTRIES).map((f) => `${root}${f}`);
  const program = ts.createProgram(files, {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const result: Record<string, { values: string[]; types: string[] }> = {};
  for (const [entry, file] of Object.entries(ENTRIES)) {
    const source = program.getSourceFile(`${root}${file}`);
    if (!source) throw new Error(`${file} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`${file} has no module symbol`);
    const values: string[] = [];
    const types: string[] = [];
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      if (target.flags & ts.SymbolFlags.Value) values.push(symbol.name);
      else types.push(symbol.name);
    }
    result[entry] = { values: values.sort(), types: types.sort() };
  }
  return result;
}

describe('public API surface', () => {
  it('pins the exported names of every entry point (a change to the API is deliberate)', async () => {
    await expect(JSON.stringify(exportsOf(), null, 2)).toMatchFileSnapshot(
      './__snapshots__/exports.json',
    );
  }, 60_000);
});
