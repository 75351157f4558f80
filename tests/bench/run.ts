// `npm run bench`: every benchmark of gatehouse, each against its baseline, in one run.
const suites = process.argv.slice(2);
const names = ['tokens', 'policy', 'http'];
const all: Record<string, () => Promise<{ run(): Promise<void> }>> = Object.fromEntries(
  names.map((name) => [name, () => import(`./${name}.js`)]),
);
console.log(`gatehouse benchmarks — node ${process.version}, ${new Date().toISOString()}`);
for (const [name, load] of Object.entries(all)) {
  if (suites.length > 0 && !suites.includes(name)) continue;
  try {
    const mod = await load();
    await mod.run();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') continue;
    throw err;
  }
}
