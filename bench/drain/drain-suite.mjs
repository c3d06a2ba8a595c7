/**
 * The drain suite (receive only, 64-byte packets): how fast packets queued in
 * the kernel are read off a TUN device, by a C read loop and by every
 * tunpipe consumer, alternately in each repetition of one run, with the ratio
 * of each to the C loop of that same run.
 *
 * One repetition, per drainer: a fresh process creates TUN `tpdr0` in the
 * private namespace tp-drain-<pid> (198.18.0.1/24, txqueuelen raised above
 * the count so the kernel drops nothing; its drop counter is checked), prints
 * READY; `cdrain fill` queues N 64-byte IPv4/UDP datagrams toward 198.18.0.2
 * (routed into the device nobody reads yet); the drainer gets `go N` and reads
 * them, timing from its first packet to its last.
 *
 * The C loop, the koffi loop and the worker drainers also report the CPU time
 * per packet of the thread that reads (CLOCK_THREAD_CPUTIME_ID, process.cpuUsage,
 * the worker's /proc/self/task/TID/schedstat) and of the whole process; `cpuRatio`
 * is the C loop's reader CPU per packet over the drainer's (what the pps ratio
 * would be if both were CPU-bound), steadier than pps on a shared machine.
 *
 * Drainers (the `via` names):
 *   c         cdrain.c: one read() per packet, poll() only when empty (the reference)
 *   worker    node-drain.mjs: a linux-mq queue worker reads batches into its RX ring,
 *             the main thread takes them with BatchReader.tryRead()/read();
 *             reads 'auto' (io_uring: one io_uring_enter per batch of reads)
 *   worker-syscall  the same with reads 'syscall' (one read(2) per packet)
 *   batches   ../streams/stream-drain.mjs via `tun.batches` (a chunk per batch)
 *   readable  ../streams/stream-drain.mjs via `tun.readable` (a chunk per packet)
 *   rxjs      ../streams/stream-drain.mjs via a subscription to `tun.packets$`
 *   iterate   ../streams/stream-drain.mjs via `for await (const p of tun)`
 *   pipe      ../streams/stream-drain.mjs via `tun.readable.pipeTo(counting sink)`
 *   koffi     koffi-drain.mjs: one thread, koffi read() in a tight loop (the floor of JS)
 *
 * Used by drain.mjs (the suite's command) and ../streams/drain.mjs (the streams
 * consumers only). The namespace and the temporary cdrain build are removed at exit.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const here = new URL('.', import.meta.url).pathname;
const streamsDrain = join(here, '..', 'streams', 'stream-drain.mjs');
const DEV = 'tpdr0';
const PAYLOAD = 36; // 20 IP + 8 UDP + 36 = 64-byte packets

/** Every drainer: its label and the command (after `ip netns exec NS`) for (cdrain, packets, rxSlots). */
export const DRAINERS = {
  c: { label: 'C read loop', command: (cdrain, n) => [cdrain, 'drain', DEV, n] },
  worker: { label: 'linux-mq worker rings', command: (_, n, slots) => [process.execPath, join(here, 'node-drain.mjs'), DEV, n, slots, 'auto'] },
  'worker-syscall': { label: 'worker rings, read(2)', command: (_, n, slots) => [process.execPath, join(here, 'node-drain.mjs'), DEV, n, slots, 'syscall'] },
  batches: { label: 'tun.batches', command: (_, n, slots) => [process.execPath, streamsDrain, DEV, n, 'batches', slots] },
  readable: { label: 'tun.readable', command: (_, n, slots) => [process.execPath, streamsDrain, DEV, n, 'readable', slots] },
  rxjs: { label: 'tun.packets$ (RxJS)', command: (_, n, slots) => [process.execPath, streamsDrain, DEV, n, 'rxjs', slots] },
  iterate: { label: 'for await (tun)', command: (_, n, slots) => [process.execPath, streamsDrain, DEV, n, 'iterate', slots] },
  pipe: { label: 'tun.readable.pipeTo', command: (_, n, slots) => [process.execPath, streamsDrain, DEV, n, 'pipe', slots] },
  koffi: { label: 'koffi read loop (floor)', command: (_, n) => [process.execPath, join(here, 'koffi-drain.mjs'), DEV, n] },
};

/** Median, min and max of a list of numbers. */
export function spread(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: Math.round(m), min: s[0], max: s[s.length - 1] };
}

/**
 * Runs the suite: `reps` repetitions of every drainer in `vias` (the C loop is
 * always run, first). Calls `log(line)` per run; resolves with
 * `{ packets, reps, rxSlots, load, results: { [via]: { label, pps: [...], median, min, max, ratio } } }`
 * where `ratio` is the drainer's median over the C loop's median.
 */
