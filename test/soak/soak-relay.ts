/**
 * The relay under test: one `openQueues` set over the four soak devices (see
 * topology.ts) with the soak handler in the workers, plus the main-thread part:
 * a consumer that relays every UDP datagram read from device 0 out of device 1
 * with `trySend` (a full TX ring is a counted drop, never a wait), and a drain of
 * device 1. The consumer can be stalled on purpose; the handler can be told to
 * throw or to spin.
 */
import { DeviceBuilder } from '@tunpipe/core';
import { openQueues, type QueueSet, type QueueWorkerPool, type StatTotals } from '@tunpipe/linux-mq';
import type { Netns } from '@tunpipe/testkit';
import { CONTROL_WORDS, STALL_BASE, THROW_BASE } from './relay-handler.js';
import { LINKS } from './topology.js';
import { sleep } from './deadline.js';

/** Where the compiled handler module is. */
const HANDLER = new URL('./relay-handler.js', import.meta.url);

/** Options of `SoakRelay.open`. */
export interface SoakRelayOptions {
  /** Device names, in device-index order (LINKS). */
  names: readonly string[];
  /** Queues per device. */
  queues: number;
  /** UDP destination port of the soak datagrams. */
  udpPort: number;
  /** Threads for the queues (reused from one epoch's relay to the next), or undefined for new ones. */
  workerPool: QueueWorkerPool | undefined;
}

/** What the main thread did with the datagrams it read. */
export interface RelayCounters {
  /** UDP soak datagrams put into device 1's TX ring. */
  relayed: number;
  /** Datagrams dropped because device 1's TX ring was full. */
  txRingFull: number;
  /** Datagrams trySend refused with an error, by error code. */
  sendFailed: Record<string, number>;
  /** Other packets read from device 0 (not soak datagrams). */
  otherFromUdpA: number;
  /** Packets read from device 1 (nothing is expected there). */
  fromUdpB: number;
  /** Handler exception reports received (`onHandlerError`). */
  handlerErrorReports: number;
}

/** The error code each device's reader ended with, if it ended with one. */
export type GoneMap = Map<number, string>;

/** The relay; see the file comment. */
export class SoakRelay {
  /** The queue set. */
  readonly set: QueueSet;
  /** Counters of the main-thread part. */
  readonly counters: RelayCounters = { relayed: 0, txRingFull: 0, sendFailed: {}, otherFromUdpA: 0, fromUdpB: 0, handlerErrorReports: 0 };
  /** Reader errors by device (ERR_TUN_DEVICE_GONE once a namespace is deleted). */
  readonly ended: GoneMap = new Map();
  private readonly control: Int32Array;
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[];
  private readonly udpPort: number;
  private stallUntil = 0;
  private closing: Promise<StatTotals[]> | undefined;

  private constructor(set: QueueSet, control: Int32Array, udpPort: number) {
    this.set = set;
    this.control = control;
    this.udpPort = udpPort;
    this.loops = [this.relayUdp(), this.drain(1)];
  }

  /** Creates the devices inside `home`, opens the set (workers start) and starts the main-thread loops. */
  static async open(home: Netns, options: SoakRelayOptions): Promise<SoakRelay> {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    let relay: SoakRelay | undefined;
    const entry = home.enter();
    let set: QueueSet;
    try {
      set = await openQueues({
        devices: LINKS.map((l) => new DeviceBuilder().name(options.names[l.device]!).offload(l.offload)),
        queues: options.queues,
        handler: HANDLER,
        handlerData: { control: control.buffer },
        handlerErrors: 'drop',
        onHandlerError: () => {
          if (relay !== undefined) relay.counters.handlerErrorReports++;
        },
        rxSlots: 256,
        txSlots: 256,
        txPacketCapacity: 2048,
        maxBatch: 64,
        statsInterval: 0,
        execArgv: [],
        workerPool: options.workerPool,
      });
    } finally {
      entry.exit();
    }
    relay = new SoakRelay(set, control, options.udpPort);
    return relay;
  }

  private isSoakUdp(p: Uint8Array): boolean {
    if (p.length < 28 || p[0]! >> 4 !== 4 || p[9] !== 17) return false;
    const l4 = (p[0]! & 15) * 4;
    return ((p[l4 + 2]! << 8) | p[l4 + 3]!) === this.udpPort;
  }

