/**
 * Shared pieces of the device tests: opening a device inside a namespace, the
 * test peers, kernel drop counters (the outside oracle for lost packets), an
 * echo responder built from offload's wire views, UDP sequence numbers.
 */
import type { Netns, CommandResult } from '@tunpipe/testkit';
import {
  Icmpv4Message, Icmpv4Type, Icmpv6Message, Icmpv6Type, IpProtocol, Ipv4Packet, Ipv6Packet,
} from '@tunpipe/offload';
import { openTun, type OpenTunOptions } from '../src/open-tun.js';
import type { TunStreams } from '../src/tun-streams.js';
import { packetOf, type Packet } from '../src/packet.js';

/** Path of a compiled test peer (dist/test/peers/NAME.js). */
export function peerPath(name: string): string {
  return new URL(`./peers/${name}.js`, import.meta.url).pathname;
}

/** Opens a device while the main thread is inside `ns` (the device is created there). */
export async function openTunIn(ns: Netns, options: OpenTunOptions): Promise<TunStreams> {
  const entry = ns.enter();
  try {
    return await openTun(options);
  } finally {
    entry.exit();
  }
}

/**
 * Turns IPv6 off in `ns` (for devices created afterwards), so an idle device
 * really is idle: otherwise the kernel sends a router solicitation from the new
 * link-local address as soon as the link is up.
 */
export async function disableIpv6(ns: Netns): Promise<void> {
  for (const key of ['net.ipv6.conf.all.disable_ipv6', 'net.ipv6.conf.default.disable_ipv6']) {
    const r = await ns.exec('sysctl', ['-qw', `${key}=1`]);
    if (r.code !== 0) throw new Error(`sysctl ${key}=1 failed: ${r.stderr.trim()}`);
  }
}

/** Runs a peer inside `ns` to completion and parses the JSON line it prints last. */
export async function runPeer<T>(ns: Netns, name: string, args: ReadonlyArray<string | number>, timeoutMs = 60_000): Promise<T> {
  const r: CommandResult = await ns.exec('node', [peerPath(name), ...args.map(String)], { timeoutMs });
  if (r.code !== 0) throw new Error(`peer ${name} exited ${r.code} (${r.signal ?? ''}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as T;
}

/**
 * Packets the kernel dropped on their way to the device's reader: the link's
 * tx_dropped (the tun queue was full) plus drops of its root qdisc.
 */
export async function kernelDrops(ns: Netns, ifname: string): Promise<number> {
  const link = (await ns.ipJson('-s', 'link', 'show', 'dev', ifname)) as Array<{ stats64: { tx: { dropped: number } } }>;
  const r = await ns.exec('tc', ['-s', '-j', 'qdisc', 'show', 'dev', ifname]);
  const qdiscs = JSON.parse(r.stdout || '[]') as Array<{ root?: boolean; drops?: number }>;
  return link[0]!.stats64.tx.dropped + (qdiscs.find((q) => q.root === true)?.drops ?? 0);
}

/** The echo reply to an ICMPv4/ICMPv6 echo request (a new packet), or null for anything else. */
export function echoReply(packet: Packet): Packet | null {
  const d = packet.data;
  if (d.length < 1) return null;
  const reply = d.slice();
  if (d[0]! >> 4 === 4) {
    const ip = new Ipv4Packet(reply);
    if (ip.protocol !== IpProtocol.ICMP) return null;
    const at = ip.payloadOffset;
    const icmp = new Icmpv4Message(reply, at, ip.length - at);
    if (icmp.type !== Icmpv4Type.ECHO_REQUEST) return null;
    reply.set(d.subarray(16, 20), 12);
    reply.set(d.subarray(12, 16), 16);
    reply[at] = Icmpv4Type.ECHO_REPLY;
    icmp.fillChecksum();
    ip.fillChecksum();
    return packetOf(reply, { queue: packet.queue });
  }
  if (d[0]! >> 4 === 6) {
    const ip = new Ipv6Packet(reply);
    if (ip.nextHeader !== IpProtocol.ICMPV6) return null;
    const at = ip.payloadOffset;
    const len = ip.length - at;
    const icmp = new Icmpv6Message(reply, at, len);
    if (icmp.type !== Icmpv6Type.ECHO_REQUEST) return null;
    reply.set(d.subarray(24, 40), 8);
    reply.set(d.subarray(8, 24), 24);
    reply[at] = Icmpv6Type.ECHO_REPLY;
    icmp.fillChecksum(ip.pseudoHeaderSum(IpProtocol.ICMPV6, len));
    return packetOf(reply, { queue: packet.queue });
  }
  return null;
}

/** A TransformStream answering echo requests (and dropping everything else). */
export function echoResponder(): TransformStream<Packet, Packet> {
  return new TransformStream<Packet, Packet>({
    transform(packet, controller) {
      const reply = echoReply(packet);
      if (reply !== null) controller.enqueue(reply);
    },
  });
}

/** `{ port, seq }` of a UDP packet from udp-burst (IPv4 or IPv6 without extension headers), or null. */
export function udpSeq(p: Uint8Array): { port: number; seq: number } | null {
  let l4: number;
  if (p[0]! >> 4 === 4) {
    if (p[9] !== IpProtocol.UDP) return null;
    l4 = (p[0]! & 15) * 4;
  } else if (p[0]! >> 4 === 6) {
    if (p[6] !== IpProtocol.UDP) return null;
    l4 = 40;
  } else {
    return null;
  }
  if (p.length < l4 + 12) return null;
  const port = (p[l4 + 2]! << 8) | p[l4 + 3]!;
  const at = l4 + 8;
  const seq = ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
  return { port, seq };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` every 5 ms until it holds or `limitMs` passed; resolves whether it held. */
export async function until(cond: () => boolean, limitMs = 1000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() >= end) return false;
    await sleep(5);
  }
  return true;
}
