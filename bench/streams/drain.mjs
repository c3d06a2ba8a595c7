#!/usr/bin/env node
/**
 * Main-thread drain through the streams versus a C read loop, in the same run
 * (not part of `npm test`). 256k 64-byte IPv4/UDP packets are queued in the
 * kernel toward a TUN device nobody reads yet (txqueuelen raised so none is
 * dropped), then drained, alternately, by bench/drain's C read loop (cdrain.c:
 * one read() per packet, the reference) and by stream-drain.mjs through
 * `tun.readable` (a chunk per packet) and `tun.batches` (a chunk per batch),
 * plus async iteration and `pipeTo` for information. Prints each run, the
 * medians and each ratio to C (targets: batches >= 0.7, readable >= 0.5).
 *
 *   node bench/streams/drain.mjs [--reps 3] [--packets 262144] [--rx-slots 1024] [--via readable,batches,iterate,pipe]
 *
 * Everything happens in a private namespace tp-sdrain-<pid> (198.18.0.0/24),
 * deleted at the end; cdrain is compiled with gcc into a temporary directory.
 * Imports the built dist: run `pnpm exec tsc -b` first.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    packets: { type: 'string', default: '262144' },
    'rx-slots': { type: 'string', default: '1024' },
    via: { type: 'string', default: 'readable,batches,iterate,pipe' },
  },
});
const reps = Number(values.reps);
const packets = Number(values.packets);
const vias = values.via.split(',');
const here = new URL('.', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tp-sdrain-'));
const cdrain = join(tmp, 'cdrain');
const ns = `tp-sdrain-${process.pid}`;
const dev = 'tpsd0';
const PAYLOAD = 36; // 20 IP + 8 UDP + 36 = 64-byte packets

const ip = (...args) => execFileSync('ip', args, { encoding: 'utf8' });
const cleanup = () => {
  try { ip('netns', 'del', ns); } catch { /* gone */ }
  rmSync(tmp, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

execFileSync('gcc', ['-O2', '-Wall', '-o', cdrain, join(here, '../drain/cdrain.c')]);
ip('netns', 'add', ns);
ip('-n', ns, 'link', 'set', 'lo', 'up');

/** Starts a drainer in the namespace, queues the packets, lets it drain; resolves with its JSON. */
async function run(cmd, args) {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const out = [];
  const ready = new Promise((resolve) => lines.on('line', (l) => (l === 'READY' ? resolve() : out.push(l))));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await ready;
  ip('-n', ns, 'link', 'set', dev, 'txqueuelen', String(packets + 50_000));
  ip('-n', ns, 'addr', 'add', '198.18.0.1/24', 'dev', dev);
  ip('-n', ns, 'link', 'set', dev, 'up');
  const fill = JSON.parse(execFileSync('ip', ['netns', 'exec', ns, cdrain, 'fill', '198.18.0.2', '9', String(packets), String(PAYLOAD)], { encoding: 'utf8' }));
  const stats = JSON.parse(ip('-n', ns, '-s', '-j', 'link', 'show', 'dev', dev))[0].stats64.tx;
  const queued = fill.sent - stats.dropped;
  child.stdin.end(`go ${queued}\n`);
  await exited;
  clearTimeout(killer);
  const result = JSON.parse(out.pop());
  return { ...result, queued };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { c: [] };
for (const v of vias) results[v] = [];
const load = () => execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
console.log(`load before: ${load()}`);
for (let r = 1; r <= reps; r++) {
  const c = await run(cdrain, ['drain', dev, String(packets)]);
  results.c.push(c.pps);
  console.log(`rep ${r} C read loop  ${String(c.pps).padStart(8)} pps  (${c.packets} of ${c.queued} queued)`);
  for (const v of vias) {
    const s = await run('node', [join(here, 'stream-drain.mjs'), dev, String(packets), v, values['rx-slots']]);
    results[v].push(s.pps);
    console.log(`rep ${r} ${v.padEnd(12)} ${String(s.pps).padStart(8)} pps  (${s.packets} of ${s.queued} queued, ${s.chunks} chunks, ` +
      `${s.deliveredBatches} batches, worker batches ${s.workerBatches}, ring full ${s.ringFull}, wakeups ${s.wakeups})`);
  }
}
const mc = median(results.c);
const targets = { readable: 0.5, batches: 0.7 };
console.log(`\nmedians over ${reps} (load after: ${load()}):`);
console.log(`  C read loop  ${mc} pps`);
for (const v of vias) {
  const m = median(results[v]);
  const goal = targets[v] === undefined ? '' : `, target >= ${targets[v]}`;
  console.log(`  ${v.padEnd(12)} ${m} pps  ratio ${(m / mc).toFixed(3)}${goal}`);
}
