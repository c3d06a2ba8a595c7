/**
 * Kernel counters read from inside a namespace: the outside oracle for the
 * packets the kernel dropped where no program of ours could count them.
 *
 * - a TUN device's `tx_dropped` (+ its root qdisc's drops): packets the kernel
 *   could not queue to our fd (queue full while the worker stopped reading);
 * - its `rx_dropped`: packets written to it that the kernel refused or lost;
 * - `/proc/net/snmp` `Udp:` (per namespace): datagrams the receiving socket's
 *   buffer could not take (`InErrors`, which includes `RcvbufErrors`) and those
 *   that found no socket (`NoPorts`).
 */
import type { Netns } from '@tunpipe/testkit';

/** Drop counters of one TUN device. */
export interface LinkDrops {
  /** stats64.tx.dropped plus the root qdisc's drops. */
  txDropped: number;
  /** stats64.rx.dropped. */
  rxDropped: number;
}

/** UDP counters of a namespace (`Udp:` of /proc/net/snmp). */
export interface UdpSnmp {
  /** Datagrams delivered to sockets. */
  inDatagrams: number;
  /** Datagrams to a port with no socket. */
  noPorts: number;
  /** Datagrams dropped on receipt (includes receive-buffer overflows). */
  inErrors: number;
  /** Datagrams dropped because the socket buffer was full. */
  rcvbufErrors: number;
}

/** Reads a device's drop counters inside `ns`. */
export async function linkDrops(ns: Netns, ifname: string): Promise<LinkDrops> {
  const link = (await ns.ipJson('-s', 'link', 'show', 'dev', ifname)) as Array<{ stats64: { tx: { dropped: number }; rx: { dropped: number } } }>;
  const r = await ns.exec('tc', ['-s', '-j', 'qdisc', 'show', 'dev', ifname]);
  const qdiscs = JSON.parse(r.stdout || '[]') as Array<{ root?: boolean; drops?: number }>;
  const root = qdiscs.find((q) => q.root === true);
  return { txDropped: link[0]!.stats64.tx.dropped + (root?.drops ?? 0), rxDropped: link[0]!.stats64.rx.dropped };
}

/** Reads the namespace's UDP counters. */
export async function udpSnmp(ns: Netns): Promise<UdpSnmp> {
  const r = await ns.exec('cat', ['/proc/net/snmp']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) throw new Error(`no Udp: lines in /proc/net/snmp of ${ns.name}`);
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  const get = (n: string): number => values[names.indexOf(n)] ?? 0;
  return { inDatagrams: get('InDatagrams'), noPorts: get('NoPorts'), inErrors: get('InErrors'), rcvbufErrors: get('RcvbufErrors') };
}
