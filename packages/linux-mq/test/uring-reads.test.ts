/**
 * `UringReads.fill`, the worker's io_uring read path, against a real TUN queue:
 * one call reads every queued packet into consecutive slots in arrival order;
 * reads that fill a whole slot (possibly cut short) are counted malformed and
 * their slots reused by the packets after them (holes compacted); an empty
 * queue ends the batch with QUEUE_EMPTY, not a wait; a failed read is `-errno`;
 * `open` falls back to read(2) for 'auto' only when io_uring is refused.
 * Oracle: the sequence numbers the test wrote into each datagram.
 */
import t from 'tap';
import { DeviceBuilder, IoUring, TunError, addressOf, sys, constants as C, type IoUringOptions } from '@tunpipe/core';
import { requireNetAdmin, createNetns } from '@tunpipe/testkit';
import { SlotRing } from '../src/slot-ring.js';
import { Stat, STAT_BLOCK } from '../src/queue-stats.js';
import { UringReads, SYSCALL_WINDOW, IDLE_RING_FILLS } from '../src/uring-reads.js';
import { QUEUE_EMPTY } from '../src/syscall-reads.js';

const SLOTS = 64;
const CAPACITY = 256;
/** IPv4 (20) + UDP (8) header bytes before the payload of each datagram. */
const HEADERS = 28;

/** struct sockaddr_in for 198.18.0.2:9, <netinet/in.h>. */
function sockaddr(): Uint8Array {
  const a = new Uint8Array(16);
  const v = new DataView(a.buffer);
  v.setUint16(0, C.AF_INET, true);
  v.setUint16(2, 9, false);
  a.set([198, 18, 0, 2], 4);
  return a;
}

const WINDOWS = [
  { label: 'ring only', syscallWindow: 0 },
  { label: 'read(2) up to a window of 8, then the ring', syscallWindow: 8 },
];

for (const { label, syscallWindow } of WINDOWS) t.test(`${label}: fills read the queue in order; oversized reads are holes the next packets fill`, async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, `uringrd${syscallWindow}`);
  ns.disableIpv6Sync(); // only the test's datagrams in the queue
  let dev;
  let sock: number;
  {
    using _ = ns.enter();
    dev = new DeviceBuilder().name('tpur0').ipv4('198.18.0.1', 24).build();
    sock = sys.socket(C.AF_INET, 2 /* SOCK_DGRAM */ | C.SOCK_CLOEXEC, 0);
  }
  t.teardown(() => {
    sys.close(sock);
    dev.close();
  });
  t.ok(sock >= 0, 'UDP socket in the namespace');
  const rx = SlotRing.create(SLOTS, CAPACITY);
  const st = new Float64Array(STAT_BLOCK);
  const reads = new UringReads(() => IoUring.open({ entries: SLOTS }), SLOTS, rx, dev.fd, false, st, 0, syscallWindow);
  t.teardown(() => reads.close());

  t.equal(reads.fill(0, SLOTS), QUEUE_EMPTY, 'an empty queue: QUEUE_EMPTY at once (RWF_NOWAIT), no wait');
  t.equal(reads.count, 0);

  // 40 datagrams; every third one (seq 1, 4, 7, ...) is too big for a slot.
  const to = sockaddr();
  const big = (seq: number) => seq % 3 === 1;
  const expected: number[] = [];
  for (let seq = 0; seq < 40; seq++) {
    const payload = new Uint8Array(big(seq) ? 400 : 36);
    new DataView(payload.buffer).setUint32(0, seq, false);
    t.equal(sys.sendto(sock, payload, payload.length, 0, to, 16), payload.length);
    if (!big(seq)) expected.push(seq);
  }
  // As the worker does: fill from the head until a batch ends on the empty queue.
  // The window starts small after the empty read above and doubles (4, 8, 16, ...).
  const start = 60; // wraps around the ring end
  let head = start;
  let placed = 0;
  let bytes = 0;
  let calls = 0;
  for (;;) {
    const end = reads.fill(head, SLOTS - placed);
    calls++;
    placed += reads.count;
    bytes += reads.bytes;
    head += reads.count;
    if (end === QUEUE_EMPTY) break;
    t.equal(end, 0, 'a full window: maybe more');
    if (calls > 10) break;
  }
  t.ok(calls <= 6, `${calls} fill calls for 40 reads: the window grew (2, 4, 8, ...)`);
  t.equal(placed, expected.length, `${expected.length} packets placed`);
  t.equal(bytes, expected.length * 64, 'their bytes');
  const seqs: number[] = [];
  for (let i = 0; i < placed; i++) {
    const s = (start + i) & rx.mask;
    t.equal(rx.lengths[s], 64, `slot ${s}: a 64-byte packet`);
    seqs.push(new DataView(rx.packets[s]!.buffer, rx.packets[s]!.byteOffset + HEADERS, 4).getUint32(0, false));
  }
  t.same(seqs, expected, 'in sending order, consecutive, no hole');
  t.equal(st[Stat.rxReads], 40, 'rxReads: every completed read');
  t.equal(st[Stat.malformed], 40 - expected.length, 'malformed: the oversized ones');

  t.equal(reads.fill(0, SLOTS), QUEUE_EMPTY, 'drained');
  t.equal(reads.count, 0);

  // Why RWF_NOWAIT: without it, O_NONBLOCK notwithstanding, io_uring parks a read
  // of the empty TUN queue until a packet comes (Linux 6.18).
  const ring = IoUring.open({ entries: 2 });
  t.teardown(() => ring.close());
  ring.prepareRead(dev.fd, addressOf(rx.packets[0]!), CAPACITY, 5);
  t.equal(ring.submit(0), 1);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(ring.ready(), 0, 'a plain read of the empty TUN queue is still in flight 50 ms later');
  const one = new Uint8Array(36);
  t.equal(sys.sendto(sock, one, one.length, 0, to, 16), one.length);
  t.equal(ring.wait(1), 0);
  t.same([ring.userData(0), ring.result(0)], [5, 64], 'the next packet completes it');
  ring.consume(1);
});

