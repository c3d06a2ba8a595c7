/**
 * A fused `a.readable.pipeTo(b.writable)` (fused-pipe.ts) behaves like the
 * standard pipe at every edge, between devices in two namespaces with UDP from
 * udp-burst (ns A) to udp-count (ns B):
 *
 * ```
 *  ns A: udp-burst → tpa0 ══ A workers ══ write(B fd) ══► tpb0 → udp-count: ns B
 * ```
 *
 * - order across the switch: datagrams A received before the pipe started go
 *   out (through the main thread) before any fused one, and the books close
 *   (received + kernel drops = sent);
 * - an in-worker handler on A: its PASS verdicts are what the pipe forwards;
 * - the signal aborts it promptly; the streams are unlocked and usable after;
 * - A closed: the pipe resolves and closes B's writable; B closed or either
 *   device gone (link or namespace deleted): the pipe rejects with the coded error;
 * - B closed under fused load: not one write lands on a reused fd number, and
 *   no fd or thread is left behind;
 * - anything but a device writable (a plain sink, `pipeThrough`) is the standard pipe.
 */
import t from 'tap';
import { openSync, closeSync, fstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireNetAdmin, createNetns, openFds, threadCount, settledThreadCount, type Netns } from '@tunpipe/testkit';
import type { TestContext } from '@tunpipe/testkit';
import { packetOf } from '../src/packet.js';
import type { OpenTunOptions } from '../src/open-tun.js';
import type { TunStreams } from '../src/tun-streams.js';
import { disableIpv6, openTunIn, peerPath, kernelDrops, sleep, until } from './device-fixtures.js';

/** Generous bound on "promptly" (a deadline, not a benchmark: the machine is shared). */
const PROMPT_MS = 2000;

/** A UDP datagram from 198.18.2.1 to 198.18.2.2 (B's side; goes nowhere harmful), checksum 0. */
const B_PACKET = packetOf(new Uint8Array([
  0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 2, 1, 198, 18, 2, 2,
  0x23, 0x28, 0x23, 0x29, 0, 12, 0, 0, 1, 2, 3, 4,
]));

interface Pair {
  nsA: Netns;
  nsB: Netns;
  a: TunStreams;
  b: TunStreams;
}

/** A in its namespace (routes to B's subnet through tpa0), B in its own (and back). */
async function pair(t: TestContext, tag: string, optionsA: OpenTunOptions = {}, optionsB: OpenTunOptions = {}): Promise<Pair> {
  const nsA = createNetns(t, `sfl${tag}a`);
  const nsB = createNetns(t, `sfl${tag}b`);
  await disableIpv6(nsA);
  await disableIpv6(nsB);
  const a = await openTunIn(nsA, {
    name: 'tpa0', ipv4: { address: '198.18.1.1', prefix: 24 }, routes: ['198.18.2.0/24'], rxSlots: 8192, ...optionsA,
  });
  t.teardown(() => a.close());
  const b = await openTunIn(nsB, {
    name: 'tpb0', ipv4: { address: '198.18.2.1', prefix: 24 }, routes: ['198.18.1.0/24'], ...optionsB,
  });
  t.teardown(() => b.close());
  return { nsA, nsB, a, b };
}

/** Starts udp-burst in ns A: `count` datagrams of 64 bytes to 198.18.2.1:9000 on one flow at `pps`. */
function sendUdp(t: TestContext, nsA: Netns, count: number, pps: number) {
  return nsA.spawn(t, 'node', [peerPath('udp-burst'), '198.18.2.1', '9000', String(count), '1', '64', String(pps)]);
}

/** Starts udp-count in ns B and waits until it listens. */
async function receiveUdp(t: TestContext, nsB: Netns, expect: number, idleMs: number) {
  const peer = nsB.spawn(t, 'node', [peerPath('udp-count'), '198.18.2.1', '9000', String(expect), String(idleMs)]);
  await peer.waitForOutput(/listening/);
  return peer;
}

