/**
 * One epoch of the soak: a relay (fresh devices and queue set), an agent in each
 * of A and B, the UDP sender/receiver and the TCP loops, from opening until its
 * books are closed. An epoch ends at the end of the run or when a namespace is
 * deleted under it (the relay then sees ERR_TUN_DEVICE_GONE on that side's
 * devices); the next epoch starts on a recreated namespace, with the sequence
 * numbers going on where the last epoch stopped.
 */
import type { QueueWorkerPool, StatTotals } from '@tunpipe/linux-mq';
import { AgentProcess } from './agent-process.js';
import { Deadlines, sleep } from './deadline.js';
import { linkDrops, udpSnmp } from './kernel-counters.js';
import { Prng } from './prng.js';
import { resources, type Resources } from './resources.js';
import { SoakRelay, type RelayCounters } from './soak-relay.js';
import { TcpLoad, type TcpResults } from './tcp-load.js';
import { LINKS, link, linkName, placeLink, type Side, type SoakNamespaces } from './topology.js';
import { noDrops, type UdpEpochBooks } from './udp-books.js';
import type { UdpReceiverCounts, UdpSenderCounts } from './agent/agent-protocol.js';

/** Bound on letting the running TCP transfers finish (one transfer's bound, plus the sink's report). */
const TCP_STOP_BOUND_MS = 90_000;

/** Load settings shared by every epoch. */
export interface LoadSettings {
  /** Queues per device. */
  queues: number;
  /** UDP datagrams per second (paced). */
  pps: number;
  /** UDP payload bytes. */
  udpSize: number;
  /** UDP flows (source ports). */
  flows: number;
  /** UDP destination port. */
  udpPort: number;
  /** Most datagrams one epoch may send. */
  maxPacketsPerEpoch: number;
  /** Concurrent TCP transfer loops. */
  tcpStreams: number;
  /** TCP transfer size range. */
  tcpMinBytes: number;
  tcpMaxBytes: number;
  /** Bound on a TCP transfer. */
  tcpTimeoutMs: number;
  /** Agents exit by themselves after this long. */
  agentLimitMs: number;
}

/** What an epoch leaves behind. */
export interface EpochRecord {
  /** Epoch number. */
  index: number;
  /** How it ended. */
  end: 'finished' | 'netns A deleted' | 'netns B deleted';
  /** UDP books. */
  udp: UdpEpochBooks;
  /** TCP results. */
  tcp: TcpResults;
  /** Final relay stats per device. */
  stats: StatTotals[];
  /** Main-thread relay counters. */
  relay: RelayCounters;
  /** Reader end codes by device (the deleted side's devices report ERR_TUN_DEVICE_GONE). */
  readerEnds: Record<number, string>;
  /** Process resources right after the relay closed and the agents exited. */
  closed: Resources;
}

/** A running epoch. */
export class Epoch {
  /** Epoch number (also in the device names). */
  readonly index: number;
  /** The relay under test. */
  readonly relay: SoakRelay;
  /** Agent in A (UDP sender, TCP source). */
  readonly agentA: AgentProcess;
  /** Agent in B (UDP receiver, TCP sink). */
  readonly agentB: AgentProcess;
  /** Device names in device-index order. */
  readonly names: readonly string[];
  private readonly tcp: TcpLoad;
  private readonly spaces: SoakNamespaces;
  private readonly deadlines: Deadlines;
  private readonly firstSeq: number;
  private udpPaused = 0;

  private constructor(index: number, relay: SoakRelay, agentA: AgentProcess, agentB: AgentProcess, names: string[], tcp: TcpLoad, spaces: SoakNamespaces, deadlines: Deadlines, firstSeq: number) {
    this.index = index;
    this.relay = relay;
    this.agentA = agentA;
    this.agentB = agentB;
    this.names = names;
    this.tcp = tcp;
    this.spaces = spaces;
    this.deadlines = deadlines;
    this.firstSeq = firstSeq;
  }