  private async relayUdp(): Promise<void> {
    const reader = this.set.reader(0);
    const c = this.counters;
    for (;;) {
      const wait = this.stallUntil - performance.now();
      if (wait > 0) await sleep(wait);
      let batch;
      try {
        batch = await reader.read({ signal: this.abort.signal });
      } catch (e) {
        if (!this.abort.signal.aborted) this.ended.set(0, (e as { code?: string }).code ?? String(e));
        return;
      }
      if (batch === null) return;
      for (let i = 0; i < batch.count; i++) {
        const p = batch.data(i);
        if (!this.isSoakUdp(p)) {
          c.otherFromUdpA++;
          continue;
        }
        try {
          if (this.set.trySend(1, p)) c.relayed++;
          else c.txRingFull++;
        } catch (e) {
          const code = (e as { code?: string }).code ?? 'EUNKNOWN';
          c.sendFailed[code] = (c.sendFailed[code] ?? 0) + 1;
        }
      }
      batch.release();
    }
  }

  private async drain(device: number): Promise<void> {
    const reader = this.set.reader(device);
    for (;;) {
      let batch;
      try {
        batch = await reader.read({ signal: this.abort.signal });
      } catch (e) {
        if (!this.abort.signal.aborted) this.ended.set(device, (e as { code?: string }).code ?? String(e));
        return;
      }
      if (batch === null) return;
      this.counters.fromUdpB += batch.count;
      batch.release();
    }
  }

  /** Stops the UDP consumer for `ms` (it finishes the batch in hand first). */
  stallConsumer(ms: number): void {
    this.stallUntil = Math.max(this.stallUntil, performance.now() + ms);
  }

  /** Makes the next `batches` handler calls of `device` throw. */
  throwInHandler(device: number, batches: number): void {
    Atomics.add(this.control, THROW_BASE + device, batches);
  }

  /** Exceptions still pending for `device` (not yet thrown: no batch came). */
  pendingThrows(device: number): number {
    return Atomics.load(this.control, THROW_BASE + device);
  }

  /** Makes the next handler call of `device` spin for `ms`. */
  stallWorker(device: number, ms: number): void {
    Atomics.store(this.control, STALL_BASE + device, ms);
  }

  /** Clears pending injected faults (before the books close). */
  clearInjected(): void {
    for (let i = 0; i < CONTROL_WORDS; i++) Atomics.store(this.control, i, 0);
  }

  /** Counters summed per device, device-index order. */
  totals(): StatTotals[] {
    return LINKS.map((l) => this.set.totals(l.device));
  }

  /**
   * Resolves once the UDP path is idle: the consumer is not stalled, every
   * packet the workers passed was delivered, device 1's TX ring is empty, and no
   * counter on the path moved for `quietMs`.
   */
  async waitQuiet(quietMs = 300): Promise<void> {
    let last = '';
    let since = performance.now();
    for (;;) {
      const [a, b] = [this.set.totals(0), this.set.totals(1)];
      const c = this.counters;
      const key = [a.rxPackets, a.passed, a.delivered, c.relayed, c.txRingFull, b.sent, b.txRingPackets, b.txPackets, b.txErrors].join(',');
      const settled = a.passed === a.delivered && b.sent === b.txRingPackets && this.stallUntil <= performance.now();
      if (key !== last || !settled) {
        last = key;
        since = performance.now();
      } else if (performance.now() - since >= quietMs) {
        return;
      }
      await sleep(25);
    }
  }

  /** Resolves once every device in `devices` has had its reader end with an error (e.g. ERR_TUN_DEVICE_GONE). */
  async waitEnded(devices: readonly number[]): Promise<void> {
    while (!devices.every((d) => this.ended.has(d))) await sleep(10);
  }

  /** Stops the loops and closes the set; resolves with the final per-device totals. Idempotent. */
  close(): Promise<StatTotals[]> {
    this.closing ??= (async () => {
      this.abort.abort();
      await Promise.all(this.loops);
      await this.set.close();
      return this.totals();
    })();
    return this.closing;
  }
}