/** The last JSON line a peer printed. */
async function result<T>(peer: ReturnType<Netns['spawn']>): Promise<T> {
  const exit = await peer.wait();
  if (exit.code !== 0) throw new Error(`peer exited ${exit.code}: ${exit.stderr.trim()}`);
  return JSON.parse(exit.stdout.trim().split('\n').pop() ?? '') as T;
}

/** UDP datagrams the receiving namespace's stack dropped (socket buffer full...): InErrors of /proc/net/snmp. */
async function udpInErrors(ns: Netns): Promise<number> {
  const r = await ns.exec('cat', ['/proc/net/snmp']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('InErrors')]);
}

/** How a promise settled: its error (undefined when it resolved) and when (performance.now()). */
interface Outcome {
  error: unknown;
  at: number;
}

/** Watches `p` from now on (so a rejection is never unhandled): resolves with its Outcome. */
function outcome(p: Promise<unknown>): Promise<Outcome> {
  return p.then(
    () => ({ error: undefined, at: performance.now() }),
    (error: unknown) => ({ error, at: performance.now() }),
  );
}

/** Reads one packet from `readable` within PROMPT_MS, then lets the reader go (cancel). */
async function readsOne(readable: ReadableStream<unknown>): Promise<boolean> {
  const reader = readable.getReader();
  const timer = setTimeout(() => void reader.cancel(), PROMPT_MS);
  try {
    const r = await reader.read();
    return !r.done;
  } finally {
    clearTimeout(timer);
    await reader.cancel();
  }
}

t.test('order across the switch: what A received before the pipe goes first; every datagram accounted for', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { nsA, nsB, a, b } = await pair(t, 'order');
  const COUNT = 12_000;
  const rx = await receiveUdp(t, nsB, COUNT, 1500);
  const tx = sendUdp(t, nsA, COUNT, 6000);
  // A's worker reads them into its RX ring (8192 slots), where they wait for the pipe.
  t.ok(await until(() => a.stats().rxPackets >= 1500, 10_000), `${a.stats().rxPackets} datagrams wait in A's RX ring before the pipe exists`);
  const stop = new AbortController();
  const piping = a.readable.pipeTo(b.writable, { signal: stop.signal }).catch((e: unknown) => e);
  const { sent } = await result<{ sent: number }>(tx);
  const { received, seqs } = await result<{ received: number; seqs: number[] }>(rx);
  stop.abort();
  await piping;

  let inOrder = true;
  for (let i = 1; i < seqs.length; i++) if (seqs[i]! <= seqs[i - 1]!) inOrder = false;
  t.equal(sent, COUNT, 'the sender sent them all');
  t.ok(inOrder, `${received} datagrams arrived in strictly increasing order (no reordering across the switch, no duplicates)`);
  const dropsA = await kernelDrops(nsA, 'tpa0');
  const dropsB = await udpInErrors(nsB);
  t.equal(received + dropsA + dropsB, sent, `received ${received} + dropped by A's kernel queue ${dropsA} + by B's UDP stack ${dropsB} = sent ${sent}`);
  const sa = a.stats();
  const sb = b.stats();
  t.ok(sa.delivered > 0, `${sa.delivered} datagrams received before the pipe crossed the main thread`);
  t.ok(sa.piped > 0, `${sa.piped} went through A's workers straight to B`);
  t.equal(sb.sent, sa.delivered, 'B\'s writable sent exactly what crossed the main thread');
  t.equal(sa.rxPackets, sa.piped + sa.passed, 'A: every packet read was either piped or passed');
});

