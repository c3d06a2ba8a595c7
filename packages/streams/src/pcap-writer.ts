/**
 * `PcapWriter`: classic libpcap capture files (pcap-savefile(5)), readable by
 * tcpdump, tshark and Wireshark.
 *
 * ```
 * file   = global header, then one record per packet
 *
 * global header (24 bytes)              record header (16 bytes), then incl_len bytes
 *  0  magic          u32                 0  ts_sec     u32  seconds since the epoch
 *  4  version_major  u16 = 2             4  ts_frac    u32  µs or ns, by the magic
 *  6  version_minor  u16 = 4             8  incl_len   u32  bytes stored (<= snaplen)
 *  8  thiszone       i32 = 0            12  orig_len   u32  bytes on the wire
 * 12  sigfigs        u32 = 0
 * 16  snaplen        u32
 * 20  linktype       u32                 magic 0xa1b2c3d4: microseconds
 *                                        magic 0xa1b23c4d: nanoseconds
 * ```
 * Fields are written little-endian; readers detect the byte order from the magic.
 * Link types (tcpdump.org/linktypes.html): LINKTYPE_RAW 101 (a raw IPv4/IPv6
 * packet: TUN), LINKTYPE_ETHERNET 1 (TAP).
 *
 * Records are assembled in a buffer (64 KiB by default) and handed to the sink a
 * buffer at a time. `write()` copies the packet before it returns, so ring-backed
 * packets may be released right after, and waits only when the sink is behind
 * (backpressure); `tryWrite()` never waits and drops (counting) instead, for
 * callers that cannot wait (RxJS).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { TunError } from '@tunpipe/offload';
import { StreamErrorCode, fromNodeError } from './error-codes.js';
import { nodeWritableToWeb } from './node-byte-streams.js';
import { timestampNow, type Packet } from './packet.js';

/** LINKTYPE_RAW: each record is a raw IPv4 or IPv6 packet (TUN devices). */
export const LINKTYPE_RAW = 101;
/** LINKTYPE_ETHERNET: each record is an Ethernet frame (TAP devices). */
export const LINKTYPE_ETHERNET = 1;
/** Magic number of microsecond-resolution files. */
export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
/** Magic number of nanosecond-resolution files. */
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
/** Bytes of the global header. */
export const PCAP_GLOBAL_HEADER_LEN = 24;
/** Bytes of a record header. */
export const PCAP_RECORD_HEADER_LEN = 16;
/** Largest snaplen libpcap reads for ordinary link types (MAXIMUM_SNAPLEN). */
export const PCAP_MAX_SNAPLEN = 262144;

/** Options of a PcapWriter. */
export interface PcapWriterOptions {
  /** `'raw'` (101, TUN; default), `'ethernet'` (1, TAP), or any LINKTYPE_ number. */
  linkType?: 'raw' | 'ethernet' | number;
  /** Bytes kept of each packet (the rest is cut, `orig_len` keeps the real length). 1..262144, default 262144. */
  snaplen?: number;
  /** Timestamp resolution of the file: `'micro'` (default, most compatible) or `'nano'`. */
  precision?: 'micro' | 'nano';
  /** Bytes assembled before a write to the sink. Default 64 KiB. */
  bufferSize?: number;
  /** Bytes handed to the sink and not yet written above which `tryWrite()` drops. Default 16 MiB. */
  maxPendingBytes?: number;
  /** Timestamp (ns since the epoch) of packets that carry none. Default: the current time. */
  clock?: () => bigint;
}

/** Counters of a PcapWriter. */
export interface PcapWriterStats {
  /** Records written (buffered or handed to the sink). */
  packets: number;
  /** File bytes produced, global header included. */
  bytes: number;
  /** Records cut to snaplen. */
  truncated: number;
  /** Packets `tryWrite()` dropped because the sink was too far behind. */
  dropped: number;
}

