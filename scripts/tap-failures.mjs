// Prints every failed assertion of a TAP log (tap's --reporter=tap output) with
// the subtest path that leads to it and its YAML diagnostic, so that the end of
// a long run says what failed without scrolling back through thousands of
// lines. Usage: node scripts/tap-failures.mjs LOG
import { readFileSync } from 'node:fs';

const MAX_DIAGNOSTIC_LINES = 40;
const lines = readFileSync(process.argv[2] ?? '/dev/stdin', 'utf8').split('\n');
const indentOf = (line) => line.length - line.trimStart().length;

/** Subtest names by indentation, innermost last. */
const path = [];
const failures = [];
for (let i = 0; i < lines.length; i++) {
  const line = lines[i];
  const indent = indentOf(line);
  const text = line.trimStart();
  const subtest = /^# Subtest: (.*)$/.exec(text);
  if (subtest) {
    while (path.length > 0 && path[path.length - 1].indent >= indent) path.pop();
    path.push({ indent, name: subtest[1], failures: 0 });
    continue;
  }
  if (!/^not ok \d+/.test(text) || /# (TODO|SKIP)\b/i.test(text)) continue;
  const where = path.filter((p) => p.indent < indent).map((p) => p.name);
  // "not ok N - name" that closes the subtest "name" at the same indentation:
  // it only repeats a failure inside it unless none was printed (a crash, a
  // timeout, a bad plan), in which case its diagnostic is the explanation.
  const own = path.find((p) => p.indent === indent && text.startsWith(`not ok `) &&
    text.replace(/^not ok \d+ - /, '').replace(/ # time=.*$/, '') === p.name);
  if (own?.failures > 0) continue;
  for (const p of path) p.failures++;
  const diagnostic = [];
  if (lines[i + 1]?.trim() === '---') {
    for (let j = i + 2; j < lines.length && lines[j].trim() !== '...'; j++) {
      diagnostic.push(lines[j].slice(Math.min(indent + 2, indentOf(lines[j]))));
    }
  }
  failures.push({ where, text, diagnostic });
}

if (failures.length > 0) {
  console.log(`\nfailed (${failures.length}):`);
  for (const f of failures) {
    console.log(`  ${[...f.where, f.text].join(' > ')}`);
    const shown = f.diagnostic.slice(0, MAX_DIAGNOSTIC_LINES);
    for (const d of shown) console.log(`      ${d}`);
    if (f.diagnostic.length > shown.length) {
      console.log(`      … ${f.diagnostic.length - shown.length} more diagnostic lines`);
    }
  }
}
