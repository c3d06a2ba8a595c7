/**
 * Packet: views without copying, copy() detaching from (shared) ring memory,
 * metadata, validation, timestamps in ns since the epoch.
 */
import t from 'tap';
import { isPacket, packetOf, PacketView, timestampNow } from '../src/packet.js';

t.test('packetOf wraps the bytes without copying; copy() detaches them', async (t) => {
  const ring = new Uint8Array(new SharedArrayBuffer(64));
  ring.set([1, 2, 3, 4], 8);
  const hdr = { flags: 1, gsoType: 1, hdrLen: 54, gsoSize: 1448, csumStart: 34, csumOffset: 16 };
  const view = packetOf(ring.subarray(8, 12), { queue: 2, virtioHeader: hdr, timestamp: 5n, meta: { id: 1 } });
  t.equal(view.data.buffer, ring.buffer, 'a view into the ring');
  const kept = view.copy();
  ring.fill(0xff); // the ring slot is reused
  t.same([...view.data], [0xff, 0xff, 0xff, 0xff], 'the view sees the reuse');
  t.same([...kept.data], [1, 2, 3, 4], 'the copy does not');
  t.notOk(kept.data.buffer instanceof SharedArrayBuffer, 'the copy owns an ordinary ArrayBuffer');
  t.same([kept.queue, kept.timestamp, kept.meta, kept.virtioHeader], [2, 5n, { id: 1 }, hdr]);
  t.not(kept.virtioHeader, view.virtioHeader, 'the header object is copied too');
  const bare = packetOf(new Uint8Array(1));
  t.same([bare.queue, bare.virtioHeader, bare.timestamp, bare.meta], [0, undefined, undefined, undefined], 'defaults');
});

t.test('queue is validated; isPacket recognises packets and look-alikes', async (t) => {
  for (const queue of [-1, 1.5, Number.NaN]) {
    t.throws(() => packetOf(new Uint8Array(1), { queue }), { code: 'ERR_TUN_INVALID_ARGUMENT' }, String(queue));
  }
  t.ok(isPacket(packetOf(new Uint8Array(1))));
  t.ok(isPacket(new PacketView(new Uint8Array(1), 3)));
  t.ok(isPacket({ data: new Uint8Array(1), queue: 0, copy: () => undefined }));
  t.notOk(isPacket({ data: [1], queue: 0, copy: () => undefined }));
  t.notOk(isPacket(new Uint8Array(1)));
  t.notOk(isPacket(null));
});

t.test('timestampNow: ns since the epoch, consistent with Date.now()', async (t) => {
  const before = BigInt(Date.now()) * 1_000_000n;
  const ts = timestampNow();
  const after = BigInt(Date.now() + 1) * 1_000_000n;
  t.equal(typeof ts, 'bigint');
  // The timestamp is the wall clock read at process start plus the monotonic
  // clock since (performance.timeOrigin): an NTP slew or step of the wall clock
  // after start (a freshly booted CI machine) moves Date.now() away from it, so
  // "consistent" means the same epoch and scale, to within a second.
  const slack = 1_000_000_000n;
  t.ok(ts >= before - slack && ts <= after + slack, `${ts} within [${before}, ${after}] (+-1 s)`);
  t.ok(timestampNow() >= ts, 'does not go backwards within a run');
});
