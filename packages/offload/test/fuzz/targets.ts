/**
 * The fuzz entry points. Each builds one input from its generator (a mutated
 * seed, or random bytes), calls the code under test, and checks:
 * - only TunError is thrown, with one of the codes documented for that entry;
 * - nothing is written outside the given buffers (canary guards), and inputs
 *   that must not change do not;
 * - what succeeds is consistent (segments parse and their checksums verify,
 *   GRO indices are unique, ordered and in range, view getters stay inside the
 *   packet).
 * Hangs are caught by the supervisor's watchdog, not here.
 */
import {
  completeChecksum,
  decodeVirtioNetHdr,
  EthernetFrame,
  GroTable,
  handleGro,
  handleVirtioRead,
  Icmpv4Message,
  Icmpv6Message,
  IpProtocol,
  Ipv4Packet,
  Ipv6Packet,
  onesComplementSum,
  splitGso,
  TcpSegment,
  UdpDatagram,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_LEN,
  type VirtioNetHdr,
} from '../../src/index.js';
import { GuardedBuffers } from '../support/guarded-buffers.js';
import { naiveSum } from '../support/naive-checksum.js';
import { INTERESTING_U16, mutateBytes, mutateVirtioHeader } from './mutate.js';
import { invariant, type Prng, type FuzzTarget as SuiteTarget } from '@tunpipe/testkit';
import type { Corpus } from './seeds.js';

/** One offload entry point: a testkit fuzz target over the offload corpus. */
export type FuzzTarget = SuiteTarget<Corpus>;

const READ_CODES = ['ERR_TUN_BAD_VIRTIO_HDR', 'ERR_TUN_BAD_TCP_HEADER', 'ERR_TUN_MALFORMED_PACKET', 'ERR_TUN_TOO_MANY_SEGMENTS', 'ERR_TUN_BUFFER_TOO_SMALL'];
const VIEW_CODES = ['ERR_TUN_MALFORMED_PACKET', 'ERR_TUN_INVALID_ARGUMENT'];

/** A read: a mutated seed read, a seed read with its header rewritten, or random bytes. */
function generateRead(rng: Prng, corpus: Corpus): Uint8Array {
  const seed = rng.pick(corpus.reads);
  switch (rng.int(8)) {
    case 0:
      return rng.bytes(rng.int(200));
    case 1:
    case 2:
      return mutateVirtioHeader(rng, seed);
    case 3:
      return mutateVirtioHeader(rng, mutateBytes(rng, seed, corpus.reads, VIRTIO_NET_HDR_LEN));
    default:
      return mutateBytes(rng, seed, corpus.reads, VIRTIO_NET_HDR_LEN);
  }
}

/** Output buffers with random count and capacities (sometimes too few or too small). */
function generateOutputs(rng: Prng): { out: GuardedBuffers; sizes: Int32Array | number[]; offset: number } {
  let capacities: number[];
  if (rng.chance(0.1)) capacities = Array.from({ length: rng.int(3) }, () => rng.range(0, 66_000));
  else if (rng.chance(0.3)) capacities = Array.from({ length: rng.range(1, 6) }, () => rng.range(0, 66_000));
  else capacities = Array.from({ length: rng.range(1, 70) }, () => rng.range(0, 1_700));
  const count = capacities.length;
  const out = new GuardedBuffers(capacities, 8, rng.chance(0.3));
  const sizesLength = rng.chance(0.9) ? count : rng.int(count + 1);
  const sizes = rng.chance(0.5) ? new Int32Array(sizesLength) : new Array<number>(sizesLength).fill(0);
  return { out, sizes, offset: rng.chance(0.5) ? 0 : rng.range(0, 20) };
}

/** Byte equality through Buffer (native compare). */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const ZEROS = new Uint8Array(70_000);

/** True when every buffer is still all zero (GuardedBuffers start zeroed). */
function allZero(bufs: readonly Uint8Array[]): boolean {
  return bufs.every((b) => equalBytes(b, ZEROS.subarray(0, b.length)));
}

/** Reused output for re-splitting coalesced packets (allocated once). */
let resplitBufs: Uint8Array[] | undefined;

