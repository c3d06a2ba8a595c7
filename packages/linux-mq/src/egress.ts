/**
 * `Egress`: how a queue worker writes packets out of a device: its own (the TX
 * ring, TX verdicts) or another device of the set (FORWARD verdicts; write(2) on
 * a TUN fd from any thread is fine, one packet per write).
 *
 * What a packet needs depends on the target (DESIGN.md):
 *
 * ```
 *                    │ target has a virtio header         │ target has none
 * ───────────────────┼────────────────────────────────────┼────────────────────────────
 * carries a header   │ written as is (superpackets pass   │ GSO: split into segments
 * (keep mode, send   │ through whole)                     │ with full checksums;
 * with virtioHeader) │                                    │ NEEDS_CSUM: checksum first
 * ───────────────────┼────────────────────────────────────┼────────────────────────────
 * plain segments     │ runs coalesced by handleGro when   │ written as is
 * (also NEEDS_CSUM   │ TSO/USO is on, else a zero header  │
 * only, once its     │                                    │
 * checksum is done)  │                                    │
 * ```
 *
 * An RX redirect (`QueueSet.redirectTo`) is one more target, a device of
 * another set, described to the worker at run time; it is written exactly as a
 * FORWARD target is.
 *
 * A slot's 10-byte header area is where the header goes, so no packet is copied
 * to prepend one. GRO grows packets in place, which needs 64 KiB of room after
 * each packet: TX slots and keep-mode RX slots have it; split-mode RX slots are
 * MTU-sized, so their runs are first copied into a staging area (allocated on
 * first use, pages touched only as packets land).
 *
 * GRO verifies the checksums of every packet before merging it, except for
 * slots flagged SLOT_CSUM_VALID: segments this worker's own split produced,
 * whose checksums it has just computed (like the kernel's CHECKSUM_UNNECESSARY).
 * Slots the main thread wrote (TX ring) never carry the flag. A handler that
 * rewrites a split segment must keep its checksums valid (the offload helpers
 * do); merged, the segment leaves with a checksum the kernel completes.
 */
import { sys, errno, constants } from '@tunpipe/core';
import {
  VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_DATA_VALID, IDEAL_BATCH_SIZE,
  GroTable, handleGro, splitGso, completeChecksum, decodeVirtioNetHdr, createVirtioNetHdr,
} from '@tunpipe/offload';
import { SlotRing, SLOT_VNET_HDR, SLOT_CSUM_VALID, slotStride } from './slot-ring.js';
import { ATTACHED } from './queue-control.js';
import { Stat } from './queue-stats.js';
import { ViewWindows, Int32Windows } from './view-windows.js';
import type { PeerDevice } from './worker-protocol.js';

/** errno of a write the kernel refused as malformed. */
const EINVAL = constants.EINVAL;

/** Largest IP packet GRO may build (total length is a u16). */
const MAX_GRO_PACKET = 65535;

/** A device of the set as egress sees it. */
interface Target {
  readonly vnet: boolean;
  readonly gro: boolean;
  readonly groOptions: { tcp: boolean; udp: boolean; checksumsValid: Uint8Array };
  readonly fds: readonly number[];
  readonly attached: readonly Int32Array[];
}

/** The egress view of a device description (its fds are used, never owned). */
function targetOf(p: PeerDevice, valid: Uint8Array): Target {
  return {
    vnet: p.vnetHdr,
    gro: p.vnetHdr && (p.tcpGso || p.udpGso),
    groOptions: { tcp: p.tcpGso, udp: p.udpGso, checksumsValid: valid },
    fds: p.fds,
    attached: p.controls.map((c) => new Int32Array(c)),
  };
}

/** The fd of `t` for worker queue `queue`: the same queue index when attached, else any attached queue; -1 if none. */
function fdOf(t: Target, queue: number): number {
  const q = queue < t.fds.length ? queue : 0;
  if (Atomics.load(t.attached[q]!, ATTACHED) === 1) return t.fds[q]!;
  for (let i = 0; i < t.fds.length; i++) if (Atomics.load(t.attached[i]!, ATTACHED) === 1) return t.fds[i]!;
  return -1;
}

