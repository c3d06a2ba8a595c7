#!/usr/bin/env node
/**
 * Puts a benchmark run's figures into the documents:
 *
 *   node bench/report.mjs [bench/results/<time> ...]   # default: the newest run
 *
 * With several runs, each suite is taken from the last run given that has it
 * (e.g. a full run, then a rerun of the relay suite alone); the machine table
 * names every run used.
 * Rewrites, in BENCHMARKS.md, every section between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->` (machine, relay, drain, offload, memory, appium) for
 * which the run has results, and the README's headline table between
 * `<!-- bench:headline -->` and `<!-- /bench:headline -->` (not for a --quick
 * run: the headline shows full runs only); copies the run's
 * relay.svg to bench/relay-ratios.svg. Text outside the markers is left alone.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineTable, relayTables, drainTable, offloadTable, memoryTable, headlineTable } from './report-tables.mjs';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '..');
const resultsRoot = join(here, 'results');

/** The newest run directory under bench/results that has a results.json. */
function newestRun() {
  const runs = existsSync(resultsRoot)
    ? readdirSync(resultsRoot).filter((d) => existsSync(join(resultsRoot, d, 'results.json'))).sort()
    : [];
  if (runs.length === 0) throw new Error('no bench/results/<time>/results.json: run `pnpm bench` first');
  return join(resultsRoot, runs.at(-1));
}

/** Replaces the text between `<!-- bench:name -->` and `<!-- /bench:name -->`; throws if the markers are missing. */
export function replaceSection(text, name, body) {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a < 0 || b < a) throw new Error(`markers ${open} ... ${close} not found`);
  return `${text.slice(0, a + open.length)}\n${body.trim()}\n${text.slice(b)}`;
}

/** What the run found out about appium-ios-tuntap, as a paragraph. */
function appiumText(appium) {
  if (!appium) return '_No relay results in this run._';
  const tried = appium.tried.length ? appium.tried.map((t) => `\`${t}\``).join('; ') : 'the scratch install from an earlier run was reused';
  if (appium.ok) {
    return `appium-ios-tuntap ${appium.version} installed and loaded here (${tried}). Native binding: ${appium.native}; ${appium.prebuild}. ` +
      'It runs in the relay suite as `appium` (bench/relay/appium-relay.mjs).';
  }
  return `appium-ios-tuntap could not be used here. Tried: ${tried}. Error:\n\n\`\`\`\n${appium.error}\n\`\`\`\n\n${appium.prebuild ?? ''}`;
}

const dirs = process.argv.length > 2 ? process.argv.slice(2) : [newestRun()];
const runs = dirs.map((d) => ({ dir: d, results: JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')) }));
const results = runs.at(-1).results;
const s = {};
const from = {};
for (const run of runs) {
  for (const [name, suite] of Object.entries(run.results.suites)) {
    if (suite && !suite.error) {
      s[name] = suite;
      from[name] = run;
    }
  }
}
if (runs.length > 1) {
  results.command = runs.map((r) => `${r.results.command} (${Object.keys(from).filter((k) => from[k] === r).join(', ')})`).join('; ');
  results.started = runs[0].results.started;
  results.quick = runs.some((r) => r.results.quick);
}
results.suites = s;
const dir = from.relay?.dir ?? runs.at(-1).dir;
const benchmarks = join(root, 'BENCHMARKS.md');
let doc = readFileSync(benchmarks, 'utf8');
doc = replaceSection(doc, 'machine', machineTable(results));
const updated = ['machine'];
if (s.relay?.tests?.length) {
  doc = replaceSection(doc, 'relay', `Command (in a built copy of ../shared/bench; \`pnpm bench\` does this): \`${s.relay.command}\`\n\n${relayTables(s.relay)}`);
  doc = replaceSection(doc, 'appium', appiumText(s.relay.appium));
  updated.push('relay', 'appium');
  const svg = join(dir, 'relay.svg');
  if (existsSync(svg)) {
    copyFileSync(svg, join(here, 'relay-ratios.svg'));
    updated.push('bench/relay-ratios.svg');
  }
}
if (s.drain?.results) {
  doc = replaceSection(doc, 'drain', drainTable(s.drain));
  updated.push('drain');
}
if (s.offload?.checksum) {
  doc = replaceSection(doc, 'offload', offloadTable(s.offload));
  updated.push('offload');
}
if (s.memory?.relays) {
  doc = replaceSection(doc, 'memory', `Command: \`${s.memory.command}\`\n\n${memoryTable(s.memory)}`);
  updated.push('memory');
}
writeFileSync(benchmarks, doc);
if (results.quick) {
  console.log('report: a quick pass: the README headline is left as it is (it shows full runs only)');
} else if (s.relay?.tests?.length || s.drain?.results) {
  const readme = join(root, 'README.md');
  writeFileSync(readme, replaceSection(readFileSync(readme, 'utf8'), 'headline', headlineTable(results)));
  updated.push('README headline');
}
console.log(`report: ${dirs.join(' ')} -> ${updated.join(', ')}`);
