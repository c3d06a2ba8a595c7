/**
 * `PacketSink`: how packets leave a device from the main thread: the underlying
 * sink of `tun.writable`, and `tun.send()` / `tun.trySend()`.
 *
 * Each packet is copied into a TX ring slot of linux-mq's `PacketWriter` before
 * `write()` returns or resolves: the sink keeps no reference to the packet, so a
 * ring view from another device's `readable` may be written directly (and is
 * released by its own stream afterwards). When the ring is full, `write()` waits
 * for room (backpressure reaches the source through `pipeTo`); aborting the
 * writable abandons that wait.
 *
 * What goes out (the queue worker decides, see linux-mq's egress):
 *
 * ```
 * packet                              │ offload device        │ plain device
 * ────────────────────────────────────┼───────────────────────┼──────────────────────────
 * virtioHeader with a GSO type        │ whole (superpacket)   │ split into segments
 * virtioHeader with NEEDS_CSUM only   │ as is                 │ checksum completed
 * no header (segments, Uint8Array)    │ GRO-coalesced runs    │ as is
 * ```
 *
 * A chunk that is a packet but cannot be sent (empty, larger than a TX slot, a
 * virtio header field or queue out of range) is dropped and counted in
 * `stats().rejected`; the stream goes on. `send()` / `trySend()` throw instead.
 *
 * Chunks may be Packets or plain `Uint8Array`s (what userspace TCP/IP stacks
 * such as tcpip.js emit). The TX queue is the packet's flow hash over the
 * attached queues (`txQueue: 'flow'`, keeps each flow in order) or the packet's
 * own `queue` (`txQueue: 'packet'`).
 */
import { TunError, encodeVirtioNetHdr, isTunError, VIRTIO_NET_HDR_LEN } from '@tunpipe/offload';
import type { UnderlyingSink } from 'node:stream/web';
import type { PacketWriter, SendOptions } from '@tunpipe/linux-mq';
import { StreamErrorCode } from './error-codes.js';
import type { Packet } from './packet.js';
import { onIdleFlush } from './idle-spin.js';

/** How the TX queue of a written packet is chosen. */
export type TxQueuePolicy = 'flow' | 'packet';

/** What the device writable accepts: a Packet, or a packet's bytes alone. */
export type WritablePacket = Packet | Uint8Array;

/** Options of `send()`. */
export interface PacketSendOptions {
  /** Abandons a wait for TX room (rejects with ERR_TUN_ABORTED). */
  signal?: AbortSignal | undefined;
}

/** Packets written between explicit publications of the TX rings (besides the writer's own end-of-turn flush). */
const FLUSH_EVERY = 64;

/** Copies packets into a device's TX rings; see the file comment. */
export class PacketSink {
  private readonly writer: PacketWriter;
  private readonly byPacketQueue: boolean;
  private readonly header = new Uint8Array(VIRTIO_NET_HDR_LEN);
  private readonly options: SendOptions = { queue: undefined, virtioHeader: undefined, signal: undefined };
  private unflushed = 0;
  private readonly unregister: () => void;
  /** Packets the writable dropped because they cannot be sent (see `underlyingSink`). */
  rejected = 0;

  /** A sink writing through `writer`. */
  constructor(writer: PacketWriter, txQueue: TxQueuePolicy) {
    if (txQueue !== 'flow' && txQueue !== 'packet') {
      throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `txQueue must be 'flow' or 'packet', got ${String(txQueue)}`);
    }
    this.writer = writer;
    this.byPacketQueue = txQueue === 'packet';
    this.unregister = onIdleFlush(() => {
      if (this.unflushed > 0) this.flush();
    });
  }

  /** Stops flushing this sink when a consumer catches up (the device closed). */
  dispose(): void {
    this.unregister();
  }

  /** Sends without waiting; false when the TX ring is full (nothing was sent). */
  trySend(packet: WritablePacket): boolean {
    const bytes = this.prepare(packet);
    if (!this.writer.trySend(bytes, this.options)) return false;
    if (++this.unflushed >= FLUSH_EVERY) this.flush();
    return true;
  }

  /** Sends, waiting for TX room while the ring is full. Resolves once the packet was copied. */
  async send(packet: WritablePacket, options: PacketSendOptions = {}): Promise<void> {
    if (this.trySend(packet)) return;
    const bytes = packet instanceof Uint8Array ? packet : packet.data;
    const { queue, virtioHeader } = this.options;
    // The header scratch may be reused by another send while this one waits.
    const hdr = virtioHeader === undefined ? undefined : virtioHeader.slice();
    await this.writer.send(bytes, { queue, virtioHeader: hdr, signal: options.signal });
  }

  /** Publishes every packet written so far to the queue workers. */
  flush(): void {
    this.unflushed = 0;
    this.writer.flush();
  }

  /** The underlying sink of a WritableStream (high-water mark 1: one packet in flight). */
  underlyingSink(onEnd: () => void): UnderlyingSink<WritablePacket> {
    return {
      write: (packet, controller) => {
        // A packet that cannot be sent is counted and dropped: one bad packet from a
        // pipeline must not end the device's writable. Anything else that fails
        // (not a packet, the device closed, an abort) errors the stream without
        // calling close or abort.
        try {
          if (this.trySend(packet)) return undefined;
        } catch (err) {
          if (this.reject(packet, err)) return undefined;
          onEnd();
          throw err;
        }
        // Node 20 has `controller.signal` (aborted by `abort()`); @types/node 20 omits it.
        const { signal } = controller as WritableStreamDefaultController & { signal?: AbortSignal };
        return this.send(packet, { signal }).catch((err: unknown) => {
          if (this.reject(packet, err)) return;
          onEnd();
          throw err;
        });
      },
      close: () => {
        onEnd();
        this.flush();
      },
      abort: () => {
        onEnd();
        this.flush();
      },
    };
  }

  /**
   * True (and counted) when `err` says `packet`, a Packet or bytes, cannot be
   * sent as it is: empty or larger than a TX slot (ERR_TUN_PACKET_TOO_BIG), or
   * a virtio header or queue out of range (ERR_TUN_INVALID_ARGUMENT).
   */
  private reject(packet: WritablePacket, err: unknown): boolean {
    const shaped = packet instanceof Uint8Array || (packet as Partial<Packet> | null)?.data instanceof Uint8Array;
    if (!shaped || !isTunError(err) || (err.code !== 'ERR_TUN_PACKET_TOO_BIG' && err.code !== StreamErrorCode.INVALID_ARGUMENT)) return false;
    this.rejected++;
    return true;
  }

  /** Fills `options` for `packet` and returns its bytes. */
  private prepare(packet: WritablePacket): Uint8Array {
    const o = this.options;
    if (packet instanceof Uint8Array) {
      o.virtioHeader = undefined;
      o.queue = undefined;
      return packet;
    }
    const data = packet?.data;
    if (!(data instanceof Uint8Array)) {
      throw new TunError(StreamErrorCode.INVALID_ARGUMENT, 'a device writable takes Packets or Uint8Arrays');
    }
    const hdr = packet.virtioHeader;
    if (hdr === undefined) {
      o.virtioHeader = undefined;
    } else {
      encodeVirtioNetHdr(hdr, this.header);
      o.virtioHeader = this.header;
    }
    o.queue = this.byPacketQueue ? packet.queue : undefined;
    return data;
  }
}