/** Checks that `segments` (from a successful read of `read`) are consistent. */
function checkSegments(read: Uint8Array, hdr: VirtioNetHdr, bufs: readonly Uint8Array[], sizes: Int32Array | number[], offset: number, n: number): void {
  invariant(n >= 1 && n <= Math.min(bufs.length, sizes.length), `count ${n} outside 1..room`);
  for (let i = 0; i < n; i++) invariant(Number.isInteger(sizes[i]) && sizes[i] >= 0 && offset + sizes[i] <= bufs[i].length, `size ${sizes[i]} of segment ${i}`);
  if (hdr.gsoType === VIRTIO_NET_HDR_GSO_NONE) {
    invariant(n === 1 && sizes[0] === read.length - VIRTIO_NET_HDR_LEN, 'GSO_NONE yields the packet');
    return;
  }
  // Every segment of a superpacket is a valid IP packet with valid checksums.
  let payloadTotal = 0;
  for (let i = 0; i < n; i++) {
    const seg = bufs[i].subarray(offset, offset + sizes[i]);
    const v6 = seg[0] >> 4 === 6;
    let l4: number;
    let pseudo: number;
    const protocol = hdr.gsoType === 5 ? IpProtocol.UDP : IpProtocol.TCP;
    if (v6) {
      const ip = new Ipv6Packet(seg);
      invariant(ip.length === seg.length, `segment ${i}: IPv6 payload length`);
      const upper = ip.upperLayer();
      invariant(upper !== undefined && upper.protocol === protocol, `segment ${i}: upper layer`);
      l4 = upper.offset;
      pseudo = ip.pseudoHeaderSum(protocol, seg.length - l4);
    } else {
      const ip = new Ipv4Packet(seg);
      invariant(ip.totalLength === seg.length && ip.verifyChecksum(), `segment ${i}: IPv4 header`);
      invariant(ip.protocol === protocol, `segment ${i}: protocol`);
      l4 = ip.headerLength;
      pseudo = ip.pseudoHeaderSum();
    }
    if (protocol === IpProtocol.TCP) {
      const tcp = new TcpSegment(seg, l4, seg.length - l4);
      invariant(tcp.verifyChecksum(pseudo), `segment ${i}: TCP checksum`);
      invariant(tcp.payload.length <= hdr.gsoSize, `segment ${i}: payload above gso_size`);
      payloadTotal += tcp.payload.length;
    } else {
      const udp = new UdpDatagram(seg, l4, seg.length - l4);
      invariant(udp.length === seg.length - l4 && udp.verifyChecksum(pseudo), `segment ${i}: UDP`);
      invariant(udp.payload.length <= hdr.gsoSize, `segment ${i}: payload above gso_size`);
      payloadTotal += udp.payload.length;
    }
    if (i < n - 1) invariant(seg.length === sizes[0], `segment ${i}: only the last may be short`);
  }
  const headers = sizes[0] - Math.min(hdr.gsoSize, payloadTotal);
  invariant(payloadTotal === read.length - VIRTIO_NET_HDR_LEN - headers, 'payload bytes are conserved');
}

const virtioRead: FuzzTarget = {
  name: 'handleVirtioRead',
  codes: READ_CODES,
  run(rng, corpus, input) {
    const read = generateRead(rng, corpus);
    input.bytes = read;
    const before = read.slice();
    const { out, sizes, offset } = generateOutputs(rng);
    let n: number;
    try {
      n = handleVirtioRead(read, out.bufs, sizes, offset);
    } catch (e) {
      invariant(out.intact(), 'guards overwritten before an error');
      invariant(allZero(out.bufs), 'output written before an error');
      throw e;
    } finally {
      invariant(equalBytes(read, before), 'input modified');
    }
    invariant(out.intact(), 'guards overwritten');
    checkSegments(read, decodeVirtioNetHdr(read), out.bufs, sizes, offset, n);
  },
};

const splitGsoTarget: FuzzTarget = {
  name: 'splitGso',
  codes: READ_CODES,
  run(rng, corpus, input) {
    const read = generateRead(rng, corpus);
    if (read.length < VIRTIO_NET_HDR_LEN) return;
    input.bytes = read;
    const hdr = decodeVirtioNetHdr(read);
    if (rng.chance(0.3)) hdr.gsoSize = rng.pick(INTERESTING_U16);
    if (rng.chance(0.2)) hdr.csumStart = rng.int(read.length);
    const packet = read.subarray(VIRTIO_NET_HDR_LEN);
    const { out, sizes, offset } = generateOutputs(rng);
    const before = read.slice();
    let n: number;
    try {
      n = splitGso(packet, hdr, out.bufs, sizes, offset);
    } catch (e) {
      invariant(allZero(out.bufs), 'output written before an error');
      throw e;
    } finally {
      invariant(out.intact(), 'guards overwritten');
      invariant(equalBytes(read, before), 'input modified');
    }
    checkSegments(read, hdr, out.bufs, sizes, offset, n);
  },
};

