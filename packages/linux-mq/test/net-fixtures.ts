/**
 * Shared pieces of the device tests: opening a set inside a namespace, the test
 * peers, kernel drop counters as the outside oracle, UDP sequence parsing.
 */
import type { Netns, CommandResult } from '@tunpipe/testkit';
import { openQueues, type OpenQueuesOptions, type QueueSet } from '../src/queue-set.js';
import type { BatchReader } from '../src/batch-reader.js';

/** Path of a compiled test peer (dist/test/peers/NAME.js). */
export function peerPath(name: string): string {
  return new URL(`./peers/${name}.js`, import.meta.url).pathname;
}

/** Path of a compiled test handler module. */
export function handlerPath(name: string): string {
  return new URL(`./handlers/${name}.js`, import.meta.url).pathname;
}

/** Opens a queue set while the main thread is inside `ns` (devices are created there). */
export async function openIn(ns: Netns, options: OpenQueuesOptions): Promise<QueueSet> {
  const entry = ns.enter();
  try {
    return await openQueues(options);
  } finally {
    entry.exit();
  }
}

/** Runs a peer inside `ns` and parses the JSON line it prints last. */
export async function runPeer<T>(ns: Netns, name: string, args: readonly (string | number)[], timeoutMs = 60_000): Promise<T> {
  const r: CommandResult = await ns.exec('node', [peerPath(name), ...args.map(String)], { timeoutMs });
  if (r.code !== 0) throw new Error(`peer ${name} exited ${r.code} (${r.signal ?? ''}): ${r.stderr.trim()}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as T;
}

/** Packets the kernel dropped on the way to the device: its tx_dropped plus the root qdisc's drops. */
export async function kernelDrops(ns: Netns, ifname: string): Promise<number> {
  const link = (await ns.ipJson('-s', 'link', 'show', 'dev', ifname)) as Array<{ stats64: { tx: { dropped: number } } }>;
  const r = await ns.exec('tc', ['-s', '-j', 'qdisc', 'show', 'dev', ifname]);
  const qdiscs = JSON.parse(r.stdout || '[]') as Array<{ root?: boolean; drops?: number }>;
  const root = qdiscs.find((q) => q.root === true);
  return link[0]!.stats64.tx.dropped + (root?.drops ?? 0);
}

/** `{port, seq, flow}` of an IPv4/IPv6 UDP packet from udp-sender, or null. */
export function udpSeq(p: Uint8Array): { port: number; seq: number; flow: number } | null {
  let l4: number;
  if (p[0]! >> 4 === 4) {
    if (p[9] !== 17) return null;
    l4 = (p[0]! & 15) * 4;
  } else if (p[0]! >> 4 === 6) {
    if (p[6] !== 17) return null;
    l4 = 40;
  } else {
    return null;
  }
  if (p.length < l4 + 16) return null;
  const port = (p[l4 + 2]! << 8) | p[l4 + 3]!;
  const at = l4 + 8;
  const seq = ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
  const flow = ((p[at + 4]! << 24) | (p[at + 5]! << 16) | (p[at + 6]! << 8) | p[at + 7]!) >>> 0;
  return { port, seq, flow };
}

/**
 * Reads batches until `done()` is true and nothing arrived for `idleMs`, or
 * `limitMs` passed; calls `onPacket` for each packet.
 */
export async function drain(
  reader: BatchReader,
  onPacket: (p: Uint8Array, queue: number) => void,
  { done = () => true, idleMs = 300, limitMs = 30_000 }: { done?: () => boolean; idleMs?: number; limitMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + limitMs;
  let last = Date.now();
  while (Date.now() < deadline) {
    const signal = AbortSignal.timeout(idleMs);
    let batch;
    try {
      batch = await reader.read({ signal });
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_TUN_ABORTED') throw e;
      if (done() && Date.now() - last >= idleMs) return;
      continue;
    }
    if (batch === null) return;
    last = Date.now();
    for (let i = 0; i < batch.count; i++) onPacket(batch.data(i), batch.queue);
    batch.release();
  }
}
