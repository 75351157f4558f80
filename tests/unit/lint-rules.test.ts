import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs the project's biome, with the project's biome.json, over files written in a temporary
// copy of the layout: nothing is written into the real src/ (other processes read it).
const REPO = resolve(import.meta.dirname, '../..');
const BIOME = join(REPO, 'node_modules/@biomejs/biome/bin/biome');
const RULE = 'lint/style/noRestrictedImports';

const FILES: Record<string, string> = {
  'src/named.ts': "import { decodeJwt } from 'jose';\nexport const f = decodeJwt;\n",
  'src/header.ts':
    "import { decodeProtectedHeader } from 'jose';\nexport const f = decodeProtectedHeader;\n",
  'src/unsecured.ts': "import { UnsecuredJWT } from 'jose';\nexport const f = UnsecuredJWT;\n",
  'src/aliased.ts': "import { decodeJwt as parse } from 'jose';\nexport const f = parse;\n",
  'src/reexport.ts': "export { UnsecuredJWT } from 'jose';\n",
  'src/namespace.ts': "import * as jose from 'jose';\nexport const f = jose.decodeJwt;\n",
  'src/subpath.ts': "import { decodeJwt } from 'jose/jwt/decode';\nexport const f = decodeJwt;\n",
  'src/subpath-header.ts':
    "import { decodeProtectedHeader } from 'jose/decode/protected_header';\nexport const f = decodeProtectedHeader;\n",
  'src/tokens/refresh-token.ts': "import { decodeJwt } from 'jose';\nexport const f = decodeJwt;\n",
  'adapters/express/peek.ts': "import { decodeJwt } from 'jose';\nexport const f = decodeJwt;\n",
  // The module that does parse an unverified header: by hand, with jose for signing and
  // verifying only. Its real content must pass.
  'src/tokens/access-token.ts': readFileSync(join(REPO, 'src/tokens/access-token.ts'), 'utf8'),
  'src/verified.ts':
    "import { compactVerify, SignJWT } from 'jose';\nexport const f = [compactVerify, SignJWT];\n",
  // Tests may decode what they forge.
  'tests/forge.ts': "import { decodeJwt } from 'jose';\nexport const f = decodeJwt;\n",
};

interface Diagnostic {
  category: string;
  location: { path: string };
}

let root: string;
let flagged: Map<string, number>;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gatehouse-lint-'));
  const config = JSON.parse(readFileSync(join(REPO, 'biome.json'), 'utf8'));
  delete config.$schema;
  writeFileSync(join(root, 'biome.json'), JSON.stringify(config));
  for (const [path, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  let output: string;
  try {
    output = execFileSync(
      process.execPath,
      [BIOME, 'lint', '--reporter=json', '--max-diagnostics=none', '.'],
      {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
  } catch (err) {
    // biome exits 1 when it reports errors; its report is still on stdout.
    output = (err as { stdout: string }).stdout;
  }
  const report = JSON.parse(output) as { diagnostics: Diagnostic[] };
  flagged = new Map();
  for (const d of report.diagnostics) {
    if (d.category !== RULE) continue;
    const path = d.location.path.replaceAll('\\', '/').replace(/^\.\//, '');
    flagged.set(path, (flagged.get(path) ?? 0) + 1);
  }
}, 30_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('lint rule: no unverified JWT decoding in the core', () => {
  it.each([
    ['decodeJwt imported from jose', 'src/named.ts'],
    ['decodeProtectedHeader imported from jose', 'src/header.ts'],
    ['UnsecuredJWT imported from jose', 'src/unsecured.ts'],
    ['decodeJwt imported under another name', 'src/aliased.ts'],
    ['UnsecuredJWT re-exported', 'src/reexport.ts'],
    ['a namespace import of jose (jose.decodeJwt)', 'src/namespace.ts'],
    ['the jose/jwt/decode subpath', 'src/subpath.ts'],
    ['the jose/decode/protected_header subpath', 'src/subpath-header.ts'],
    ['decodeJwt in another module of src/tokens', 'src/tokens/refresh-token.ts'],
    ['decodeJwt in an adapter', 'adapters/express/peek.ts'],
  ])('reports %s', (_what, path) => {
    expect(flagged.get(path), path).toBe(1);
  });

  it('does not report the token module, which checks headers by hand and imports only compactVerify and SignJWT', () => {
    expect(flagged.get('src/tokens/access-token.ts')).toBeUndefined();
    expect(flagged.get('src/verified.ts')).toBeUndefined();
  });

  it('does not apply outside src/ and adapters/ (tests decode what they forge)', () => {
    expect(flagged.get('tests/forge.ts')).toBeUndefined();
  });
});