/** Writes packets from ring slots to devices; one per worker. */
export class Egress {
  private readonly targets: Target[];
  /** The RX redirect target (another set's device), or null. */
  private redirect: Target | null = null;
  private readonly st: Float64Array;
  private readonly sb: number;
  private readonly queue: number;
  private readonly table = new GroTable();
  private readonly windows = new ViewWindows();
  private readonly lenWindows = new Int32Windows(IDEAL_BATCH_SIZE);
  /** Per GRO input: non-zero when its slot has SLOT_CSUM_VALID (handleGro's checksumsValid). */
  private readonly valid = new Uint8Array(IDEAL_BATCH_SIZE);
  private readonly hdr = createVirtioNetHdr();
  /** Per (ring, slot): a view of exactly the packet, reused while the length stays. */
  private readonly exact = new Map<SlotRing, Array<Uint8Array | undefined>>();
  private staging: Uint8Array[] | undefined;
  private segments: Uint8Array[] | undefined;
  private segmentCapacity = 0;
  private readonly segmentSizes = new Int32Array(IDEAL_BATCH_SIZE * 2);

  /** Egress for the worker of `queue`, counting into its stats block. */
  constructor(peers: readonly PeerDevice[], st: Float64Array, sb: number, queue: number) {
    this.targets = peers.map((p) => targetOf(p, this.valid));
    this.st = st;
    this.sb = sb;
    this.queue = queue;
  }

  /** The fd to use for device `d`: the same queue index when attached, else any attached queue; -1 if none. */
  fdFor(d: number): number {
    return fdOf(this.targets[d]!, this.queue);
  }

  /** Sets (a device description) or clears (null) the RX redirect target; the caller owns the lifetime of its fds. */
  setRedirect(peer: PeerDevice | null): void {
    this.redirect = peer === null ? null : targetOf(peer, this.valid);
  }

  /** True while an RX redirect target is set. */
  get redirecting(): boolean {
    return this.redirect !== null;
  }

  /** Writes `slots[0, count)` of `ring` out of the redirect target (what would have been passed to the main thread). */
  sendRedirect(ring: SlotRing, slots: Int32Array, count: number): void {
    const t = this.redirect!;
    const fd = fdOf(t, this.queue);
    if (fd < 0) {
      this.st[this.sb + Stat.txErrors] += count;
      return;
    }
    this.write(t, fd, ring, slots, count);
  }

  /** Writes `slots[0, count)` of `ring` out of device `d` (FORWARD / TX verdicts). */
  send(d: number, ring: SlotRing, slots: Int32Array, count: number): void {
    const fd = this.fdFor(d);
    if (fd < 0) {
      this.st[this.sb + Stat.txErrors] += count;
      return;
    }
    this.write(this.targets[d]!, fd, ring, slots, count);
  }

  /** Writes `slots[0, count)` of `ring` out of `fd`, a queue of device `d` (the worker's own TX ring). */
  sendOwn(d: number, fd: number, ring: SlotRing, slots: Int32Array, count: number): void {
    this.write(this.targets[d]!, fd, ring, slots, count);
  }

  private write(t: Target, fd: number, ring: SlotRing, slots: Int32Array, count: number): void {
    if (!t.vnet) {
      for (let i = 0; i < count; i++) this.writePlain(fd, ring, slots[i]!);
      return;
    }
    if (t.gro) {
      // A plain packet whose checksum is only partial (keep mode: what the kernel
      // hands out with NEEDS_CSUM) can join GRO once its checksum is complete.
      for (let k = 0; k < count; k++) if (carriesHeader(ring, slots[k]!)) this.settleChecksum(ring, slots[k]!);
    }
    let i = 0;
    while (i < count) {
      const s = slots[i]!;
      if (carriesHeader(ring, s)) {
        this.writeFrame(fd, ring.frames[s]!, ring.lengths[s]!);
        i++;
        continue;
      }
      let j = i + 1;
      while (j < count && !carriesHeader(ring, slots[j]!)) j++;
      if (t.gro && j - i >= 2) {
        this.coalesce(t, fd, ring, slots, i, j);
      } else {
        for (let k = i; k < j; k++) {
          const slot = slots[k]!;
          ring.headers[slot]!.fill(0);
          this.writeFrame(fd, ring.frames[slot]!, ring.lengths[slot]!);
        }
      }
      i = j;
    }
  }

