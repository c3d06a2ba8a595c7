/**
 * Properties over random superpackets and batches (fast-check):
 * - split then coalesce gives back the original segments, payload bytes and
 *   valid checksums included;
 * - GRO told that the split's checksums are valid (checksumsValid) writes the
 *   same bytes as GRO verifying them;
 * - every segment a split emits parses with the checked wire views and its
 *   checksums verify;
 * - GRO never returns an index twice, out of order or out of range, and every
 *   packet it returns carries a header that splits cleanly;
 * - the fast sum equals the RFC 1071 reference on random ranges.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  decodeVirtioNetHdr,
  GroTable,
  handleGro,
  handleVirtioRead,
  IpProtocol,
  Ipv4Packet,
  Ipv6Packet,
  onesComplementSum,
  TcpFlag,
  TcpSegment,
  UdpDatagram,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_LEN,
} from '../src/index.js';
import { naiveSum } from './support/naive-checksum.js';
import { expectedSegments, virtioRead, type SuperpacketSpec } from './support/superpackets.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
const MAX_SEGMENTS = 128;

/** Random superpacket specs; `coalescible` restricts TCP flags to what GRO merges. */
function arbSpec(coalescible: boolean): fc.Arbitrary<SuperpacketSpec> {
  return fc
    .record({
      family: fc.constantFrom(4 as const, 6 as const),
      protocol: fc.constantFrom('tcp' as const, 'udp' as const),
      payloadLength: fc.integer({ min: 1, max: 20_000 }),
      gsoSize: fc.integer({ min: 1, max: 9000 }),
      seq: fc.nat({ max: 0xffffffff }),
      ack: fc.nat({ max: 0xffffffff }),
      id: fc.nat({ max: 0xffff }),
      ttl: fc.integer({ min: 1, max: 255 }),
      tos: fc.nat({ max: 255 }),
      df: fc.boolean(),
      optionWords: fc.nat({ max: 10 }),
      extension: fc.boolean(),
      flags: coalescible
        ? fc.constantFrom(TcpFlag.ACK, TcpFlag.ACK | TcpFlag.PSH)
        : fc.nat({ max: 255 }).map((f) => f | TcpFlag.ACK),
      seed: fc.nat({ max: 255 }),
    })
    .map((r): SuperpacketSpec => {
      // Keep the segment count within the batch size and the IP length within 65535.
      const payloadLength = Math.min(r.payloadLength, 65_535 - 40 - 60 - 8 - 16);
      const gsoSize = Math.max(r.gsoSize, Math.ceil(payloadLength / MAX_SEGMENTS));
      const payload = new Uint8Array(payloadLength);
      for (let i = 0; i < payloadLength; i++) payload[i] = (r.seed + i * 31 + (i >> 7)) & 0xff;
      return {
        family: r.family,
        protocol: r.protocol,
        payload,
        gsoSize,
        seq: r.seq,
        ack: r.ack,
        flags: r.flags,
        tcpOptions: new Uint8Array(r.optionWords * 4).fill(1), // NOPs
        ip: {
          id: r.id,
          ttl: r.ttl,
          tos: r.tos,
          df: r.df,
          // GRO does not take IPv6 extension headers: only for split-only properties.
          extensionHeaders: !coalescible && r.family === 6 && r.extension ? [{ type: IpProtocol.DSTOPTS, data: new Uint8Array(6) }] : [],
        },
      };
    });
}

function split(read: Uint8Array, offset = 0): Uint8Array[] {
  const bufs = Array.from({ length: MAX_SEGMENTS }, () => new Uint8Array(offset + 66_000));
  const sizes = new Int32Array(MAX_SEGMENTS);
  const n = handleVirtioRead(read, bufs, sizes, offset);
  return bufs.slice(0, n).map((b, i) => b.subarray(offset, offset + sizes[i]));
}