t.test('an in-worker handler on A: its PASS verdicts are what the fused pipe forwards, DROP drops', async (t) => {
  if (!requireNetAdmin(t)) return;
  const handler = new URL('./handlers/drop-odd.js', import.meta.url).pathname;
  const { nsA, nsB, a, b } = await pair(t, 'handler', { handler });
  const COUNT = 4000;
  const stop = new AbortController();
  const readA = a.readable;
  const piping = readA.pipeTo(b.writable, { signal: stop.signal }).catch((e: unknown) => e);
  t.ok(await until(() => readA.pipePath === 'fused', PROMPT_MS), 'the pipe fused');
  const rx = await receiveUdp(t, nsB, COUNT / 2, 1500);
  const tx = sendUdp(t, nsA, COUNT, 4000);
  const { sent } = await result<{ sent: number }>(tx);
  const { seqs } = await result<{ received: number; seqs: number[] }>(rx);
  stop.abort();
  await piping;
  const sa = a.stats();
  t.equal(sent, COUNT);
  t.ok(seqs.length > 0 && seqs.every((s) => s % 2 === 0), `${seqs.length} datagrams arrived, all with even sequence numbers`);
  const dropsA = await kernelDrops(nsA, 'tpa0');
  const dropsB = await udpInErrors(nsB);
  t.ok(sa.handlerDrops >= COUNT / 2 - dropsA, `the handler dropped the odd ones (${sa.handlerDrops})`);
  t.ok(seqs.length + dropsA + dropsB >= COUNT / 2, 'every even one arrived or was counted as dropped by a kernel');
  t.ok(sa.piped >= seqs.length, `the workers piped what the handler passed (${sa.piped})`);
  t.equal(sa.passed, 0, 'nothing reached the main thread');
});

for (const prevent of [false, true]) {
  t.test(`signal aborts a fused pipe under load promptly${prevent ? ' (preventAbort, preventCancel)' : ''}; streams usable after`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const { nsA, a, b } = await pair(t, prevent ? 'abortp' : 'abort');
    sendUdp(t, nsA, 100_000, 20_000);
    const stop = new AbortController();
    const readA = a.readable;
    const writeB = b.writable;
    const piping = outcome(readA.pipeTo(writeB, { signal: stop.signal, preventAbort: prevent, preventCancel: prevent }));
    t.ok(await until(() => a.stats().piped > 500, 10_000), `fused and under load (${a.stats().piped} piped)`);
    const reason = new Error('stop the pipe');
    const passedFused = a.stats().passed; // fused: nothing passes to the RX ring
    const t0 = performance.now();
    stop.abort(reason);
    const { at, error } = await piping;
    t.ok(at - t0 < PROMPT_MS, `settled ${(at - t0).toFixed(1)} ms after the abort`);
    t.equal(error, reason, 'rejected with the signal\'s reason');
    t.notOk(readA.locked, 'A\'s readable unlocked');
    t.notOk(writeB.locked, 'B\'s writable unlocked');
    if (prevent) {
      t.equal(a.readable, readA, 'preventCancel: A\'s readable lives on');
      t.ok(await readsOne(readA), 'and reads the packets that now reach the main thread');
      t.equal(b.writable, writeB, 'preventAbort: B\'s writable lives on');
      const w = writeB.getWriter();
      await t.resolves(w.write(B_PACKET), 'and takes packets');
      w.releaseLock();
    } else {
      t.not(a.readable, readA, 'A\'s readable was cancelled: the device hands out a fresh one');
      t.ok(await readsOne(a.readable), 'which reads the packets that now reach the main thread');
      t.not(b.writable, writeB, 'B\'s writable was aborted: a fresh one');
      const w = b.writable.getWriter();
      await t.resolves(w.write(B_PACKET), 'B is still writable by others');
      w.releaseLock();
    }
    t.ok(a.stats().passed > passedFused, `A's workers pass packets to the main thread again (un-fused): ${a.stats().passed - passedFused}`);
  });
}

t.test('A closed under fused load: the pipe resolves and closes B\'s writable', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { nsA, a, b } = await pair(t, 'closea');
  sendUdp(t, nsA, 100_000, 20_000);
  const writeB = b.writable;
  const piping = outcome(a.readable.pipeTo(writeB));
  t.ok(await until(() => a.stats().piped > 500, 10_000), 'fused and under load');
  const t0 = performance.now();
  await a.close();
  const { at, error } = await piping;
  t.equal(error, undefined, `resolved ${(at - t0).toFixed(1)} ms after close() was called`);
  t.not(b.writable, writeB, 'B\'s writable was closed (a fresh one is handed out)');
  await t.resolves(b.send(B_PACKET), 'B itself is open');
});

