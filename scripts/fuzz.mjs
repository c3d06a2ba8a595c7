// `pnpm fuzz`: every package's fuzz suite (packages/*/dist/test/fuzz/suite.js and
// examples/dist/*/fuzz/suite.js) through the shared runner of @tunpipe/testkit.
// Arguments pass through: --long (100000 iterations per target), --iterations N,
// --seed S, --target NAME (repeatable), --from I, --parallel P, --stall-ms MS.
import { existsSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const root = new URL('../', import.meta.url);
const suites = [];
for (const [dir, rel] of [['packages', 'dist/test/fuzz/suite.js'], ['examples/dist', 'fuzz/suite.js']]) {
  const base = new URL(`${dir}/`, root);
  if (!existsSync(base)) continue;
  for (const name of readdirSync(base).sort()) {
    const suite = new URL(`${name}/${rel}`, base);
    if (existsSync(suite)) suites.push(suite);
  }
}
if (suites.length === 0) {
  console.error('fuzz: no compiled suites found (run `pnpm build` first)');
  process.exit(1);
}
const { runFuzzCli } = await import(pathToFileURL(new URL('test/kit/dist/src/fuzz-cli.js', root).pathname).href);
console.log(`fuzz suites: ${suites.map((s) => s.pathname.slice(root.pathname.length)).join(', ')}`);
process.exitCode = await runFuzzCli(process.argv.slice(2), suites);
