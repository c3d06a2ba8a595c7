/**
 * The UDP books: every datagram the kernel accepted from the sender is either
 * received (once) or counted as dropped, by cause, by whoever dropped it.
 *
 *   sent = received + Σ drops
 *
 * | cause                | counted by                                    | injected by                              |
 * |----------------------|-----------------------------------------------|------------------------------------------|
 * | kernelQueueFull      | tpuaN tx_dropped + root qdisc drops (ns A)    | consumer/worker stalls, bursts           |
 * | handlerException     | relay stats, device 0 handlerErrorDrops       | handler exceptions                       |
 * | handlerDrop          | relay stats, device 0 handlerDrops            | (none: the handler passes UDP)           |
 * | malformed            | relay stats, device 0 malformed               | (none expected)                          |
 * | relayTxRingFull      | relay main thread (trySend returned false)    | bursts, worker stalls                    |
 * | relaySendFailed      | relay main thread (trySend threw)             | (none expected)                          |
 * | deviceWriteFailed    | relay stats, device 1 txErrors                | link down on tpubN, detach of its queue  |
 * | receiverSocketFull   | ns B /proc/net/snmp Udp InErrors              | a slow receiver                          |
 * | noPort               | ns B /proc/net/snmp Udp NoPorts               | (none expected)                          |
 *
 * Datagrams the sender's kernel refused (ENETUNREACH while tpuaN is down) were
 * never sent: they are counted apart, as `sendErrors`, and not in `sent`.
 *
 * Two kernel losses have no counter: a queue's packets are freed without a
 * trace when it is detached (__tun_detach → tun_queue_purge, drivers/net/tun.c),
 * and datagrams can be caught between a link's queues stopping and its routes
 * going (freed by the qdisc reset of dev_deactivate, or dropped as tx_dropped
 * while the sender also sees ENETDOWN: counted twice). So the driver pauses
 * the sender and waits for the path to drain around those transitions (and
 * around a namespace deletion); the books stay exact and the faults still
 * happen under TCP load.
 */

/** Drop causes, in report order. */
export const DROP_CAUSES = [
  'kernelQueueFull',
  'handlerException',
  'handlerDrop',
  'malformed',
  'relayTxRingFull',
  'relaySendFailed',
  'deviceWriteFailed',
  'receiverSocketFull',
  'noPort',
] as const;

/** One drop cause. */
export type DropCause = (typeof DROP_CAUSES)[number];

/** One epoch's UDP books (an epoch ends when a namespace is deleted, and at the end). */
export interface UdpEpochBooks {
  /** Datagrams the sender attempted (sequence numbers used). */
  issued: number;
  /** Datagrams the sender's kernel accepted. */
  sent: number;
  /** Datagrams the sender's kernel refused, by error code. */
  sendErrors: Record<string, number>;
  /** Distinct sequence numbers the receiver got. */
  received: number;
  /** Datagrams received more than once. */
  duplicates: number;
  /** Datagrams with a sequence number outside the epoch's range. */
  outOfRange: number;
  /** Datagrams whose payload was corrupted. */
  badPayload: number;
  /** Drops by cause. */
  drops: Record<DropCause, number>;
  /** tpubN rx_dropped: writes the kernel refused (also counted as deviceWriteFailed) and any loss after a write; informational. */
  udpBRxDropped: number;
}

/** Sums of several epochs plus the checks. */
export interface UdpBooks extends UdpEpochBooks {
  /** sent − received − Σ drops: must be 0. */
  unaccounted: number;
}

/** An all-zero drop table. */
export function noDrops(): Record<DropCause, number> {
  return Object.fromEntries(DROP_CAUSES.map((c) => [c, 0])) as Record<DropCause, number>;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Sums epochs and computes `unaccounted`. */
export function closeBooks(epochs: readonly UdpEpochBooks[]): UdpBooks {
  const sum: UdpEpochBooks = {
    issued: 0, sent: 0, sendErrors: {}, received: 0, duplicates: 0, outOfRange: 0, badPayload: 0, drops: noDrops(), udpBRxDropped: 0,
  };
  for (const e of epochs) {
    sum.issued += e.issued;
    sum.sent += e.sent;
    addCounts(sum.sendErrors, e.sendErrors);
    sum.received += e.received;
    sum.duplicates += e.duplicates;
    sum.outOfRange += e.outOfRange;
    sum.badPayload += e.badPayload;
    addCounts(sum.drops, e.drops);
    sum.udpBRxDropped += e.udpBRxDropped;
  }
  return { ...sum, unaccounted: unaccounted(sum) };
}

/** sent − received − Σ drops of one epoch (or a sum). */
export function unaccounted(b: UdpEpochBooks): number {
  let dropped = 0;
  for (const c of DROP_CAUSES) dropped += b.drops[c];
  return b.sent - b.received - dropped;
}

/** Σ drops. */
export function totalDrops(b: UdpEpochBooks): number {
  return DROP_CAUSES.reduce((n, c) => n + b.drops[c], 0);
}