  /** Builds the relay and starts the load; UDP sequence numbers start at `firstSeq`. */
  static async open(index: number, spaces: SoakNamespaces, load: LoadSettings, deadlines: Deadlines, tcpPrng: Prng, firstSeq: number, workerPool?: QueueWorkerPool): Promise<Epoch> {
    const names = LINKS.map((l) => linkName(l, index));
    const relay = await deadlines.within('open the relay (4 devices, workers)', 20_000, SoakRelay.open(spaces.home, { names, queues: load.queues, udpPort: load.udpPort, workerPool }));
    let agentA: AgentProcess | undefined;
    let agentB: AgentProcess | undefined;
    try {
      await deadlines.within('place the devices in A and B', 20_000, async () => {
        for (const l of LINKS) await placeLink(spaces, l, names[l.device]!);
      });
      agentA = AgentProcess.start(spaces.of('A'), load.agentLimitMs);
      agentB = AgentProcess.start(spaces.of('B'), load.agentLimitMs);
      const udpB = link('udpB');
      const tcpB = link('tcpB');
      await deadlines.within('start the receivers', 20_000, Promise.all([
        agentB.request('udp-receive-start', { address: udpB.address, port: load.udpPort, firstSeq, capacity: load.maxPacketsPerEpoch }, 20_000),
        agentB.request('tcp-sink-start', { address: tcpB.address, port: 5001 }, 20_000),
      ]));
      await deadlines.within('start the UDP sender', 20_000, agentA.request('udp-send-start', {
        dst: udpB.address, port: load.udpPort, flows: load.flows, size: load.udpSize, pps: load.pps, firstSeq, maxPackets: load.maxPacketsPerEpoch,
      }, 20_000));
    } catch (e) {
      await Promise.all([agentA?.stop(), agentB?.stop()]);
      await relay.close();
      throw e;
    }
    const tcp = new TcpLoad(agentA, agentB, tcpPrng, {
      address: link('tcpB').address, port: 5001, streams: load.tcpStreams, minBytes: load.tcpMinBytes, maxBytes: load.tcpMaxBytes, timeoutMs: load.tcpTimeoutMs,
    });
    tcp.start();
    return new Epoch(index, relay, agentA, agentB, names, tcp, spaces, deadlines, firstSeq);
  }

  /** Name of the device of `role` in this epoch. */
  nameOf(device: number): string {
    return this.names[device]!;
  }

  /**
   * Pauses the UDP sender and waits until the relay path is drained: from then
   * on no datagram is anywhere between the sender's socket and the receiver's.
   * Nested pauses are counted; `resumeUdp` resumes at the outermost.
   */
  async pauseUdp(): Promise<UdpSenderCounts> {
    this.udpPaused++;
    const counts = await this.deadlines.within('pause the UDP sender', 10_000, this.agentA.request('udp-pause', undefined));
    await this.deadlines.within('drain the UDP path', 15_000, this.relay.waitQuiet());
    return counts;
  }

  /** Resumes the UDP sender (see `pauseUdp`). */
  async resumeUdp(): Promise<void> {
    if (--this.udpPaused > 0) return;
    await this.deadlines.within('resume the UDP sender', 10_000, this.agentA.request('udp-resume', undefined));
  }

  /** The receiver's counters once two reports 200 ms apart agree (the socket is drained). */
  private async settledReceiver(): Promise<UdpReceiverCounts> {
    let prev = await this.agentB.request('udp-receive-report', undefined);
    for (;;) {
      await sleep(200);
      const now = await this.agentB.request('udp-receive-report', undefined);
      if (JSON.stringify(now) === JSON.stringify(prev)) return now;
      prev = now;
    }
  }