const groTarget: FuzzTarget = {
  name: 'handleGro',
  codes: [],
  run(rng, corpus, input) {
    // A batch: seed batches, shuffled, mutated, with extra and random packets.
    let batch: Uint8Array[] = rng.pick(corpus.batches).map((p) => p.slice());
    if (rng.chance(0.3)) batch = batch.concat(rng.pick(corpus.batches).map((p) => p.slice()));
    if (rng.chance(0.3)) {
      for (let i = batch.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [batch[i], batch[j]] = [batch[j], batch[i]];
      }
    }
    const mutations = rng.int(4);
    for (let m = 0; m < mutations && batch.length > 0; m++) {
      const k = rng.int(batch.length);
      batch[k] = mutateBytes(rng, batch[k], corpus.packets);
    }
    if (rng.chance(0.2)) batch.push(rng.bytes(rng.int(120)));
    if (rng.chance(0.2) && batch.length > 0) batch.push(batch[rng.int(batch.length)].slice());
    if (rng.chance(0.1)) batch = batch.slice(0, rng.int(batch.length + 1));
    input.batch = batch;
    const offset = rng.range(VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_LEN + 12);
    const capacities = batch.map((p) => offset + p.length + (rng.chance(0.5) ? rng.int(200) : rng.chance(0.9) ? rng.int(8_000) : rng.int(70_000)));
    const out = new GuardedBuffers(capacities, 8, rng.chance(0.3));
    batch.forEach((p, i) => {
      out.bufs[i].fill(0x5a, 0, offset);
      out.bufs[i].set(p, offset);
    });
    const lengths = rng.chance(0.5) ? Int32Array.from(batch, (p) => p.length) : batch.map((p) => p.length);
    const udp = rng.chance(0.6);
    const tcp = rng.chance(0.9);
    // Sometimes the caller vouches for some checksums (as for its own split segments): GRO skips verifying those.
    const checksumsValid = rng.chance(0.3) ? Uint8Array.from(batch, () => rng.int(2)) : undefined;
    const written = handleGro(out.bufs, lengths, offset, new GroTable(rng.range(1, 200)), { udp, tcp, checksumsValid });
    invariant(out.intact(), 'guards overwritten');
    for (let i = 0; i < batch.length; i++) {
      for (let k = 0; k < offset - VIRTIO_NET_HDR_LEN; k++) invariant(out.bufs[i][k] === 0x5a, `bytes before the virtio header of ${i} changed`);
    }
    for (let k = 0; k < written.length; k++) {
      const i = written[k];
      invariant(Number.isInteger(i) && i >= 0 && i < batch.length, `index ${i} out of range`);
      invariant(k === 0 || i > written[k - 1], `index ${i} repeated or out of order`);
      invariant(lengths[i] >= batch[i].length && offset + lengths[i] <= out.bufs[i].length, `length of ${i}`);
      const hdr = decodeVirtioNetHdr(out.bufs[i], undefined, offset - VIRTIO_NET_HDR_LEN);
      const read = out.bufs[i].subarray(offset - VIRTIO_NET_HDR_LEN, offset + lengths[i]);
      if (hdr.gsoType === VIRTIO_NET_HDR_GSO_NONE) {
        invariant(hdr.flags === 0 && hdr.hdrLen === 0 && hdr.gsoSize === 0 && hdr.csumStart === 0 && hdr.csumOffset === 0, `header of ${i} not zeroed`);
        invariant(lengths[i] === batch[i].length, `uncoalesced ${i} changed length`);
        continue;
      }
      // A coalesced packet must split cleanly into valid segments.
      resplitBufs ??= Array.from({ length: 200 }, () => new Uint8Array(66_000));
      const sizes = new Int32Array(200);
      const n = handleVirtioRead(read, resplitBufs, sizes, 0);
      checkSegments(read, hdr, resplitBufs, sizes, 0, n);
    }
    if (batch.length > 0) invariant(written[0] === 0, 'the first packet is always written');
  },
};

