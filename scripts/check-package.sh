#!/usr/bin/env bash
# Packs the package, checks its shape (publint --strict, attw) and installs the tarball into a
# throwaway project to import every subpath from ESM and from CJS.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f gatehouse-*.tgz
tarball=$(npm pack --silent | tail -n 1)
echo "packed $tarball:"
tar -tzf "$tarball" | sed 's/^/  /'

# Nothing but what a user needs.
if tar -tzf "$tarball" | grep -Ev '^package/(dist/|migrations/|README\.md$|LICENSE$|CHANGELOG\.md$|package\.json$)'; then
  echo "unexpected files in the package (above)"; exit 1
fi

npx publint --strict "$tarball"
npx attw "$tarball" --profile node16

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$tarball" "$work/"
# The optional peers, as a user of each adapter installs them (versions of our dev setup).
peers=$(node -e 'const p=require("./package.json"); console.log(Object.keys(p.peerDependencies||{}).map(n=>n+"@"+p.devDependencies[n]).join(" "))')
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "./$tarball" >/dev/null

# The core needs none of the optional peers.
node --input-type=module -e "import { createAuth } from 'gatehouse'; await createAuth().register({ email: 'core@example.com', password: 'correct horse battery', name: 'C' }); console.log('core works without express, fastify or pg');"
node -e "require('gatehouse').createAuth(); console.log('core requires without the peers too');"

npm install --no-audit --no-fund --silent $peers >/dev/null

subpaths=$(node -e 'const p=require("./node_modules/gatehouse/package.json"); console.log(Object.keys(p.exports).filter(k=>k!=="./package.json").map(k=>k==="."?"gatehouse":"gatehouse/"+k.slice(2)).join(" "))')
echo "subpaths: $subpaths"

cat > smoke.mjs <<'JS'
import { AuthError, createAuth, hashPassword } from 'gatehouse';
const auth = createAuth();
await auth.register({ email: 'esm@example.com', password: 'correct horse battery', name: 'E' });
const { user } = await auth.login({ email: 'esm@example.com', password: 'correct horse battery' });
if (user.email !== 'esm@example.com') throw new Error('ESM login failed');
if (!(await hashPassword('correct horse battery')).startsWith('$2b$10$')) throw new Error('hash');
for (const sub of process.argv.slice(2)) {
  const mod = await import(sub);
  if (Object.keys(mod).length === 0) throw new Error(`${sub} exports nothing`);
}
try { await auth.login({ email: 'esm@example.com', password: 'wrong password' }); } catch (err) {
  if (!(err instanceof AuthError) || err.code !== 'INVALID_CREDENTIALS') throw err;
}
console.log('ESM import ok');
JS
cat > smoke.cjs <<'JS'
const { AuthError, createAuth } = require('gatehouse');
(async () => {
  const auth = createAuth();
  await auth.register({ email: 'cjs@example.com', password: 'correct horse battery', name: 'C' });
  try { await auth.login({ email: 'cjs@example.com', password: 'wrong password' }); throw new Error('no'); } catch (err) {
    if (!(err instanceof AuthError) || err.code !== 'INVALID_CREDENTIALS') throw err;
  }
  for (const sub of process.argv.slice(2)) {
    const mod = require(sub);
    if (Object.keys(mod).length === 0) throw new Error(`${sub} exports nothing`);
  }
  console.log('CJS require ok');
})().catch((err) => { console.error(err); process.exit(1); });
JS
node smoke.mjs $subpaths
node smoke.cjs $subpaths

# One copy of the core: the same AuthError class from every subpath, in ESM and in CJS.
cat > identity.cjs <<'JS'
const subs = process.argv.slice(2);
(async () => {
  const classes = new Set();
  for (const sub of subs) {
    const cjs = require(sub);
    const esm = await import(sub);
    for (const mod of [cjs, esm]) {
      if (mod.AuthError) classes.add(mod.AuthError);
      if (mod.createAuth) {
        const err = await mod.createAuth().login({ email: 'x@example.com', password: 'wrong password' }).catch((e) => e);
        classes.add(err.constructor);
      }
    }
  }
  if (classes.size !== 1) throw new Error(`${classes.size} copies of AuthError`);
  console.log('one AuthError class across ESM, CJS and every subpath');
})().catch((err) => { console.error(err); process.exit(1); });
JS
node identity.cjs $subpaths
