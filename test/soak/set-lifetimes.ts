/**
 * RSS over queue-set lifetimes, for one ring geometry: opens a linux-mq set
 * (one TUN device, 2 queues) in a private `tp-` namespace, moves UDP through it
 * (socket -> TUN -> workers -> RX ring -> main thread -> TX ring -> device),
 * closes it, and prints what RSS consists of (memory-map.ts) after each
 * lifetime. Compares ring sizes (the TX ring default is 256 x 64 KiB), which set
 * glibc's dynamic trim threshold when they are freed (README.md).
 *
 * With `--malloc fixed` it calls fixMallocThresholds() first; with `--settle`
 * V8 gives back its free memory before the baseline and each snapshot
 * (resources.ts, reduceHeap), so the table compares like with like. With
 * `--threads pooled` every lifetime's set runs on a QueueWorkerPool's threads.
 * The table also shows thread stack mappings, malloc in use and openQueues' time.
 *
 *   node test/dist/soak/set-lifetimes.js [--lifetimes N] [--tx-capacity BYTES] [--packets N]
 *                                        [--malloc fixed|default] [--settle] [--threads fresh|pooled]
 *
 * Needs root. Namespace deleted at the end, also on failure.
 */
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { DeviceBuilder, fixMallocThresholds } from '@tunpipe/core';
import { openQueues, QueueWorkerPool } from '@tunpipe/linux-mq';
import { createNetns, netAdminMissing, type TestContext } from '@tunpipe/testkit';
import { sleep } from './deadline.js';
import { formatMemoryMap, memoryMap, rssInUse, type MemoryMap } from './memory-map.js';
import { reduceHeap, resources, settleBuffers, warmUp } from './resources.js';

const { values } = parseArgs({
  options: {
    lifetimes: { type: 'string', default: '8' },
    'tx-capacity': { type: 'string', default: '65536' },
    packets: { type: 'string', default: '20000' },
    malloc: { type: 'string', default: 'default' },
    settle: { type: 'boolean', default: false },
    threads: { type: 'string', default: 'fresh' },
  },
});
const lifetimes = Number(values.lifetimes);
const txCapacity = Number(values['tx-capacity']);
const packets = Number(values.packets);
const settleHeap = values.settle;
if (values.malloc !== 'fixed' && values.malloc !== 'default') {
  process.stderr.write('set-lifetimes: --malloc must be fixed or default\n');
  process.exit(2);
}
if (values.malloc === 'fixed') fixMallocThresholds();
if (values.threads !== 'fresh' && values.threads !== 'pooled') {
  process.stderr.write('set-lifetimes: --threads must be fresh or pooled\n');
  process.exit(2);
}
const pool = values.threads === 'pooled' ? new QueueWorkerPool() : undefined;
const missing = netAdminMissing();
if (missing !== null) {
  process.stderr.write(`set-lifetimes: cannot run: ${missing}\n`);
  process.exit(2);
}

const teardowns: Array<() => unknown> = [];
/** Time each openQueues took (ms). */
const openMs: number[] = [];
const ctx: TestContext = { teardown: (fn) => void teardowns.push(fn) };
const MiB = 1048576;

/** A table row: RSS, in use, glibc heaps, thread stack mappings, malloc in use (MiB), then `open`. */
function row(label: string, m: MemoryMap, open: string): string {
  const mib = (bytes: number, digits = 1): string => (bytes / MiB).toFixed(digits);
  return [label, mib(m.rss), mib(rssInUse(m)), mib(m.groups.brkHeap + m.groups.arenaHeaps), m.groups.threadStackCount, mib(m.malloc.inUse, 2), open].join('\t');
}

/** One lifetime: open, move `packets` datagrams through, close; resolves with packets relayed. */
async function lifetime(ns: ReturnType<typeof createNetns>): Promise<number> {
  const entry = ns.enter();
  try {
    const started = performance.now();
    const set = await openQueues({ devices: [new DeviceBuilder().name('tpml0').offload(false)], queues: 2, txPacketCapacity: txCapacity, execArgv: [], workerPool: pool });
    openMs.push(performance.now() - started);
    await ns.ip('addr', 'add', '198.18.9.1/24', 'dev', 'tpml0');
    await ns.ip('link', 'set', 'tpml0', 'up');
    const sock = createSocket('udp4');
    let relayed = 0;
    const reading = (async () => {
      for await (const batch of set.batches(0)) {
        for (let i = 0; i < batch.count; i++) if (set.trySend(0, batch.data(i))) relayed++;
        batch.release();
      }
    })();
    const payload = Buffer.alloc(1200, 7);
    for (let i = 0; i < packets; i += 64) {
      for (let j = 0; j < 64; j++) sock.send(payload, 9000, '198.18.9.2');
      await sleep(1);
    }
    await sleep(200);
    sock.close();
    await set.close();
    await reading;
    return relayed;
  } finally {
    entry.exit();
  }
}

try {
  await warmUp();
  const ns = createNetns(ctx, 'memlt');
  if (settleHeap) await reduceHeap();
  const base = resources();
  const rows: string[] = [];
  const first = memoryMap();
  process.stderr.write(`set-lifetimes: TX ring 256 x ${txCapacity} B, ${packets} datagrams per lifetime, malloc thresholds ${values.malloc}${settleHeap ? ', V8 heap settled before each snapshot' : ''}\nbaseline: ${formatMemoryMap(first)}\n`);
  for (let n = 0; n < lifetimes; n++) {
    const relayed = await lifetime(ns);
    await settleBuffers(base);
    if (settleHeap) await reduceHeap();
    const m = memoryMap();
    process.stderr.write(`lifetime ${n} (${relayed} relayed): ${formatMemoryMap(m)}\n`);
    rows.push(row(String(n), m, openMs[n]!.toFixed(0)));
  }
  if (pool !== undefined) {
    await pool.close();
    await settleBuffers(base);
    if (settleHeap) await reduceHeap();
    const m = memoryMap();
    process.stderr.write(`pool closed: ${formatMemoryMap(m)}\n`);
    rows.push(row('closed', m, '-'));
  }
  process.stdout.write(`lifetime\tRSS MiB\tin use MiB\tglibc heaps MiB\tstacks\tmalloc in use MiB\topen ms (TX ring 256 x ${txCapacity}, threads ${values.threads})\n${row('-', first, '-')}\n${rows.join('\n')}\n`);
} finally {
  await pool?.close();
  for (const fn of teardowns.reverse()) await fn();
}