t.test('split then coalesce gives back the original segments', async (t) => {
  fc.assert(
    fc.property(arbSpec(true), fc.boolean(), (spec, udpGro) => {
      const segments = split(virtioRead(spec));
      // Into GRO buffers with room for any coalesced packet.
      const bufs = segments.map((s) => {
        const b = new Uint8Array(VIRTIO_NET_HDR_LEN + 65_536);
        b.set(s, VIRTIO_NET_HDR_LEN);
        return b;
      });
      const lengths = segments.map((s) => s.length);
      const written = handleGro(bufs, lengths, VIRTIO_NET_HDR_LEN, new GroTable(), { udp: udpGro });
      // Every written packet, split again (GSO_NONE ones pass through), in order.
      const again: Uint8Array[] = [];
      for (const i of written) {
        const read = bufs[i].subarray(0, VIRTIO_NET_HDR_LEN + lengths[i]);
        const hdr = decodeVirtioNetHdr(read);
        if (spec.protocol === 'tcp' || udpGro) {
          if (segments.length > 1 && i === written[0]) {
            if (hdr.gsoType === VIRTIO_NET_HDR_GSO_NONE) throw new Error('a run of in-order segments was not coalesced');
          }
        }
        again.push(...split(read).map((s) => s.slice()));
      }
      if (again.length !== segments.length) throw new Error(`${again.length} segments after GRO, ${segments.length} before`);
      segments.forEach((s, k) => {
        if (!sameBytes(s, again[k])) throw new Error(`segment ${k} differs after split, GRO and split`);
      });
      if (!sameBytes(concat(again.map(payloadOf)), spec.payload)) throw new Error('payload bytes differ');
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} superpackets split, coalesced and split again`);
});

t.test('GRO trusting the split\'s checksums (checksumsValid) writes exactly what verifying them writes', async (t) => {
  fc.assert(
    fc.property(arbSpec(true), fc.boolean(), (spec, udpGro) => {
      const segments = split(virtioRead(spec));
      const fill = (): Uint8Array[] =>
        segments.map((s) => {
          const b = new Uint8Array(VIRTIO_NET_HDR_LEN + 65_536);
          b.set(s, VIRTIO_NET_HDR_LEN);
          return b;
        });
      const verified = fill();
      const trusted = fill();
      const lengthsV = segments.map((s) => s.length);
      const lengthsT = segments.map((s) => s.length);
      const writtenV = [...handleGro(verified, lengthsV, VIRTIO_NET_HDR_LEN, new GroTable(), { udp: udpGro })];
      const valid = new Uint8Array(segments.length).fill(1);
      const writtenT = [...handleGro(trusted, lengthsT, VIRTIO_NET_HDR_LEN, new GroTable(), { udp: udpGro, checksumsValid: valid })];
      if (writtenV.join() !== writtenT.join()) throw new Error(`indices ${writtenT.join()} trusted, ${writtenV.join()} verified`);
      for (const i of writtenV) {
        if (lengthsV[i] !== lengthsT[i]) throw new Error(`packet ${i}: length ${lengthsT[i]} trusted, ${lengthsV[i]} verified`);
        const end = VIRTIO_NET_HDR_LEN + lengthsV[i];
        if (!sameBytes(verified[i].subarray(0, end), trusted[i].subarray(0, end))) throw new Error(`packet ${i}: bytes differ`);
      }
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} superpackets split and coalesced both ways`);
});

t.test('every segment a split emits parses and its checksums verify', async (t) => {
  fc.assert(
    fc.property(arbSpec(false), fc.integer({ min: 0, max: 12 }), (spec, offset) => {
      const segments = split(virtioRead(spec), offset);
      const expected = expectedSegments(spec);
      if (segments.length !== expected.length) throw new Error('segment count');
      segments.forEach((seg, i) => {
        let l4: number;
        let pseudo: (proto: number, len: number) => number;
        if (spec.family === 4) {
          const ip = new Ipv4Packet(seg);
          if (!ip.verifyChecksum() || ip.totalLength !== seg.length) throw new Error(`segment ${i}: IPv4 header`);
          l4 = ip.headerLength;
          pseudo = (_p, len) => ip.pseudoHeaderSum(len);
        } else {
          const ip = new Ipv6Packet(seg);
          if (ip.length !== seg.length) throw new Error(`segment ${i}: IPv6 payload length`);
          const upper = ip.upperLayer();
          if (!upper) throw new Error(`segment ${i}: extension headers`);
          l4 = upper.offset;
          pseudo = (p, len) => ip.pseudoHeaderSum(p, len);
        }
        const l4Len = seg.length - l4;
        if (spec.protocol === 'tcp') {
          const tcp = new TcpSegment(seg, l4, l4Len);
          if (!tcp.verifyChecksum(pseudo(IpProtocol.TCP, l4Len))) throw new Error(`segment ${i}: TCP checksum`);
          if (tcp.sequenceNumber !== ((spec.seq ?? 0) + i * spec.gsoSize) % 2 ** 32) throw new Error(`segment ${i}: sequence`);
          const last = i === segments.length - 1;
          if (!last && (tcp.fin || tcp.psh)) throw new Error(`segment ${i}: FIN/PSH before the last`);
          if (i > 0 && tcp.cwr) throw new Error(`segment ${i}: CWR after the first`);
        } else {
          const udp = new UdpDatagram(seg, l4, l4Len);
          if (udp.length !== l4Len || !udp.verifyChecksum(pseudo(IpProtocol.UDP, l4Len))) throw new Error(`segment ${i}: UDP`);
        }
        if (!sameBytes(seg, expected[i])) throw new Error(`segment ${i}: differs from the independently built one`);
      });
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} superpackets split and verified`);
});

/** A random batch: segments of a few flows, shuffled, some mutated, some duplicated. */
const arbBatch = fc
  .record({
    specs: fc.array(arbSpec(true), { minLength: 1, maxLength: 3 }),
    order: fc.array(fc.nat(), { maxLength: 200 }),
    mutations: fc.array(fc.record({ packet: fc.nat(), at: fc.nat(), value: fc.nat({ max: 255 }) }), { maxLength: 8 }),
    duplicates: fc.array(fc.nat(), { maxLength: 4 }),
    slack: fc.array(fc.nat({ max: 3000 }), { maxLength: 200 }),
    udp: fc.boolean(),
    tcp: fc.boolean(),
  })
  .map((r) => {
    let packets = r.specs.flatMap((s) => split(virtioRead(s)).map((p) => p.slice())).slice(0, 120);
    for (const d of r.duplicates) if (packets.length > 0) packets.push(packets[d % packets.length].slice());
    // Shuffle by sorting on random keys.
    const keyed = packets.map((p, i) => ({ p, k: r.order[i] ?? i }));
    keyed.sort((a, b) => a.k - b.k);
    packets = keyed.map((x) => x.p);
    for (const m of r.mutations) {
      if (packets.length === 0) break;
      const p = packets[m.packet % packets.length];
      p[m.at % p.length] = m.value;
    }
    return { packets, slack: r.slack, udp: r.udp, tcp: r.tcp };
  });

t.test('GRO never returns an index twice, out of order or out of range', async (t) => {
  fc.assert(
    fc.property(arbBatch, ({ packets, slack, udp, tcp }) => {
      const bufs = packets.map((p, i) => {
        const b = new Uint8Array(VIRTIO_NET_HDR_LEN + p.length + (slack[i] ?? 0));
        b.set(p, VIRTIO_NET_HDR_LEN);
        return b;
      });
      const lengths = packets.map((p) => p.length);
      const written = [...handleGro(bufs, lengths, VIRTIO_NET_HDR_LEN, new GroTable(), { udp, tcp })];
      for (let k = 0; k < written.length; k++) {
        const i = written[k];
        if (!Number.isInteger(i) || i < 0 || i >= packets.length) throw new Error(`index ${i} out of range`);
        if (k > 0 && i <= written[k - 1]) throw new Error(`index ${i} repeated or out of order`);
        if (VIRTIO_NET_HDR_LEN + lengths[i] > bufs[i].length) throw new Error(`packet ${i} grew past its buffer`);
        const hdr = decodeVirtioNetHdr(bufs[i]);
        if (hdr.gsoType !== VIRTIO_NET_HDR_GSO_NONE) split(bufs[i].subarray(0, VIRTIO_NET_HDR_LEN + lengths[i])); // throws if inconsistent
      }
      if (packets.length > 0 && written[0] !== 0) throw new Error('the first packet is always written');
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} random batches`);
});

t.test('the fast sum equals the reference on random ranges of random arrays', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(), fc.nat(), fc.nat({ max: 7 }), (bytes, a, b, shift) => {
      const backing = new Uint8Array(bytes.length + 8);
      backing.set(bytes, shift);
      const view = backing.subarray(shift, shift + bytes.length);
      const s = bytes.length === 0 ? 0 : a % (bytes.length + 1);
      const e = s + (bytes.length === 0 ? 0 : b % (bytes.length - s + 1));
      return onesComplementSum(view, s, e) === naiveSum(view, s, e);
    }),
    { numRuns: RUNS * 10 },
  );
  t.pass('sums agree');
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The L4 payload of a segment (IPv6 without extension headers here). */
function payloadOf(seg: Uint8Array): Uint8Array {
  const v6 = seg[0] >> 4 === 6;
  const l4 = v6 ? 40 : (seg[0] & 15) * 4;
  const l4Header = seg[v6 ? 6 : 9] === IpProtocol.TCP ? (seg[l4 + 12] >> 4) * 4 : 8;
  return seg.subarray(l4 + l4Header);
}