/** Wraps `bytes` so that every indexed read is recorded (reads outside the packet are violations). */
function tracked(bytes: Uint8Array, reads: { min: number; max: number }): Uint8Array {
  return new Proxy(bytes, {
    get(target, prop) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) {
        const i = Number(prop);
        if (i < reads.min) reads.min = i;
        if (i > reads.max) reads.max = i;
        return target[i];
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

type ViewConstructor = new (bytes: Uint8Array, offset?: number, length?: number) => object;

/** A target for one wire view: construct from (mutated bytes, offset, length), then call every getter. */
function viewTarget(name: string, View: ViewConstructor, l4Offsets: readonly number[]): FuzzTarget {
  return {
    name,
    codes: VIEW_CODES,
    run(rng, corpus, input) {
      const seed = rng.pick(corpus.packets);
      const bytes: Uint8Array = rng.chance(0.15) ? rng.bytes(rng.int(80)) : rng.chance(0.2) ? seed.slice() : mutateBytes(rng, seed, corpus.packets);
      input.bytes = bytes;
      let offset = rng.chance(0.6) ? 0 : rng.pick(l4Offsets);
      let length = bytes.length - offset;
      if (rng.chance(0.2)) length = rng.int(Math.max(0, bytes.length - offset) + 1);
      if (rng.chance(0.05)) offset = rng.range(-2, bytes.length + 2);
      if (rng.chance(0.05)) length = rng.range(-2, bytes.length + 10);
      input.note = `offset ${offset}, length ${length}`;
      const reads = { min: Infinity, max: -Infinity };
      const view = new View(tracked(bytes, reads), offset, length) as Record<string, unknown>;
      // Construction succeeded: every getter and checker must work and stay inside the packet.
      reads.min = Infinity;
      reads.max = -Infinity;
      const proto = Object.getPrototypeOf(view) as object;
      for (const key of Object.getOwnPropertyNames(proto)) {
        const desc = Object.getOwnPropertyDescriptor(proto, key)!;
        let value: unknown;
        if (desc.get) value = desc.get.call(view);
        else if (typeof desc.value === 'function' && /^(verify|upperLayer|pseudoHeaderSum)/.test(key)) {
          value = key === 'pseudoHeaderSum' && View === Ipv6Packet ? (view[key] as (a: number, b: number) => unknown)(6, 20) : (view[key] as (a?: number) => unknown)(0);
        } else continue;
        if (typeof value === 'number') invariant(Number.isFinite(value) && value >= 0, `${name}.${key} = ${value}`);
        if (value instanceof Uint8Array) {
          const start = value.byteOffset - bytes.byteOffset;
          invariant(start >= offset && start + value.length <= offset + length, `${name}.${key} runs outside the packet`);
        }
      }
      if (reads.max >= 0) invariant(reads.min >= offset && reads.max < offset + length, `${name} read index ${reads.min}..${reads.max} outside ${offset}..${offset + length}`);
    },
  };
}

const completeChecksumTarget: FuzzTarget = {
  name: 'completeChecksum',
  codes: ['ERR_TUN_BAD_VIRTIO_HDR', 'ERR_TUN_INVALID_ARGUMENT'],
  run(rng, corpus, input) {
    const read = generateRead(rng, corpus);
    if (read.length < VIRTIO_NET_HDR_LEN) return;
    input.bytes = read;
    const hdr = decodeVirtioNetHdr(read);
    const backing = new GuardedBuffers([read.length], 16);
    const frame = backing.bufs[0];
    frame.set(read);
    const length = rng.chance(0.8) ? read.length - VIRTIO_NET_HDR_LEN : rng.range(0, read.length);
    completeChecksum(frame, hdr, VIRTIO_NET_HDR_LEN, length);
    invariant(backing.intact(), 'guards overwritten');
    invariant(frame.subarray(0, VIRTIO_NET_HDR_LEN).every((b, i) => b === read[i]), 'bytes before the packet changed');
    if (hdr.flags & 1) {
      // The field held the partial (pseudo-header) sum; with it, the region now verifies.
      // (Only for an even csum_offset: an odd one pairs the field's bytes across
      // two words, where no stored value can make the sum verify; real protocols
      // never do that.)
      const at = VIRTIO_NET_HDR_LEN + hdr.csumStart + hdr.csumOffset;
      const partial = (read[at] << 8) | read[at + 1];
      const sum = naiveSum(frame, VIRTIO_NET_HDR_LEN + hdr.csumStart, VIRTIO_NET_HDR_LEN + length);
      let total = sum + partial;
      if (total > 0xffff) total = (total & 0xffff) + 1;
      invariant((hdr.csumOffset & 1) === 1 || total === 0xffff, 'the completed checksum does not verify');
      invariant(onesComplementSum(frame, VIRTIO_NET_HDR_LEN + hdr.csumStart, VIRTIO_NET_HDR_LEN + length) === sum, 'fast and naive sums differ');
    } else {
      invariant(equalBytes(frame, read), 'changed without NEEDS_CSUM');
    }
  },
};

/** Every entry point, in a stable order. */
export const TARGETS: readonly FuzzTarget[] = [
  virtioRead,
  splitGsoTarget,
  groTarget,
  completeChecksumTarget,
  viewTarget('Ipv4Packet', Ipv4Packet, [0, 2, 14]),
  viewTarget('Ipv6Packet', Ipv6Packet, [0, 2, 14]),
  viewTarget('TcpSegment', TcpSegment, [20, 24, 40]),
  viewTarget('UdpDatagram', UdpDatagram, [20, 40, 48]),
  viewTarget('Icmpv4Message', Icmpv4Message, [20, 24]),
  viewTarget('Icmpv6Message', Icmpv6Message, [40, 48]),
  viewTarget('EthernetFrame', EthernetFrame, [0, 2]),
];

/**
 * A target that never returns: only for checking that the supervisor's watchdog
 * turns a hang into a reported failure. Not in {@link TARGETS}.
 */
export const HANG_SELF_TEST: FuzzTarget = {
  name: 'selftest-hang',
  codes: [],
  run(rng) {
    let x = rng.next();
    for (;;) x = (x * 1103515245 + 12345) | 0;
  },
};
