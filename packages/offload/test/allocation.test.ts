/**
 * "Nothing is allocated per call": after warm-up, tens of thousands of calls
 * of each hot-path function must neither trigger a garbage collection nor grow
 * the heap by more than a few bytes per call. A positive control (a call that
 * allocates one small view) shows the detector sees allocation.
 */
import t, { type Test } from 'tap';
import { PerformanceObserver } from 'node:perf_hooks';
import {
  buildTcpPacket,
  buildUdpPacket,
  buildVirtioPacket,
  completeChecksum,
  createVirtioNetHdr,
  decodeVirtioNetHdr,
  GroTable,
  handleGro,
  handleVirtioRead,
  onesComplementSum,
  splitGso,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VIRTIO_NET_HDR_LEN,
  type GroOptions,
} from '../src/index.js';
import { ADDRESSES } from './support/superpackets.js';

interface Measurement {
  gcs: number;
  bytesPerCall: number;
}

let gcCount = 0;
const observer = new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });
t.teardown(() => observer.disconnect());

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

async function measureOnce(fn: () => void, calls: number): Promise<Measurement> {
  gcCount = 0;
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < calls; i++) fn();
  const after = process.memoryUsage().heapUsed;
  await settle(); // GC entries are delivered asynchronously
  return { gcs: gcCount, bytesPerCall: (after - before) / calls };
}

/**
 * The best of up to three trials after a warm-up. A function that allocates per
 * call allocates in every trial; one-off work that a loaded machine can push into
 * a trial (V8 finishing an optimization late, its feedback and code objects) does
 * not repeat, so the best trial shows the function itself.
 */
async function measure(fn: () => void, calls: number): Promise<Measurement> {
  for (let i = 0; i < 20_000; i++) fn(); // warm up: optimized code, feedback allocated
  await settle();
  let best: Measurement | undefined;
  for (let trial = 0; trial < 3; trial++) {
    const m = await measureOnce(fn, calls);
    if (best === undefined || m.gcs < best.gcs || (m.gcs === best.gcs && m.bytesPerCall < best.bytesPerCall)) best = m;
    if (best.gcs === 0 && best.bytesPerCall < 1) break;
  }
  return best!;
}

function expectNoAllocation(t: Test, m: Measurement): void {
  t.equal(m.gcs, 0, 'no garbage collection during the calls');
  t.ok(m.bytesPerCall < 1, `heap growth ${m.bytesPerCall.toFixed(3)} bytes per call`);
}

// Sequence numbers above 2^31: a uint32 there would become a heap number in V8.
const superTcp = buildVirtioPacket(buildTcpPacket({ ...ADDRESSES[4], srcPort: 1, dstPort: 2, seq: 0xfffff000, ack: 0x9abcdef0, payload: 44 * 1448 }), {
  gsoType: VIRTIO_NET_HDR_GSO_TCPV4,
  gsoSize: 1448,
});
const superUdp = buildVirtioPacket(buildUdpPacket({ ...ADDRESSES[6], srcPort: 1, dstPort: 2, payload: 20 * 1200 }), {
  gsoType: VIRTIO_NET_HDR_GSO_UDP_L4,
  gsoSize: 1200,
});
const small = buildVirtioPacket(buildUdpPacket({ ...ADDRESSES[4], srcPort: 1, dstPort: 2, payload: 100 }));
const ring = new Uint8Array(new SharedArrayBuffer(64 * 2048));
const bufs = Array.from({ length: 64 }, (_, i) => ring.subarray(i * 2048, (i + 1) * 2048));
const sizes = new Int32Array(64);

t.test('the detector sees a 1-view allocation per call (positive control)', async (t) => {
  let sink = 0;
  const m = await measure(() => {
    sink += new Uint8Array(small.buffer, 0, 4).length;
  }, 400_000);
  t.ok(m.gcs > 0 || m.bytesPerCall > 16, `detected: ${m.gcs} GCs, ${m.bytesPerCall.toFixed(1)} bytes per call`);
  t.ok(sink > 0);
});

t.test('handleVirtioRead, GSO_NONE with NEEDS_CSUM', async (t) => {
  expectNoAllocation(t, await measure(() => handleVirtioRead(small, bufs, sizes, 0), 400_000));
});

t.test('handleVirtioRead, a 64 KB TCPV4 superpacket into 44 segments', async (t) => {
  expectNoAllocation(t, await measure(() => handleVirtioRead(superTcp, bufs, sizes, VIRTIO_NET_HDR_LEN), 20_000));
});

t.test('splitGso, a UDP_L4 superpacket over IPv6', async (t) => {
  const hdr = decodeVirtioNetHdr(superUdp);
  const packet = superUdp.subarray(VIRTIO_NET_HDR_LEN);
  expectNoAllocation(t, await measure(() => splitGso(packet, hdr, bufs, sizes, 0), 20_000));
});

const groRows: Array<[string, (n: number) => GroOptions]> = [
  ['handleGro, 44 segments into one (first packet restored each call)', () => ({ tcp: true, udp: false })],
  [
    'handleGro with checksumsValid (native copies of the payload), 44 segments into one',
    (n) => ({ tcp: true, udp: false, checksumsValid: new Uint8Array(n).fill(1) }),
  ],
];
for (const [name, groOptions] of groRows) {
  t.test(name, async (t) => {
    const n = handleVirtioRead(superTcp, bufs, sizes, VIRTIO_NET_HDR_LEN);
    const gro = Array.from({ length: n }, (_, i) => {
      const b = new Uint8Array(VIRTIO_NET_HDR_LEN + 65_536);
      b.set(bufs[i].subarray(0, VIRTIO_NET_HDR_LEN + sizes[i]));
      return b;
    });
    const first = gro[0].slice(0, VIRTIO_NET_HDR_LEN + sizes[0]);
    const segmentSizes = sizes.slice(0, n);
    const lengths = new Int32Array(n);
    const table = new GroTable();
    const options = groOptions(n);
    const m = await measure(() => {
      gro[0].set(first);
      lengths.set(segmentSizes);
      handleGro(gro, lengths, VIRTIO_NET_HDR_LEN, table, options);
    }, 20_000);
    t.equal(table.written.length, 1, 'coalesced into one');
    expectNoAllocation(t, m);
  });
}

t.test('completeChecksum, decodeVirtioNetHdr into an object, onesComplementSum', async (t) => {
  const frame = small.slice();
  const hdr = decodeVirtioNetHdr(frame);
  const out = createVirtioNetHdr();
  let sink = 0;
  expectNoAllocation(
    t,
    await measure(() => {
      completeChecksum(frame, hdr, VIRTIO_NET_HDR_LEN);
      decodeVirtioNetHdr(frame, out);
      sink ^= onesComplementSum(frame, 3, frame.length); // xor: a growing sum would itself become a heap number
    }, 400_000),
  );
  t.ok(sink >= 0);
});