t.test('a failed read is -errno (EBADF on an fd that is not open)', (t) => {
  const fd = 999_999; // above any fd this process opens
  const rx = SlotRing.create(8, CAPACITY);
  const reads = new UringReads(() => IoUring.open({ entries: 8 }), 8, rx, fd, false, new Float64Array(STAT_BLOCK), 0, 0);
  t.teardown(() => reads.close());
  t.equal(reads.fill(0, 8), -C.EBADF);
  t.equal(reads.count, 0);
  t.end();
});

t.test('open: which path each reads option gives, and the fallback when io_uring is refused', (t) => {
  const rx = SlotRing.create(8, CAPACITY);
  const st = new Float64Array(STAT_BLOCK);
  const refused = (): IoUring => {
    throw new TunError('ERR_TUN_IO_URING', 'io_uring_setup failed (EPERM)', { errno: C.EPERM, syscall: 'io_uring_setup' });
  };
  const broken = (): IoUring => {
    throw new Error('not an io_uring refusal');
  };
  t.equal(UringReads.open('syscall', rx, 0, false, 8, st, 0, refused), null, "'syscall': no ring is even tried");
  t.equal(UringReads.open('auto', SlotRing.create(64, CAPACITY), 0, false, 64, st, 0, refused), null, "'auto' + ERR_TUN_IO_URING: read(2)");
  t.throws(() => UringReads.open('io_uring', rx, 0, false, 8, st, 0, refused), { code: 'ERR_TUN_IO_URING', errno: C.EPERM }, "'io_uring' + refusal: thrown");
  t.throws(() => UringReads.open('auto', SlotRing.create(64, CAPACITY), 0, false, 64, st, 0, broken), { message: 'not an io_uring refusal' }, "'auto' does not swallow other errors");
  let available = true;
  try {
    IoUring.open({ entries: 1 }).close();
  } catch {
    available = false;
  }
  if (available) {
    // A kernel that leaves RWF_NOWAIT reads in flight (or lacks IORING_OP_READ): the probe says so.
    let probes = 0;
    const waiting = (o: IoUringOptions): IoUring => {
      const ring = IoUring.open(o);
      ring.nowaitReadsWork = () => {
        probes++;
        return false;
      };
      return ring;
    };
    t.equal(UringReads.open('auto', SlotRing.create(64, CAPACITY), 0, false, 64, st, 0, waiting), null, "'auto' + reads that would wait: read(2)");
    t.throws(() => UringReads.open('io_uring', SlotRing.create(64, CAPACITY), 0, false, 64, st, 0, waiting), { code: 'ERR_TUN_IO_URING' }, "'io_uring' + reads that would wait: thrown");
    t.equal(probes, 2, 'both asked the probe');
  }
  t.equal(UringReads.open('auto', rx, 0, false, SYSCALL_WINDOW, st, 0), null, "'auto' with batches too small for the ring: read(2)");
  const big = SlotRing.create(64, CAPACITY);
  const real = UringReads.open('auto', big, 0, false, 64, st, 0);
  t.equal(real instanceof UringReads, available, `'auto' with the real io_uring_setup: ${available ? 'io_uring' : 'read(2)'}`);
  real?.close();
  t.end();
});

t.test("'auto' sets its ring up at the first burst and closes it after a run of small windows", (t) => {
  // An EFD_SEMAPHORE eventfd is a queue of 8-byte "packets": each read takes one.
  const efd = sys.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC | 1 /* EFD_SEMAPHORE */);
  t.teardown(() => sys.close(efd));
  const queue = (n: number) => sys.write(efd, new Uint8Array(new BigUint64Array([BigInt(n)]).buffer), 8);
  const rx = SlotRing.create(64, CAPACITY);
  const st = new Float64Array(STAT_BLOCK);
  let opens = 0;
  const reads = new UringReads(() => {
    opens++;
    return IoUring.open({ entries: 64 });
  }, 64, rx, efd, false, st, 0);
  t.teardown(() => reads.close());
  /** Fills from slot 0 until the queue is empty; the packets read. */
  const drainAll = (): number => {
    let got = 0;
    for (let i = 0; i < 100; i++) {
      const end = reads.fill(0, 64);
      got += reads.count;
      if (end === QUEUE_EMPTY) return got;
    }
    return got;
  };

  t.equal(drainAll(), 0);
  queue(1);
  t.equal(drainAll(), 1, 'a lone packet');
  t.equal(opens, 0, 'sparse traffic: read(2) only, no ring set up');
  queue(300);
  t.equal(drainAll(), 300, 'a burst of 300');
  t.equal(opens, 1, 'the burst set the ring up');
  t.equal(reads.ringOpen, true);
  // The first empty fill after the burst may still go through the ring (its
  // window was sized by the burst's last batch); from then on windows are small.
  let idle = 0;
  while (reads.ringOpen && idle < 10 * IDLE_RING_FILLS) {
    t.equal(reads.fill(0, 64), QUEUE_EMPTY);
    idle++;
  }
  t.equal(reads.ringOpen, false, 'closed once the queue stayed quiet');
  t.ok(idle >= IDLE_RING_FILLS && idle <= IDLE_RING_FILLS + 1, `after ${idle} empty fills (${IDLE_RING_FILLS} small windows in a row)`);
  queue(300);
  t.equal(drainAll(), 300, 'the next burst');
  t.equal(opens, 2, 'sets a ring up again');
  t.equal(st[Stat.rxReads], 601, 'every read counted once');
  t.end();
});