t.test('B closed under fused load: the pipe rejects, A is cancelled, no write lands on a reused fd, nothing leaks', async (t) => {
  if (!requireNetAdmin(t)) return;
  const fds0 = openFds();
  const threads0 = threadCount();
  const dir = mkdtempSync(join(tmpdir(), 'tp-fused-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  {
    const { nsA, a, b } = await pair(t, 'closeb');
    sendUdp(t, nsA, 200_000, 30_000);
    const readA = a.readable;
    const piping = outcome(readA.pipeTo(b.writable));
    t.ok(await until(() => a.stats().piped > 500, 10_000), 'fused and under load');
    const before = new Set(readdirSync('/proc/self/fd'));
    const t0 = performance.now();
    await b.close();
    // Take the fd numbers B just freed (the lowest free numbers go first).
    const gone = [...before].filter((fd) => !new Set(readdirSync('/proc/self/fd')).has(fd)).map(Number);
    const files: number[] = [];
    for (let i = 0; i < gone.length + 4; i++) files.push(openSync(join(dir, `f${i}`), 'w'));
    const { at, error } = await piping;
    t.ok(at - t0 < PROMPT_MS, `the pipe settled ${(at - t0).toFixed(1)} ms after close() was called`);
    t.match(error, { code: 'ERR_TUN_CLOSED' }, 'rejected with what B\'s next write would throw');
    t.not(a.readable, readA, 'A\'s readable was cancelled');
    const reused = files.filter((fd) => gone.includes(fd));
    t.ok(reused.length > 0, `files opened right after took B's fd numbers ${reused.join(', ')} (of ${gone.join(', ')})`);
    const piped = a.stats().piped;
    await sleep(300); // A keeps receiving under load meanwhile
    t.equal(a.stats().piped, piped, 'A\'s workers piped nothing after B closed');
    const written = files.reduce((sum, fd) => sum + fstatSync(fd).size, 0);
    t.equal(written, 0, 'not one byte was written to the files that reuse B\'s fd numbers');
    for (const fd of files) closeSync(fd);
    t.ok(await readsOne(a.readable), 'A reads on, on the main thread');
    await a.close();
    await nsA.delete();
  }
  t.equal(openFds(), fds0, 'every fd closed');
  t.ok((await settledThreadCount(threads0)) <= threads0, 'every worker thread exited');
});

const goneRows = [
  { side: 'A', how: 'link' },
  { side: 'B', how: 'link' },
  { side: 'A', how: 'netns' },
  { side: 'B', how: 'netns' },
] as const;
for (const { side, how } of goneRows) {
  const what = how === 'link' ? 'link deleted' : 'namespace deleted';
  t.test(`${side}'s device gone under fused load (${what}): the pipe rejects with ERR_TUN_DEVICE_GONE`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const { nsA, nsB, a, b } = await pair(t, `gone${side.toLowerCase()}${how[0]}`);
    // The queue fds pin the namespace they were opened in: to lose the device with
    // a namespace, move it to another one first and delete that.
    const away = how === 'netns' ? createNetns(t, `sflgone${side.toLowerCase()}x`) : undefined;
    sendUdp(t, nsA, 200_000, 30_000);
    const readA = a.readable;
    const writeB = b.writable;
    const piping = outcome(readA.pipeTo(writeB));
    t.ok(await until(() => a.stats().piped > 500, 10_000), 'fused and under load');
    const [ns, ifname] = side === 'A' ? [nsA, 'tpa0'] : [nsB, 'tpb0'];
    const t0 = performance.now();
    if (away === undefined) {
      await ns.ip('link', 'del', ifname);
    } else {
      await ns.ip('link', 'set', ifname, 'netns', away.name);
      await away.delete();
    }
    const { at, error } = await piping;
    const ms = at - t0;
    t.ok(ms < PROMPT_MS + 1000, `settled ${ms.toFixed(1)} ms after the ${what.split(' ')[0]} went`);
    t.match(error, { code: 'ERR_TUN_DEVICE_GONE' }, `rejected with ${side}'s coded error`);
    if (side === 'A') {
      t.not(b.writable, writeB, 'B\'s writable was aborted');
      await t.resolves(b.send(B_PACKET), 'B itself is fine');
    } else {
      t.not(a.readable, readA, 'A\'s readable was cancelled');
    }
  });
}

