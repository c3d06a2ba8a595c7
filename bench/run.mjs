#!/usr/bin/env node
/**
 * `pnpm bench`: every benchmark suite, one after another (never part of `npm test`).
 *
 *   pnpm bench [--quick] [--suite offload,drain,relay,memory] [--reps N] [--duration S]
 *              [--relays vnet,tp-keep,...] [--tests tcp1,tcp4,...]
 *
 * offload  per-core micro-benchmarks of @tunpipe/offload (checksum, split, GRO, split+GRO CPU)
 * drain    256k queued 64-byte packets read by a C loop, linux-mq worker rings,
 *          tun.batches, tun.readable, RxJS packets$ and a koffi loop (drain/drain-suite.mjs)
 * relay    ../shared/bench/run.sh with the C relays, tunpipe's relays and the Node
 *          alternatives interleaved in one run (relay/relay-suite.mjs)
 * memory   RSS of the tunpipe relay with 1 and 2 queues under tcp4 load (memory/memory-suite.mjs)
 *
 * --quick: 1 repetition of every suite, 3 s per relay test (--reps and --duration
 * override the repetitions of drain and relay and the seconds per relay/memory test;
 * defaults 3 and 10). --relays and --tests run a subset of the relay suite (labels in
 * relay/relay-suite.mjs; a relay's C counterpart is added when missing, so every
 * ratio still compares figures of one run). drain, relay and
 * memory need root (they create devices in private namespaces). A run that includes
 * relay or memory holds /tmp/tp-relay-bench.lock from start to end (run.sh uses
 * fixed names; other sessions' harness runs take the same lock).
 * Writes bench/results/<time>/: results.json (everything), summary.md (the
 * tables), relay.svg (the relay chart), one log per suite. `node bench/report.mjs`
 * then puts the tables into BENCHMARKS.md and the README.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineFacts } from './machine.mjs';
import { relaySuite } from './relay/relay-suite.mjs';
import { RELAY_LOCK, LOCK_HELD_ENV } from './relay/harness.mjs';
import { memorySuite } from './memory/memory-suite.mjs';
import { relayRatioSvg } from './relay/ratio-chart.mjs';
import { machineTable, relayTables, drainTable, offloadTable, memoryTable, headlineTable } from './report-tables.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const SUITES = ['offload', 'drain', 'relay', 'memory'];
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    suite: { type: 'string', default: SUITES.join(',') },
    reps: { type: 'string' },
    duration: { type: 'string' },
    relays: { type: 'string' },
    tests: { type: 'string' },
  },
});
const quick = values.quick;
const reps = Number(values.reps ?? (quick ? 1 : 3));
const duration = Number(values.duration ?? (quick ? 3 : 10));
const suites = values.suite.split(',').map((s) => s.trim()).filter(Boolean);
for (const s of suites) {
  if (!SUITES.includes(s)) {
    console.error(`bench: unknown suite ${s} (${SUITES.join(', ')})`);
    process.exit(2);
  }
}
// With both harness suites, hold the harness lock for the whole run (re-run under
// flock): another session's run.sh cannot slip in between relay and memory, or
// load the machine while the drain and offload suites measure.
// `flock -F` execs the run itself (no flock process in between), so the lock lives
// as long as the run and what it started; the run gets its own process group, and a
// signal here reaches all of it.
if (process.env[LOCK_HELD_ENV] !== '1' && suites.some((s) => s === 'relay' || s === 'memory')) {
  const child = spawn('flock', ['-F', '-w', '7200', RELAY_LOCK, process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    detached: true,
    env: { ...process.env, [LOCK_HELD_ENV]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    });
  }
  const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 130 : 1))));
  process.exit(code);
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = join(here, 'results', stamp);
mkdirSync(outDir, { recursive: true });

const machine = machineFacts();
writeFileSync(join(outDir, 'lscpu.txt'), machine.lscpu);
delete machine.lscpu;
const results = {
  version: 1,
  command: ['pnpm bench', quick ? '--quick' : '', values.suite !== SUITES.join(',') ? `--suite ${values.suite}` : '',
    values.reps ? `--reps ${values.reps}` : '', values.duration ? `--duration ${values.duration}` : '',
    values.relays ? `--relays ${values.relays}` : '', values.tests ? `--tests ${values.tests}` : ''].filter(Boolean).join(' '),
  quick,
  started: new Date().toISOString(),
  finished: null,
  machine,
  durations: {},
  suites: {},
};
const save = () => writeFileSync(join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
const log = (line) => console.log(line);

/** Runs a command with its output teed to the suite's log; resolves with `{ code, out }`. */
function run(label, cmd, args) {
  return new Promise((resolve) => {
    const file = createWriteStream(join(outDir, `${label}.log`), { flags: 'a' });
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => {
      out += d;
      file.write(d);
      process.stdout.write(d);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      file.end();
      resolve({ code, out });
    });
  });
}