/** Writes packets to a classic pcap file or byte stream. */
export class PcapWriter implements AsyncDisposable {
  /** The link type in the file header. */
  readonly linkType: number;
  /** Bytes kept per packet. */
  readonly snaplen: number;
  /** Timestamp resolution. */
  readonly precision: 'micro' | 'nano';
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly file: WriteStream | undefined;
  private readonly bufferSize: number;
  private readonly maxPendingBytes: number;
  private readonly clock: () => bigint;
  private buf: Uint8Array;
  private view: DataView;
  private fill = 0;
  private pendingBytes = 0;
  private lastWrite: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;
  private closing: Promise<void> | undefined;
  private readonly counters: PcapWriterStats = { packets: 0, bytes: 0, truncated: 0, dropped: 0 };

  /** A writer onto `sink` (a byte WritableStream, which it locks) or a new file at `path` (truncated if it exists). */
  constructor(sink: WritableStream<Uint8Array> | string | URL, options: PcapWriterOptions = {}) {
    this.linkType = linkTypeOption(options.linkType);
    this.snaplen = intOption('snaplen', options.snaplen, PCAP_MAX_SNAPLEN, 1, PCAP_MAX_SNAPLEN);
    const precision = options.precision ?? 'micro';
    if (precision !== 'micro' && precision !== 'nano') {
      throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `precision must be 'micro' or 'nano', got ${String(precision)}`);
    }
    this.precision = precision;
    this.bufferSize = intOption('bufferSize', options.bufferSize, 64 * 1024, PCAP_GLOBAL_HEADER_LEN, 2 ** 30);
    this.maxPendingBytes = intOption('maxPendingBytes', options.maxPendingBytes, 16 * 1024 * 1024, 0, Number.MAX_SAFE_INTEGER);
    this.clock = options.clock ?? timestampNow;
    if (sink instanceof WritableStream) {
      this.file = undefined;
      this.writer = sink.getWriter();
    } else {
      this.file = createWriteStream(sink);
      this.writer = nodeWritableToWeb(this.file).getWriter();
    }
    this.buf = new Uint8Array(this.bufferSize);
    this.view = new DataView(this.buf.buffer);
    this.writeGlobalHeader();
  }

  /**
   * Records one packet (its bytes are copied before this returns). `timestamp`
   * (ns since the epoch) overrides the packet's own; without either, the clock's.
   * Resolves once the sink has room again.
   */
  async write(packet: Packet | Uint8Array, timestamp?: bigint): Promise<void> {
    this.append(packet, timestamp);
    if (this.pendingBytes > 0) await this.writer.ready.catch(() => undefined);
    this.throwIfFailed();
  }

  /** Records one packet without ever waiting; false (and counted in `dropped`) when the sink is too far behind. */
  tryWrite(packet: Packet | Uint8Array, timestamp?: bigint): boolean {
    const data = packet instanceof Uint8Array ? packet : packet.data;
    const size = PCAP_RECORD_HEADER_LEN + Math.min(data.length, this.snaplen);
    if (this.pendingBytes + this.fill + size > this.maxPendingBytes + this.bufferSize) {
      this.throwIfFailed();
      this.counters.dropped++;
      return false;
    }
    this.append(packet, timestamp);
    return true;
  }

  /** Hands everything buffered to the sink and resolves once the sink has written it. */
  async flush(): Promise<void> {
    this.throwIfClosed();
    this.handOff();
    await this.lastWrite;
    this.throwIfFailed();
  }

  /** Flushes, then closes the sink (and the file). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Counters (a snapshot). */
  stats(): PcapWriterStats {
    return { ...this.counters };
  }

  private async finish(): Promise<void> {
    this.handOff();
    try {
      await this.lastWrite;
      this.throwIfFailed();
      await this.writer.close();
    } catch (err) {
      this.failure ??= captureError(err);
      await this.writer.abort(err).catch(() => undefined);
      throw this.failure;
    } finally {
      if (this.file !== undefined && !this.file.closed) {
        await new Promise<void>((resolve) => this.file!.once('close', () => resolve()));
      }
    }
  }

  private append(packet: Packet | Uint8Array, timestamp: bigint | undefined): void {
    this.throwIfClosed();
    this.throwIfFailed();
    const data = packet instanceof Uint8Array ? packet : packet.data;
    const ts = timestamp ?? (packet instanceof Uint8Array ? undefined : packet.timestamp) ?? this.clock();
    if (typeof ts !== 'bigint' || ts < 0n) {
      throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `pcap timestamp must be a non-negative bigint (ns), got ${String(ts)}`);
    }
    const incl = Math.min(data.length, this.snaplen);
    const size = PCAP_RECORD_HEADER_LEN + incl;
    if (size > this.bufferSize - this.fill) this.handOff();
    let buf = this.buf;
    let view = this.view;
    let at = this.fill;
    const oversized = size > this.bufferSize;
    if (oversized) {
      // A record larger than the whole buffer travels in a chunk of its own.
      buf = new Uint8Array(size);
      view = new DataView(buf.buffer);
      at = 0;
    }
    const seconds = ts / 1_000_000_000n;
    const nanos = Number(ts - seconds * 1_000_000_000n);
    view.setUint32(at, Number(seconds & 0xffff_ffffn), true);
    view.setUint32(at + 4, this.precision === 'nano' ? nanos : Math.floor(nanos / 1000), true);
    view.setUint32(at + 8, incl, true);
    view.setUint32(at + 12, data.length, true);
    buf.set(incl === data.length ? data : data.subarray(0, incl), at + PCAP_RECORD_HEADER_LEN);
    this.counters.packets++;
    this.counters.bytes += size;
    if (incl < data.length) this.counters.truncated++;
    if (oversized) this.send(buf);
    else this.fill += size;
  }

  private writeGlobalHeader(): void {
    const v = this.view;
    v.setUint32(0, this.precision === 'nano' ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true);
    v.setUint32(12, 0, true);
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, this.linkType, true);
    this.fill = PCAP_GLOBAL_HEADER_LEN;
    this.counters.bytes = PCAP_GLOBAL_HEADER_LEN;
  }

  /** Passes the filled part of the buffer to the sink and starts a new buffer. */
  private handOff(): void {
    if (this.fill === 0) return;
    const chunk = this.buf.subarray(0, this.fill);
    this.buf = new Uint8Array(this.bufferSize);
    this.view = new DataView(this.buf.buffer);
    this.fill = 0;
    this.send(chunk);
  }

  private send(chunk: Uint8Array): void {
    this.pendingBytes += chunk.length;
    const written = this.writer.write(chunk).then(
      () => {
        this.pendingBytes -= chunk.length;
      },
      (err: unknown) => {
        this.pendingBytes -= chunk.length;
        this.failure ??= captureError(err);
      },
    );
    this.lastWrite = written;
  }

  private throwIfClosed(): void {
    if (this.closing !== undefined) throw new TunError(StreamErrorCode.CLOSED, 'the pcap writer is closed');
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

/** A sink failure as a TunError (errno and syscall kept from Node's fs errors). */
function captureError(err: unknown): TunError {
  if (err instanceof TunError && err.code === StreamErrorCode.CAPTURE_WRITE) return err;
  // A file sink's adapter already wrapped the fs error: wrap the original instead.
  const original = err instanceof TunError && err.code === StreamErrorCode.BYTE_STREAM ? err.cause : err;
  return fromNodeError(StreamErrorCode.CAPTURE_WRITE, 'writing the capture failed', original);
}

function linkTypeOption(value: PcapWriterOptions['linkType']): number {
  if (value === undefined || value === 'raw') return LINKTYPE_RAW;
  if (value === 'ethernet') return LINKTYPE_ETHERNET;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) return value;
  throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `linkType must be 'raw', 'ethernet' or a LINKTYPE_ number, got ${String(value)}`);
}

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new TunError(StreamErrorCode.INVALID_ARGUMENT, `${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return v;
}