  /**
   * If slot `s` carries a header that asks only for a checksum (GSO_NONE,
   * NEEDS_CSUM), completes the checksum and drops the header, so the packet is
   * an ordinary segment GRO may coalesce. Superpackets are left alone.
   */
  private settleChecksum(ring: SlotRing, s: number): void {
    const h = ring.headers[s]!;
    if (h[1] !== VIRTIO_NET_HDR_GSO_NONE || (h[0]! & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) !== 0) return;
    if ((h[0]! & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) {
      try {
        completeChecksum(ring.packets[s]!, decodeVirtioNetHdr(h, this.hdr), 0, ring.lengths[s]!);
      } catch {
        return; // leave it to the kernel, header and all
      }
    }
    h.fill(0);
    ring.meta[s] = 0;
  }

  /** GRO over the header-less run `slots[from, to)`, then one write per result. */
  private coalesce(t: Target, fd: number, ring: SlotRing, slots: Int32Array, from: number, to: number): void {
    const inPlace = ring.packetCapacity >= MAX_GRO_PACKET;
    for (let start = from; start < to; start += IDEAL_BATCH_SIZE) {
      const n = Math.min(IDEAL_BATCH_SIZE, to - start);
      const bufs = this.windows.get(n);
      const lens = this.lenWindows.get(n);
      const valid = this.valid;
      if (inPlace) {
        for (let k = 0; k < n; k++) {
          const s = slots[start + k]!;
          bufs[k] = ring.frames[s]!;
          lens[k] = ring.lengths[s]!;
          valid[k] = ring.meta[s]! & SLOT_CSUM_VALID;
        }
      } else {
        const staging = this.stagingBuffers();
        for (let k = 0; k < n; k++) {
          const s = slots[start + k]!;
          const len = ring.lengths[s]!;
          staging[k]!.set(this.exactView(ring, s, len), VIRTIO_NET_HDR_LEN);
          bufs[k] = staging[k]!;
          lens[k] = len;
          valid[k] = ring.meta[s]! & SLOT_CSUM_VALID;
        }
      }
      const order = handleGro(bufs, lens, VIRTIO_NET_HDR_LEN, this.table, t.groOptions);
      for (let k = 0; k < order.length; k++) {
        const idx = order[k]!;
        this.writeFrame(fd, bufs[idx]!, lens[idx]!);
      }
      this.st[this.sb + Stat.groMerged] += n - order.length;
    }
  }

  /** To a device without a virtio header: split or checksum what carries one, then write the bare packet. */
  private writePlain(fd: number, ring: SlotRing, s: number): void {
    const len = ring.lengths[s]!;
    if ((ring.meta[s]! & SLOT_VNET_HDR) === 0) {
      this.writePacket(fd, ring.packets[s]!, len);
      return;
    }
    const hdr = decodeVirtioNetHdr(ring.headers[s]!, this.hdr);
    if (hdr.gsoType !== VIRTIO_NET_HDR_GSO_NONE) {
      this.splitOut(fd, ring, s, len);
      return;
    }
    if ((hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) {
      try {
        completeChecksum(ring.packets[s]!, hdr, 0, len);
      } catch {
        this.st[this.sb + Stat.txErrors] += 1;
        this.st[this.sb + Stat.txMalformed] += 1;
        return;
      }
    }
    this.writePacket(fd, ring.packets[s]!, len);
  }

  /** Splits the superpacket in slot `s` into segments and writes each. */
  private splitOut(fd: number, ring: SlotRing, s: number, len: number): void {
    const hdr = this.hdr;
    const segCap = VIRTIO_NET_HDR_LEN + Math.min(MAX_GRO_PACKET, Math.max(hdr.gsoSize + 128, 1600));
    const bufs = this.segmentBuffers(segCap);
    const sizes = this.segmentSizes;
    let count: number;
    try {
      count = splitGso(this.exactView(ring, s, len), hdr, bufs, sizes, VIRTIO_NET_HDR_LEN);
    } catch {
      this.st[this.sb + Stat.txErrors] += 1;
      this.st[this.sb + Stat.txMalformed] += 1;
      return;
    }
    this.st[this.sb + Stat.gsoSplit] += 1;
    // Segments sit at VIRTIO_NET_HDR_LEN in their buffers; the target takes bare packets.
    const packets = this.segmentPacketViews!;
    for (let i = 0; i < count; i++) this.writePacket(fd, packets[i]!, sizes[i]!);
  }

  private writeFrame(fd: number, frame: Uint8Array, len: number): void {
    const r = sys.write(fd, frame, VIRTIO_NET_HDR_LEN + len);
    this.account(r, len);
  }

  private writePacket(fd: number, packet: Uint8Array, len: number): void {
    const r = sys.write(fd, packet, len);
    this.account(r, len);
  }

  private account(r: number, len: number): void {
    if (r < 0) {
      if (errno() === EINVAL) this.st[this.sb + Stat.txMalformed] += 1;
      this.st[this.sb + Stat.txErrors] += 1;
      return;
    }
    this.st[this.sb + Stat.txPackets] += 1;
    this.st[this.sb + Stat.txBytes] += len;
  }

  /** A view of exactly `ring` slot `s`'s packet (`len` bytes), cached per slot. */
  private exactView(ring: SlotRing, s: number, len: number): Uint8Array {
    let cache = this.exact.get(ring);
    if (cache === undefined) {
      cache = new Array<Uint8Array | undefined>(ring.slots);
      this.exact.set(ring, cache);
    }
    let v = cache[s];
    if (v === undefined || v.length !== len) {
      v = new Uint8Array(ring.buffer, ring.packetOffset(s), len);
      cache[s] = v;
    }
    return v;
  }

  private stagingBuffers(): Uint8Array[] {
    if (this.staging === undefined) {
      const stride = slotStride(MAX_GRO_PACKET + 1);
      const backing = new ArrayBuffer(stride * IDEAL_BATCH_SIZE);
      this.staging = [];
      for (let i = 0; i < IDEAL_BATCH_SIZE; i++) {
        this.staging.push(new Uint8Array(backing, i * stride, VIRTIO_NET_HDR_LEN + MAX_GRO_PACKET + 1));
      }
    }
    return this.staging;
  }

  private segmentPacketViews: Uint8Array[] | undefined;

  private segmentBuffers(capacity: number): Uint8Array[] {
    if (this.segments === undefined || this.segmentCapacity < capacity) {
      const n = this.segmentSizes.length;
      const stride = slotStride(capacity - VIRTIO_NET_HDR_LEN);
      const backing = new ArrayBuffer(stride * n);
      this.segments = [];
      this.segmentPacketViews = [];
      for (let i = 0; i < n; i++) {
        this.segments.push(new Uint8Array(backing, i * stride, capacity));
        this.segmentPacketViews.push(new Uint8Array(backing, i * stride + VIRTIO_NET_HDR_LEN, capacity - VIRTIO_NET_HDR_LEN));
      }
      this.segmentCapacity = capacity;
    }
    return this.segments;
  }
}

/** True when slot `s` holds a virtio header that says something (GSO or checksum work). */
function carriesHeader(ring: SlotRing, s: number): boolean {
  if ((ring.meta[s]! & SLOT_VNET_HDR) === 0) return false;
  const h = ring.headers[s]!;
  return h[0] !== 0 || h[1] !== 0;
}
