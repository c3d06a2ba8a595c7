/**
 * SLOT_CSUM_VALID: segments a split-mode worker produced carry checksums it has
 * just computed, so egress lets GRO trust them (no second pass over the
 * payload); every other slot is verified, and a packet with a bad checksum is
 * never merged. Egress writes to a regular file here (one frame per write:
 * virtio_net_hdr, then the IP packet), so every write can be read back; no
 * device or namespace is needed.
 *
 * | slots                                   | flag            | written            |
 * |-----------------------------------------|-----------------|--------------------|
 * | 3 in-sequence segments, middle one bad  | SLOT_CSUM_VALID | 1 TCPV4 superpacket|
 * | the same 3                              | none            | 3 packets, as is   |
 * | the same 3, written by PacketWriter     | stale flag set  | 3 packets, as is   |
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildTcpPacket,
  decodeVirtioNetHdr,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_LEN,
  type VirtioNetHdr,
} from '@tunpipe/offload';
import { Egress } from '../src/egress.js';
import { PacketWriter } from '../src/packet-writer.js';
import { QueueControl } from '../src/queue-control.js';
import { Stat, StatsTable } from '../src/queue-stats.js';
import { SlotRing, SLOT_CSUM_VALID, SLOT_VNET_HDR } from '../src/slot-ring.js';

const MSS = 1000;

/** Segment `i` of one TCP flow (198.18.1.1:40000 -> 198.18.2.1:5201), MSS bytes each. */
function segment(i: number): Uint8Array {
  const payload = new Uint8Array(MSS).map((_, k) => (i * 7 + k) & 0xff);
  return buildTcpPacket({ src: '198.18.1.1', dst: '198.18.2.1', srcPort: 40000, dstPort: 5201, seq: 1 + i * MSS, ack: 1, payload });
}

/** A copy with the IPv4 header checksum broken. */
function badIpChecksum(p: Uint8Array): Uint8Array {
  const c = p.slice();
  c[11] ^= 0xff;
  return c;
}

const SEGMENTS = [segment(0), badIpChecksum(segment(1)), segment(2)];

interface Frame {
  hdr: VirtioNetHdr;
  packet: Uint8Array;
}

/** Splits a file of frames (10-byte header, then an IPv4 packet of its total length). */
function parseFrames(bytes: Uint8Array): Frame[] {
  const out: Frame[] = [];
  for (let at = 0; at < bytes.length; ) {
    const hdr = decodeVirtioNetHdr(bytes.subarray(at, at + VIRTIO_NET_HDR_LEN));
    const p = at + VIRTIO_NET_HDR_LEN;
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    out.push({ hdr, packet: bytes.slice(p, p + len) });
    at = p + len;
  }
  return out;
}

/** An offload target (TSO on) whose only queue fd is a fresh file; returns egress, stats and a reader of what was written. */
function fileTarget(t: Test): { egress: Egress; stats: StatsTable; written: () => Frame[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-csum-trust-'));
  const file = path.join(dir, 'frames');
  const fd = fs.openSync(file, 'w');
  t.teardown(() => {
    try {
      fs.closeSync(fd);
    } catch {
      // closed by the test already
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const stats = new StatsTable(1, 1);
  const control = new QueueControl();
  const egress = new Egress([{ vnetHdr: true, tcpGso: true, udpGso: false, fds: [fd], controls: [control.buffer] }], stats.values, stats.base(0, 0), 0);
  return { egress, stats, written: () => parseFrames(new Uint8Array(fs.readFileSync(file))) };
}

/** Puts `packets` into slots 0.. of `ring` with meta `flag`; returns the slot list. */
function fill(ring: SlotRing, packets: Uint8Array[], flag: number): Int32Array {
  packets.forEach((p, i) => {
    ring.bytes.set(p, ring.packetOffset(i));
    ring.lengths[i] = p.length;
    ring.meta[i] = flag;
  });
  return Int32Array.from(packets.keys());
}

const NONE_HDR = { flags: 0, gsoType: VIRTIO_NET_HDR_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };

// MTU-sized slots (a split-mode RX ring: GRO works in a staging area) and
// 64 KiB slots (GRO in place).
for (const capacity of [1600, 65536]) {
  t.test(`${capacity}-byte slots`, async (t) => {
    t.test('split segments (SLOT_CSUM_VALID) are trusted: merged into one superpacket', async (t) => {
      const { egress, stats, written } = fileTarget(t);
      const ring = SlotRing.create(8, capacity);
      egress.send(0, ring, fill(ring, SEGMENTS, SLOT_CSUM_VALID), SEGMENTS.length);
      const frames = written();
      t.equal(frames.length, 1, 'one write');
      t.match(frames[0]!.hdr, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: MSS, csumStart: 20, csumOffset: 16 });
      const payload = frames[0]!.packet.subarray(40);
      const want = new Uint8Array(SEGMENTS.flatMap((s) => [...s.subarray(40)]));
      t.same(payload, want, 'the payload of all three, in order');
      t.equal(stats.values[stats.base(0, 0) + Stat.groMerged], 2, 'groMerged counts 2');
    });

    t.test('slots without the flag are verified: the bad segment is refused and nothing merges past it', async (t) => {
      const { egress, written } = fileTarget(t);
      const ring = SlotRing.create(8, capacity);
      egress.send(0, ring, fill(ring, SEGMENTS, 0), SEGMENTS.length);
      const frames = written();
      t.equal(frames.length, 3, 'three writes');
      frames.forEach((f, i) => {
        t.same(f.hdr, NONE_HDR, `packet ${i}: zeroed header`);
        t.same(f.packet, SEGMENTS[i], `packet ${i}: as it was`);
      });
    });

    t.test('PacketWriter clears a stale flag: user-written packets are always verified', async (t) => {
      const { egress, written } = fileTarget(t);
      const tx = SlotRing.create(8, capacity);
      const rx = SlotRing.create(8, capacity);
      tx.meta.fill(SLOT_CSUM_VALID | SLOT_VNET_HDR); // as if the memory had held split segments
      const control = new QueueControl();
      const writer = new PacketWriter(0, [tx], [rx], [control], () => {}, new StatsTable(1, 1));
      for (const s of SEGMENTS) t.ok(writer.trySend(s, { queue: 0 }), 'sent');
      t.same([...tx.meta.subarray(0, 3)], [0, 0, 0], 'meta of the written slots: no flags');
      writer.close();
      egress.send(0, tx, Int32Array.from([0, 1, 2]), 3);
      const frames = written();
      t.equal(frames.length, 3, 'three writes: the bad segment was verified and refused');
      t.same(frames[1]!.packet, SEGMENTS[1], 'the bad segment went out unchanged, alone');
    });
  });
}
