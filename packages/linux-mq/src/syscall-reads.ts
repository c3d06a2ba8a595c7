/**
 * `SyscallReads`: a queue worker's direct reads (no offload, or keep mode) with
 * one read(2) per packet, each straight into the next RX slot, until the window
 * is full or the queue is empty (EAGAIN on the O_NONBLOCK fd). The syscall read
 * path of the worker, and what `UringReads` uses for small windows.
 *
 * ```
 *   RX slots   start                 start+k-1
 *              │ s0 │ s1 │ s2 │ ... │ sk-1 │   read(fd, slot, capacity) each;
 *   lengths    [ 64 ][ 64 ][ 64 ]             a malformed read (r <= header or
 *   meta       [flag][flag][flag]             r >= slot size) reuses its slot
 * ```
 *
 * `rxReads` counts completed reads (a packet, malformed or not), `malformed`
 * the reads that may have been cut short or are empty. Nothing is allocated per
 * packet.
 */
import { sys, errno, constants as C } from '@tunpipe/core';
import { VIRTIO_NET_HDR_LEN } from '@tunpipe/offload';
import { SLOT_VNET_HDR, type SlotRing } from './slot-ring.js';
import { Stat } from './queue-stats.js';

/** `fill()` result: the batch ended on an empty queue (EAGAIN). Errors are `-errno`; 0 means there may be more. */
export const QUEUE_EMPTY = 1;

/** Reads into consecutive RX slots; `count`/`bytes` describe the last `fill()` (what queue-loop.ts delivers). */
export interface SlotFiller {
  /** Packets placed in slots by the last `fill()`. */
  readonly count: number;
  /** Their bytes (without virtio headers). */
  readonly bytes: number;
  /** Reads up to `limit` packets into slots `start`, `start + 1`, ...: 0 (may be more), QUEUE_EMPTY, or `-errno`. */
  fill(start: number, limit: number): number;
}

/** read(2) per packet into a SlotRing's slots. */
export class SyscallReads implements SlotFiller {
  /** Packets placed in slots by the last `fill()`. */
  count = 0;
  /** Their bytes (without virtio headers). */
  bytes = 0;
  private readonly rx: SlotRing;
  private readonly fd: number;
  private readonly views: Uint8Array[];
  private readonly hdr: number;
  private readonly capacity: number;
  private readonly flag: number;
  private readonly st: Float64Array;
  private readonly sb: number;

  /**
   * Reads for the queue `fd` into `rx`; `vnet`: each read starts with a
   * virtio_net_hdr kept in the slot's header area. `st`/`sb`: the queue's stats block.
   */
  constructor(rx: SlotRing, fd: number, vnet: boolean, st: Float64Array, sb: number) {
    this.rx = rx;
    this.fd = fd;
    this.views = vnet ? rx.frames : rx.packets;
    this.hdr = vnet ? VIRTIO_NET_HDR_LEN : 0;
    this.capacity = this.hdr + rx.packetCapacity;
    this.flag = vnet ? SLOT_VNET_HDR : 0;
    this.st = st;
    this.sb = sb;
  }

  /**
   * Reads up to `limit` packets into slots `start`, `start + 1`, ... (mod the
   * ring). Returns 0 when `limit` packets were read (the queue may hold more),
   * QUEUE_EMPTY when a read found it empty, or `-errno` of a failed read (the
   * packets before it are in `count`). EINTR is retried.
   */
  fill(start: number, limit: number): number {
    const mask = this.rx.mask;
    const views = this.views;
    const hdr = this.hdr;
    const capacity = this.capacity;
    const lengths = this.rx.lengths;
    const meta = this.rx.meta;
    const fd = this.fd;
    let n = 0;
    let bytes = 0;
    let reads = 0;
    let malformed = 0;
    let end = 0;
    while (n < limit) {
      const s = (start + n) & mask;
      const r = sys.read(fd, views[s]!, capacity);
      if (r < 0) {
        const e = errno();
        if (e === C.EAGAIN) {
          end = QUEUE_EMPTY;
          break;
        }
        if (e === C.EINTR) continue;
        end = -e;
        break;
      }
      reads++;
      if (r <= hdr || r >= capacity) {
        // Empty, or filled the whole slot: possibly cut short. Never pass on a
        // partial packet; the slot is reused by the next read.
        malformed++;
        continue;
      }
      const len = r - hdr;
      lengths[s] = len;
      meta[s] = this.flag;
      bytes += len;
      n++;
    }
    this.st[this.sb + Stat.rxReads] += reads;
    if (malformed > 0) this.st[this.sb + Stat.malformed] += malformed;
    this.count = n;
    this.bytes = bytes;
    return end;
  }
}