t.test('only a device writable fuses: a plain sink, or pipeThrough a TransformStream, is the standard pipe', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { nsA, a, b } = await pair(t, 'plain');
  const stop = new AbortController();
  const readA = a.readable;
  let sunk = 0;
  const plain = readA.pipeTo(new WritableStream({ write: () => void sunk++ }), { signal: stop.signal }).catch((e: unknown) => e);
  t.equal(readA.pipePath, 'standard', 'pipeTo(a plain WritableStream): standard');
  await runPeerSend(nsA, 500);
  t.ok(await until(() => sunk >= 500, 5000), `the sink got them (${sunk})`);
  stop.abort();
  await plain;
  const through = a.readable.pipeThrough(new TransformStream()).pipeTo(b.writable, { signal: AbortSignal.timeout(60_000) }).catch((e: unknown) => e);
  await runPeerSend(nsA, 500);
  t.ok(await until(() => b.stats().sent >= 500, 5000), 'pipeThrough(TransformStream).pipeTo(b.writable): through the main thread');
  t.equal(a.stats().piped, 0, 'nothing was piped in the workers');
  await a.close();
  await through;
});

/** Sends `count` datagrams from ns A towards B at 5000 pps and waits until the sender is done. */
async function runPeerSend(nsA: Netns, count: number): Promise<void> {
  const r = await nsA.exec('node', [peerPath('udp-burst'), '198.18.2.1', '9000', String(count), '1', '64', '5000'], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`udp-burst exited ${r.code}: ${r.stderr.trim()}`);
}

t.test('the drain gives every ring slot back: a long retain window does not starve the fused workers', async (t) => {
  if (!requireNetAdmin(t)) return;
  // retain 1000 over a 256-slot ring: the packets drained through the main thread
  // would hold the whole ring if the pipe kept their batches.
  const { nsA, a, b } = await pair(t, 'retain', { rxSlots: 256, retain: 1000, maxBatch: 16 });
  await runPeerSend(nsA, 400); // fills A's ring (256), the kernel queue holds or drops the rest
  t.ok(await until(() => a.stats().passed >= 256, 5000), `${a.stats().passed} datagrams wait in A's ring`);
  const stop = new AbortController();
  const readA = a.readable;
  const piping = readA.pipeTo(b.writable, { signal: stop.signal }).catch((e: unknown) => e);
  t.ok(await until(() => readA.pipePath === 'fused', PROMPT_MS), 'fused after draining the ring');
  await runPeerSend(nsA, 1000);
  t.ok(await until(() => a.stats().piped >= 900, 5000), `the workers piped what came next (${a.stats().piped})`);
  stop.abort();
  await piping;
});

t.test('a device piped into itself fuses too; close() resolves the pipe as it would on the main thread', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { nsA, a } = await pair(t, 'self');
  const readA = a.readable;
  const piping = outcome(readA.pipeTo(a.writable));
  t.ok(await until(() => readA.pipePath === 'fused', PROMPT_MS), 'fused');
  await runPeerSend(nsA, 300);
  t.ok(await until(() => a.stats().piped >= 300, 5000), `the worker wrote what it read back into its own device (${a.stats().piped})`);
  await a.close();
  const { error } = await piping;
  t.equal(error, undefined, 'the readable closed: the pipe resolved');
});
