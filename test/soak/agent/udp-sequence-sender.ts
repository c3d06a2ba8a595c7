/**
 * The UDP load of the soak: numbered datagrams at a steady rate over several
 * sockets (flows, so several queues see traffic), pausable (the driver quiesces
 * UDP around faults whose losses the kernel cannot count) and with bursts.
 *
 * Payload: u32 BE sequence number, then byte i = (seq + i) & 0xff.
 * Every send's outcome is counted: accepted by the kernel (`sent`) or failed,
 * by error code. A send is never retried, so sequence numbers are never reused.
 */
import dgram from 'node:dgram';
import type { UdpSenderCounts } from './agent-protocol.js';

/** Options of `UdpSequenceSender`. */
export interface UdpSenderOptions {
  /** Destination address. */
  dst: string;
  /** Destination port. */
  port: number;
  /** Sockets (source ports) used round-robin. */
  flows: number;
  /** Datagram payload size (at least 8). */
  size: number;
  /** Paced rate in datagrams per second. */
  pps: number;
  /** Sequence number of the first datagram. */
  firstSeq: number;
  /** Hard bound on datagrams sent by this sender. */
  maxPackets: number;
}

/** Sends at most this many datagrams before waiting for completions. */
const WINDOW = 128;
const TICK_MS = 2;

/** Writes the payload of datagram `seq` into `buf`. */
export function fillPayload(buf: Buffer, seq: number): void {
  buf.writeUInt32BE(seq >>> 0, 0);
  for (let i = 4; i < buf.length; i++) buf[i] = (seq + i) & 0xff;
}

/** The paced, pausable sequence sender. */
export class UdpSequenceSender {
  private readonly options: UdpSenderOptions;
  private sockets: dgram.Socket[] = [];
  private nextSeq: number;
  private sent = 0;
  private readonly errors: Record<string, number> = {};
  private inFlight = 0;
  private paused = false;
  private burstLeft = 0;
  private base = 0;
  private issuedSinceBase = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

  /** A sender with `options`; `start()` binds and begins. */
  constructor(options: UdpSenderOptions) {
    this.options = options;
    this.nextSeq = options.firstSeq;
  }

  /** Binds the sockets and starts paced sending. */
  async start(): Promise<void> {
    const family = this.options.dst.includes(':') ? 'udp6' : 'udp4';
    this.sockets = await Promise.all(Array.from({ length: this.options.flows }, () => new Promise<dgram.Socket>((resolve, reject) => {
      const s = dgram.createSocket(family);
      s.once('error', reject);
      s.bind(0, () => resolve(s));
    })));
    this.base = performance.now();
    this.issuedSinceBase = 0;
    this.timer = setInterval(() => this.pump(), TICK_MS);
  }

  /** Counters now. */
  counts(): UdpSenderCounts {
    return { sent: this.sent, errors: { ...this.errors }, nextSeq: this.nextSeq };
  }

  private limitReached(): boolean {
    return this.nextSeq - this.options.firstSeq >= this.options.maxPackets;
  }

  private pump(): void {
    if (this.sockets.length === 0) return;
    let due = 0;
    if (!this.paused) {
      const allowed = Math.floor(((performance.now() - this.base) * this.options.pps) / 1000);
      due = Math.max(0, allowed - this.issuedSinceBase);
    }
    while ((due > 0 || this.burstLeft > 0) && this.inFlight < WINDOW && !this.limitReached()) {
      if (this.burstLeft > 0) this.burstLeft--;
      else {
        due--;
        this.issuedSinceBase++;
      }
      this.sendOne();
    }
    if (this.limitReached()) this.burstLeft = 0;
    this.wakeIdle();
  }

  private sendOne(): void {
    const seq = this.nextSeq++;
    const buf = Buffer.allocUnsafe(Math.max(8, this.options.size));
    fillPayload(buf, seq);
    this.inFlight++;
    this.sockets[seq % this.sockets.length]!.send(buf, this.options.port, this.options.dst, (err) => {
      this.inFlight--;
      if (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
        this.errors[code] = (this.errors[code] ?? 0) + 1;
      } else {
        this.sent++;
      }
      if (this.burstLeft > 0) this.pump();
      this.wakeIdle();
    });
  }

  private wakeIdle(): void {
    if (this.inFlight !== 0 || this.burstLeft !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private idle(): Promise<void> {
    if (this.inFlight === 0 && this.burstLeft === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops paced sending; resolves with the counters once every send completed. */
  async pause(): Promise<UdpSenderCounts> {
    this.paused = true;
    await this.idle();
    return this.counts();
  }

  /** Resumes paced sending from now (no catch-up). */
  resume(): void {
    this.paused = false;
    this.base = performance.now();
    this.issuedSinceBase = 0;
  }

  /** Sends `count` extra datagrams as fast as the window allows; resolves when they completed. */
  async burst(count: number): Promise<UdpSenderCounts> {
    this.burstLeft += count;
    this.pump();
    await this.idle();
    return this.counts();
  }

  /** Stops and closes the sockets (after pending sends completed). */
  async close(): Promise<UdpSenderCounts> {
    const c = await this.pause();
    clearInterval(this.timer);
    for (const s of this.sockets) s.close();
    this.sockets = [];
    return c;
  }
}
