/**
 * The receiving end of the soak's UDP load: records each sequence number once
 * (a bitmap over the expected range), counts duplicates, out-of-range numbers and
 * payloads that do not match their sequence number's pattern.
 */
import dgram from 'node:dgram';
import type { UdpReceiverCounts } from './agent-protocol.js';

/** Options of `UdpSequenceReceiver`. */
export interface UdpReceiverOptions {
  /** Address to bind. */
  address: string;
  /** Port to bind. */
  port: number;
  /** Lowest sequence number expected. */
  firstSeq: number;
  /** Sequence numbers expected: [firstSeq, firstSeq + capacity). */
  capacity: number;
}

/** Bound receiver with exact per-sequence bookkeeping. */
export class UdpSequenceReceiver {
  private readonly options: UdpReceiverOptions;
  private readonly seen: Uint8Array;
  private socket: dgram.Socket | undefined;
  private readonly c: UdpReceiverCounts = { received: 0, duplicates: 0, outOfRange: 0, badPayload: 0 };

  /** A receiver for `options`; `start()` binds it. */
  constructor(options: UdpReceiverOptions) {
    this.options = options;
    this.seen = new Uint8Array(options.capacity);
  }

  /** Binds the socket (large receive buffer, so the socket itself rarely drops). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: this.options.address.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
      s.once('error', reject);
      s.on('message', (msg) => this.onMessage(msg));
      s.bind(this.options.port, this.options.address, () => {
        s.removeListener('error', reject);
        this.socket = s;
        resolve();
      });
    });
  }

  private onMessage(msg: Buffer): void {
    if (msg.length < 4) {
      this.c.badPayload++;
      return;
    }
    const seq = msg.readUInt32BE(0);
    for (let i = 4; i < msg.length; i++) {
      if (msg[i] !== ((seq + i) & 0xff)) {
        this.c.badPayload++;
        return;
      }
    }
    const at = seq - this.options.firstSeq;
    if (at < 0 || at >= this.seen.length) {
      this.c.outOfRange++;
      return;
    }
    if (this.seen[at] === 1) {
      this.c.duplicates++;
      return;
    }
    this.seen[at] = 1;
    this.c.received++;
  }

  /** Counters now. */
  counts(): UdpReceiverCounts {
    return { ...this.c };
  }

  /** Closes the socket. */
  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