export async function drainSuite({ reps = 3, packets = 262144, rxSlots = 1024, vias, log = console.log }) {
  const order = ['c', ...vias.filter((v) => v !== 'c')];
  for (const v of order) if (!(v in DRAINERS)) throw new Error(`drain: unknown drainer ${v} (${Object.keys(DRAINERS).join(', ')})`);
  const tmp = mkdtempSync(join(tmpdir(), 'tp-drain-'));
  const cdrain = join(tmp, 'cdrain');
  const ns = `tp-drain-${process.pid}`;
  const ip = (...args) => execFileSync('ip', args, { encoding: 'utf8' });
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    try { ip('netns', 'del', ns); } catch { /* gone */ }
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

  /** One drainer process: READY, fill, `go N`, its JSON line. */
  async function drainOnce(via) {
    const [cmd, ...args] = DRAINERS[via].command(cdrain, String(packets), String(rxSlots));
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const out = [];
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const ready = new Promise((resolve, reject) => {
      lines.on('line', (l) => (l === 'READY' ? resolve() : out.push(l)));
      exited.then((code) => reject(new Error(`drainer ${via} exited (${code}) before READY`)));
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      await ready;
      ip('-n', ns, 'link', 'set', DEV, 'txqueuelen', String(packets + 50_000));
      ip('-n', ns, 'addr', 'add', '198.18.0.1/24', 'dev', DEV);
      ip('-n', ns, 'link', 'set', DEV, 'up');
      const fill = JSON.parse(execFileSync('ip', ['netns', 'exec', ns, cdrain, 'fill', '198.18.0.2', '9', String(packets), String(PAYLOAD)], { encoding: 'utf8' }));
      const tx = JSON.parse(ip('-n', ns, '-s', '-j', 'link', 'show', 'dev', DEV))[0].stats64.tx;
      const queued = fill.sent - tx.dropped;
      child.stdin.end(`go ${queued}\n`);
      const code = await exited;
      const last = out.pop();
      if (code !== 0 || last === undefined) throw new Error(`drainer ${via} exited with ${code}`);
      return { ...JSON.parse(last), queued, dropped: tx.dropped };
    } finally {
      clearTimeout(killer);
    }
  }

  try {
    execFileSync('gcc', ['-O2', '-Wall', '-o', cdrain, join(here, 'cdrain.c')]);
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const loadBefore = loadavg();
    log(`drain: ${packets} x 64 B, ${reps} reps, drainers ${order.join(', ')}; load before ${loadBefore}`);
    const pps = Object.fromEntries(order.map((v) => [v, []]));
    const cpu = Object.fromEntries(order.map((v) => [v, { worker: [], process: [] }]));
    for (let r = 1; r <= reps; r++) {
      for (const via of order) {
        const res = await drainOnce(via);
        pps[via].push(res.pps);
        if (res.workerNsPerPacket !== undefined) cpu[via].worker.push(res.workerNsPerPacket);
        if (res.processNsPerPacket !== undefined) cpu[via].process.push(res.processNsPerPacket);
        const extra = [
          res.batches !== undefined ? `${res.batches} batches` : '',
          res.workerBatches !== undefined ? `worker batches ${res.workerBatches}` : '',
          res.ringFull !== undefined ? `ring full ${res.ringFull}` : '',
          res.wakeups !== undefined ? `wakeups ${res.wakeups}` : '',
          res.reads !== undefined ? `reads ${res.reads}` : '',
          res.workerNsPerPacket !== undefined ? `reader CPU ${res.workerNsPerPacket} ns/pkt, process ${res.processNsPerPacket} ns/pkt` : '',
        ].filter(Boolean).join(', ');
        log(`rep ${r} ${DRAINERS[via].label.padEnd(24)} ${String(res.pps).padStart(8)} pps  (${res.packets} of ${res.queued} queued, ${res.dropped} dropped${extra ? `; ${extra}` : ''})`);
      }
    }
    const c = spread(pps.c);
    const results = {};
    for (const via of order) {
      const s = spread(pps[via]);
      results[via] = { label: DRAINERS[via].label, pps: pps[via], ...s, ratio: Number((s.median / c.median).toFixed(3)) };
      if (cpu[via].worker.length > 0) {
        results[via].workerNsPerPacket = spread(cpu[via].worker).median;
        results[via].processNsPerPacket = spread(cpu[via].process).median;
        // CPU per packet of the C loop over the reading thread's: the pps ratio a
        // CPU-bound run would give, steadier than pps on a loaded machine.
        if (cpu.c.worker.length > 0) results[via].cpuRatio = Number((spread(cpu.c.worker).median / results[via].workerNsPerPacket).toFixed(3));
      }
    }
    const loadAfter = loadavg();
    log(`\nmedians over ${reps} (load after ${loadAfter}):`);
    for (const via of order) {
      const x = results[via];
      const cpuText = x.workerNsPerPacket === undefined ? '' : `  CPU/pkt: reader ${x.workerNsPerPacket} ns (C/this ${x.cpuRatio.toFixed(3)}), process ${x.processNsPerPacket} ns`;
      log(`  ${x.label.padEnd(24)} ${String(x.median).padStart(8)} pps  [${x.min}-${x.max}]  ratio to C ${x.ratio.toFixed(3)}${cpuText}`);
    }
    return { packets, reps, rxSlots, load: { before: loadBefore, after: loadAfter }, results };
  } finally {
    cleanup();
  }
}

/**
 * The command line shared by drain.mjs and ../streams/drain.mjs:
 * `[--reps 3] [--packets 262144] [--rx-slots 1024] [--via a,b,...] [--json FILE]`
 * (`--via` defaults to `defaultVia`; `--json` writes the result object).
 */
export async function drainCommand(defaultVia) {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '3' },
      packets: { type: 'string', default: '262144' },
      'rx-slots': { type: 'string', default: '1024' },
      via: { type: 'string', default: defaultVia },
      json: { type: 'string' },
    },
  });
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));
  const result = await drainSuite({
    reps: Number(values.reps),
    packets: Number(values.packets),
    rxSlots: Number(values['rx-slots']),
    vias: values.via.split(',').map((v) => v.trim()).filter(Boolean),
  });
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
  return result;
}
