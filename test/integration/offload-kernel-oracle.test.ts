/**
 * The kernel as the oracle for @tunpipe/offload's read path.
 *
 * ```
 * ns A: tcp-bulk-peer source ── tpgsoa (offload: TSO superpackets + virtio header)
 *                               │ read ──► handleVirtioRead ──► MTU-sized segments
 * ns B: tcp-bulk-peer sink   ── tpgsob (plain)  ◄── write each segment
 *                               │ read ──► zeroed virtio header ──► write to tpgsoa (acks)
 * ```
 *
 * If the split got any header field wrong (lengths, sequence numbers, IPv4 IDs
 * and header checksums, TCP/IPv6 checksums), the kernel in B drops the segment and
 * the transfer stalls or the hashes differ.
 */
import t from 'tap';
import { DeviceBuilder, type Device } from '@tunpipe/core';
import {
  createVirtioNetHdr,
  decodeVirtioNetHdr,
  handleVirtioRead,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_LEN,
} from '@tunpipe/offload';
import { createNetns, requireNetAdmin, tcpBulkTransfer, type Netns } from '@tunpipe/testkit';

const TRANSFER_BYTES = 24 * 1024 * 1024;

interface RelayCounts {
  reads: number;
  superpackets: number;
  segments: number;
  acks: number;
}

/** Moves packets both ways until `signal` aborts: A→B through the splitter, B→A with a zeroed header. */
function startRelay(a: Device, b: Device, signal: AbortSignal): { counts: RelayCounts; done: Promise<void> } {
  const counts: RelayCounts = { reads: 0, superpackets: 0, segments: 0, acks: 0 };
  const input = new Uint8Array(VIRTIO_NET_HDR_LEN + 65_535);
  const segments = Array.from({ length: 64 }, () => new Uint8Array(2048));
  const sizes = new Int32Array(64);
  const hdr = createVirtioNetHdr();

  const fromA = (n: number): void => {
    counts.reads++;
    const packet = input.subarray(0, n);
    if (decodeVirtioNetHdr(packet, hdr).gsoType !== VIRTIO_NET_HDR_GSO_NONE) counts.superpackets++;
    const count = handleVirtioRead(packet, segments, sizes, 0);
    for (let i = 0; i < count; i++) b.send(segments[i].subarray(0, sizes[i]));
    counts.segments += count;
  };
  const back = new Uint8Array(VIRTIO_NET_HDR_LEN + 65_535);
  const fromB = (n: number): void => {
    counts.acks++;
    back.fill(0, 0, VIRTIO_NET_HDR_LEN); // GSO_NONE, no checksum to complete
    a.send(back.subarray(0, VIRTIO_NET_HDR_LEN + n));
  };

  const pump = async (dev: Device, buf: Uint8Array, onPacket: (n: number) => void): Promise<void> => {
    while (!signal.aborted) {
      let n: number | null;
      try {
        n = await dev.recv(buf, { signal });
      } catch (e) {
        if (signal.aborted) return;
        throw e;
      }
      for (; n !== null; n = dev.tryRecv(buf)) onPacket(n);
    }
  };
  const done = Promise.all([
    pump(a, input, fromA),
    pump(b, back.subarray(VIRTIO_NET_HDR_LEN), fromB),
  ]).then(() => undefined);
  return { counts, done };
}

const cases = [
  { name: 'TCP over IPv4', sink: '198.18.2.1', bind: '198.18.2.1' },
  { name: 'TCP over IPv6', sink: 'fd00:2::1', bind: 'fd00:2::1' },
];

for (const c of cases) {
  t.test(`${c.name}: superpackets split by handleVirtioRead arrive byte-exact through a plain TUN`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const nsA = createNetns(t, 'gsoa');
    const nsB = createNetns(t, 'gsob');
    const make = (ns: Netns, build: () => Device): Device => {
      using _ = ns.enter();
      return build();
    };
    const a = make(nsA, () => {
      const d = new DeviceBuilder().name('tpgsoa').ipv4('198.18.1.1', 24).ipv6('fd00:1::1', 64).offload(true).build();
      d.addRoute('198.18.2.0/24');
      d.addRoute('fd00:2::/64');
      return d;
    });
    const b = make(nsB, () => {
      const d = new DeviceBuilder().name('tpgsob').ipv4('198.18.2.1', 24).ipv6('fd00:2::1', 64).build();
      d.addRoute('198.18.1.0/24');
      d.addRoute('fd00:1::/64');
      return d;
    });
    t.teardown(() => {
      a.close();
      b.close();
    });
    t.ok(a.tcpGso(), 'the offload device accepted TSO');

    const stop = new AbortController();
    const relay = startRelay(a, b, stop.signal);
    t.teardown(() => stop.abort());

    const { sent, received: got } = await tcpBulkTransfer(t, {
      from: nsA, to: nsB, address: c.sink, bind: c.bind, bytes: TRANSFER_BYTES, seed: 7,
    });
    stop.abort();
    await relay.done;

    t.equal(got.bytes, TRANSFER_BYTES, 'every byte arrived');
    t.equal(got.sha256, sent.sha256, 'the bytes are the ones sent');
    t.ok(relay.counts.superpackets > 0, `the kernel handed over superpackets (${relay.counts.superpackets} of ${relay.counts.reads} reads)`);
    t.ok(relay.counts.segments > relay.counts.reads, `superpackets were split (${relay.counts.segments} segments from ${relay.counts.reads} reads)`);
  });
}