const suite = {
  async offload() {
    const r = {};
    for (const name of ['checksum', 'split', 'gro', 'split-gro']) {
      if (interrupted) break;
      const { code, out } = await run('offload', process.execPath, [join(here, 'offload', `${name}.mjs`)]);
      const line = out.trim().split('\n').at(-1);
      r[name] = code === 0 ? JSON.parse(line) : { error: `exit ${code}` };
    }
    return r;
  },
  async drain() {
    const json = join(outDir, 'drain.json');
    const { code } = await run('drain', process.execPath, [join(here, 'drain', 'drain.mjs'), '--reps', String(reps), '--json', json]);
    return code === 0 ? JSON.parse(readFileSync(json, 'utf8')) : { error: `exit ${code}` };
  },
  async relay() {
    const list = (v) => (v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean));
    const r = await relaySuite({ quick, reps, duration, outDir, log, only: list(values.relays), tests: list(values.tests) });
    if (r.tests.length) writeFileSync(join(outDir, 'relay.svg'), relayRatioSvg(r));
    return r;
  },
  memory: () => memorySuite({ quick, duration, outDir, log }),
};

// SIGINT/SIGTERM: the running suite stops its own processes (the harness run is
// killed and torn down, drainers exit with the drain suite); no further suite starts.
let interrupted = false;
const interrupt = () => {
  interrupted = true;
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

for (const s of suites) {
  if (interrupted) break;
  console.log(`\n=== ${s}${quick ? ' (quick)' : ''} ===`);
  const t0 = Date.now();
  try {
    results.suites[s] = await suite[s]();
  } catch (e) {
    console.error(`bench: suite ${s} failed: ${e.stack ?? e}`);
    results.suites[s] = { error: String(e.message ?? e) };
  }
  results.durations[s] = Math.round((Date.now() - t0) / 1000);
  save();
}
results.finished = interrupted ? null : new Date().toISOString();
save();
if (interrupted) {
  console.error(`bench: interrupted; partial results in ${join(outDir, 'results.json')}`);
  process.exit(130);
}

const sections = [
  `# benchmark run ${results.started}${quick ? ' (quick)' : ''}`,
  machineTable(results),
  `suite durations (s): ${Object.entries(results.durations).map(([k, v]) => `${k} ${v}`).join(', ')}`,
];
if (results.suites.relay) sections.push('## relay', relayTables(results.suites.relay));
if (results.suites.drain) sections.push('## drain', drainTable(results.suites.drain));
if (results.suites.offload) sections.push('## offload', offloadTable(results.suites.offload));
if (results.suites.memory) sections.push('## memory', memoryTable(results.suites.memory));
sections.push('## headline', headlineTable(results));
const summary = sections.join('\n\n') + '\n';
writeFileSync(join(outDir, 'summary.md'), summary);
console.log(`\n${summary}\nresults: ${join(outDir, 'results.json')}`);