  /**
   * Ends the epoch: stops the TCP loops (running transfers finish), quiesces UDP,
   * reads every counter, stops the agents, deletes `deleteSide`'s namespace (if
   * given: the fault) and waits for the relay to see its devices gone, then
   * closes the relay. The namespace is recreated for the next epoch.
   */
  async finish(deleteSide: Side | null): Promise<EpochRecord> {
    const d = this.deadlines;
    const tcp = await d.within('finish the running TCP transfers', TCP_STOP_BOUND_MS, this.tcp.stop());
    this.relay.clearInjected();
    const sender = await this.pauseUdp();
    const receiver = await d.within('read the UDP receiver', 15_000, this.settledReceiver());
    const [a, b, snmpB] = await d.within('read the kernel counters', 15_000, Promise.all([
      linkDrops(this.spaces.of('A'), this.nameOf(0)),
      linkDrops(this.spaces.of('B'), this.nameOf(1)),
      udpSnmp(this.spaces.of('B')),
    ]));
    await d.within('stop the agents', 10_000, Promise.all([this.agentA.stop(), this.agentB.stop()]));
    if (deleteSide !== null) {
      await d.within(`delete namespace ${deleteSide}`, 15_000, this.spaces.delete(deleteSide));
      const gone = LINKS.filter((l) => l.side === deleteSide && (l.device === 0 || l.device === 1)).map((l) => l.device);
      await d.within('relay sees the devices gone', 15_000, this.relay.waitEnded(gone));
      this.spaces.recreate(deleteSide);
    }
    const stats = await d.within('close the relay', 15_000, this.relay.close());
    const s0 = stats[0]!;
    const s1 = stats[1]!;
    const c = this.relay.counters;
    const drops = noDrops();
    drops.kernelQueueFull = a.txDropped;
    drops.handlerException = s0.handlerErrorDrops;
    // The handler never returns DROP: packets of a batch that threw are
    // handlerErrorDrops only (each packet is counted under one cause).
    drops.handlerDrop = s0.handlerDrops;
    drops.malformed = s0.malformed;
    drops.relayTxRingFull = c.txRingFull;
    drops.relaySendFailed = Object.values(c.sendFailed).reduce((x, y) => x + y, 0);
    drops.deviceWriteFailed = s1.txErrors;
    drops.receiverSocketFull = snmpB.inErrors;
    drops.noPort = snmpB.noPorts;
    return {
      index: this.index,
      end: deleteSide === null ? 'finished' : `netns ${deleteSide} deleted`,
      udp: {
        issued: sender.nextSeq - this.firstSeq,
        sent: sender.sent,
        sendErrors: sender.errors,
        received: receiver.received,
        duplicates: receiver.duplicates,
        outOfRange: receiver.outOfRange,
        badPayload: receiver.badPayload,
        drops,
        udpBRxDropped: b.rxDropped,
      },
      tcp,
      stats,
      relay: { ...c, sendFailed: { ...c.sendFailed } },
      readerEnds: Object.fromEntries(this.relay.ended),
      closed: resources(),
    };
  }

  /** The relay's state in one line, for failure reports. */
  describeState(): string {
    const per = this.relay.totals().map((t, d) =>
      `dev${d} rx ${t.rxPackets} fwd ${t.forwarded} passed ${t.passed} delivered ${t.delivered} ringFull ${t.ringFull} txErr ${t.txErrors} handlerErr ${t.handlerErrors}`);
    const workers = this.relay.set.workers().map((w) => `${w.device}.${w.queue}:${w.running ? 'run' : 'exit'}`).join(' ');
    return `epoch ${this.index}: ${per.join('; ')}; workers ${workers}; main ${JSON.stringify(this.relay.counters)}; readers ended ${JSON.stringify(Object.fromEntries(this.relay.ended))}`;
  }

  /** Cleanup after a failure: stops the agents and closes the relay, bounded, swallowing errors. */
  async abandon(): Promise<void> {
    await Promise.race([
      Promise.allSettled([this.tcp.stop(), this.agentA.stop(), this.agentB.stop(), this.relay.close()]),
      sleep(20_000),
    ]);
  }
}
