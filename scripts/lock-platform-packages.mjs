// @node-rs/bcrypt lists a prebuilt package per platform as optional dependencies, but the
// registry these machines use serves only some of them; `npm install` then records just the
// ones it found and `npm ci` refuses the lock file as out of sync. This adds lock entries for
// the missing ones, marked optional and tagged with their platform, so `npm ci` skips them on
// other platforms exactly as it would have. Run after `npm install` changes the lock file.
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORMS = {
  'android-arm-eabi': { os: ['android'], cpu: ['arm'] },
  'android-arm64': { os: ['android'], cpu: ['arm64'] },
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'freebsd-x64': { os: ['freebsd'], cpu: ['x64'] },
  'linux-arm-gnueabihf': { os: ['linux'], cpu: ['arm'] },
  'linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'win32-arm64-msvc': { os: ['win32'], cpu: ['arm64'] },
  'win32-ia32-msvc': { os: ['win32'], cpu: ['ia32'] },
  'win32-x64-msvc': { os: ['win32'], cpu: ['x64'] },
};

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  if (!path.endsWith('node_modules/@node-rs/bcrypt')) continue;
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `${path.slice(0, -'bcrypt'.length)}${name.slice('@node-rs/'.length)}`;
    if (lock.packages[key]) continue;
    const platform = PLATFORMS[name.slice('@node-rs/bcrypt-'.length)];
    if (!platform) throw new Error(`unknown platform package ${name}`);
    lock.packages[key] = {
      version,
      license: 'MIT',
      optional: true,
      ...platform,
      engines: { node: '>= 10' },
    };
    added++;
  }
}
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries`);
