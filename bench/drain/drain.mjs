#!/usr/bin/env node
/**
 * Drain benchmark (not part of `npm test`): how fast queued packets are read off
 * a TUN device. 256k 64-byte IPv4/UDP packets are queued in the kernel toward a
 * TUN device nobody reads yet (txqueuelen raised so none is dropped), then
 * drained, alternately by a C read loop (cdrain.c, one read() per packet) and by
 * a @tunpipe/linux-mq queue worker reading into its RX ring with the main thread
 * consuming the batches (node-drain.mjs). Prints per-run rates, the medians, and
 * the ratio tunpipe / C from the same run.
 *
 *   node bench/drain/drain.mjs [--reps 3] [--packets 262144] [--rx-slots 1024]
 *
 * A third drainer, koffi-drain.mjs (one thread, koffi read() in a tight loop, no
 * worker or ring), shows the floor of reading from JavaScript at all.
 *
 * Everything happens in a private namespace tp-drain-<pid> (198.18.0.0/24),
 * deleted at the end; cdrain is built with gcc into a temporary directory.
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
  },
});
const reps = Number(values.reps);
const packets = Number(values.packets);
const here = new URL('.', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tp-drain-'));
const cdrain = join(tmp, 'cdrain');
const ns = `tp-drain-${process.pid}`;
const dev = 'tpdr0';
const PAYLOAD = 36; // 20 IP + 8 UDP + 36 = 64-byte packets

const ip = (...args) => execFileSync('ip', args, { encoding: 'utf8' });
const cleanup = () => {
  try { ip('netns', 'del', ns); } catch { /* gone */ }
  rmSync(tmp, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

execFileSync('gcc', ['-O2', '-Wall', '-o', cdrain, join(here, 'cdrain.c')]);
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
  return { ...result, queued, dropped: stats.dropped };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { c: [], tunpipe: [], koffi: [] };
for (let r = 1; r <= reps; r++) {
  const c = await run(cdrain, ['drain', dev, String(packets)]);
  results.c.push(c.pps);
  console.log(`rep ${r} C read loop      ${String(c.pps).padStart(8)} pps  (${c.packets} of ${c.queued} queued, ${c.dropped} dropped)`);
  const t = await run('node', [join(here, 'node-drain.mjs'), dev, String(packets), values['rx-slots']]);
  results.tunpipe.push(t.pps);
  console.log(`rep ${r} tunpipe worker   ${String(t.pps).padStart(8)} pps  (${t.packets} of ${t.queued} queued, ${t.batches} batches, worker batches ${t.workerBatches}, wakeups ${t.wakeups}, ring full ${t.ringFull})`);
  const k = await run('node', [join(here, 'koffi-drain.mjs'), dev, String(packets)]);
  results.koffi.push(k.pps);
  console.log(`rep ${r} koffi loop (ref) ${String(k.pps).padStart(8)} pps  (${k.packets} of ${k.queued} queued)`);
}
const mc = median(results.c);
const mt = median(results.tunpipe);
const mk = median(results.koffi);
console.log(`\nmedian over ${reps}: C ${mc} pps; tunpipe ${mt} pps (ratio ${(mt / mc).toFixed(3)}, target >= 0.8); ` +
  `single-thread koffi loop ${mk} pps (ratio ${(mk / mc).toFixed(3)})`);
