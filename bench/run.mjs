#!/usr/bin/env node
/**
 * `pnpm bench`: every benchmark suite, one after another (never part of `npm test`).
 *
 *   pnpm bench [--quick] [--suite offload,drain,streams,relay]
 *
 * offload  per-core micro-benchmarks of @tunpipe/offload (checksum, split, GRO)
 * drain    256k queued 64-byte packets read by linux-mq workers vs a C read loop
 * streams  the same drain through tun.readable / tun.batches vs the C loop
 * relay    ../shared/bench/run.sh with the C reference relays and tunpipe's relays
 *          interleaved in one run (ratios to `cfwd -m vnet`, the first mode)
 *
 * --quick shortens every suite (fewer repetitions, shorter runs). drain, streams
 * and relay need root (they create devices in private namespaces). Raw output of
 * each suite goes to bench/results/<time>/<suite>.log; a summary is printed.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    suite: { type: 'string', default: 'offload,drain,streams,relay' },
  },
});
const quick = values.quick;
const suites = values.suite.split(',').map((s) => s.trim()).filter(Boolean);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = join(here, 'results', stamp);
mkdirSync(outDir, { recursive: true });

/** Runs a command, teeing its output to the suite's log; resolves with the output. */
function run(label, cmd, args, env = {}) {
  return new Promise((resolve) => {
    const log = createWriteStream(join(outDir, `${label}.log`), { flags: 'a' });
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => {
      out += d;
      log.write(d);
      process.stdout.write(d);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      log.end();
      resolve({ code, out });
    });
    child.on('error', (e) => {
      log.end();
      resolve({ code: -1, out: String(e) });
    });
  });
}

const summary = [];

async function offload() {
  for (const name of ['checksum', 'split', 'gro']) {
    const r = await run('offload', process.execPath, [join(here, 'offload', `${name}.mjs`)]);
    summary.push(`offload/${name}: ${r.code === 0 ? 'ok' : `exit ${r.code}`}`);
  }
}

async function drain() {
  const reps = quick ? '1' : '3';
  const r = await run('drain', process.execPath, [join(here, 'drain', 'drain.mjs'), '--reps', reps]);
  const ratio = /ratio[^\n]*/i.exec(r.out)?.[0];
  summary.push(`drain: ${r.code === 0 ? ratio ?? 'ok' : `exit ${r.code}`}`);
}

async function streams() {
  const reps = quick ? '1' : '3';
  const r = await run('streams', process.execPath, [join(here, 'streams', 'drain.mjs'), '--reps', reps]);
  summary.push(`streams drain: ${r.code === 0 ? 'ok (ratios in streams.log)' : `exit ${r.code}`}`);
}

async function relay() {
  const shared = join(root, '..', 'shared', 'bench');
  if (!existsSync(join(shared, 'run.sh'))) {
    summary.push(`relay: skipped: the C reference harness is not at ${shared}`);
    return;
  }
  // shared/ is read-only: build the harness in a scratch copy.
  const work = mkdtempSync(join(tmpdir(), 'tunpipe-bench-'));
  cpSync(shared, work, { recursive: true });
  const node = process.execPath;
  const relayJs = join(here, 'relay', 'relay.mjs');
  const pipeJs = join(here, 'streams', 'relay-pipe.mjs');
  const modes = [
    'vnet',
    'plain',
    'mqvnet',
    `tp-keep=${node} ${relayJs} --mode keep`,
    `tp-keep-2q=${node} ${relayJs} --mode keep --queues 2`,
    `tp-split=${node} ${relayJs} --mode split`,
    `tp-streams=${node} ${pipeJs} --mode keep`,
  ];
  const env = {
    REPS: quick ? '1' : '3',
    DURATION: quick ? '3' : '10',
    TESTS: quick ? 'tcp1 udpmm64' : 'tcp1 tcp4 tcp1v6 udpmm64',
    OUT: join(outDir, 'relay'),
  };
  const r = await run('relay', 'bash', [join(work, 'run.sh'), ...modes], env);
  rmSync(work, { recursive: true, force: true });
  const table = existsSync(join(env.OUT, 'summary.txt')) ? readFileSync(join(env.OUT, 'summary.txt'), 'utf8') : '';
  summary.push(`relay: ${r.code === 0 ? 'ok' : `exit ${r.code}`}\n${table}`);
}

const table = { offload, drain, streams, relay };
for (const s of suites) {
  if (!(s in table)) {
    console.error(`bench: unknown suite ${s} (offload, drain, streams, relay)`);
    process.exit(2);
  }
}
for (const s of suites) {
  console.log(`\n=== ${s}${quick ? ' (quick)' : ''} ===`);
  await table[s]();
}
console.log(`\n=== summary (logs in ${outDir}) ===\n${summary.join('\n')}`);
