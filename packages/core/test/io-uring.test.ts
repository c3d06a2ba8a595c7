/**
 * `IoUring`, the ring binding: setup and close leave no fd behind and the ring
 * fd is close-on-exec; one submit carries a whole batch (NOPs, reads from
 * /dev/zero into SharedArrayBuffer slots at the addresses `addressOf` gives);
 * a read of an empty non-blocking fd completes with -EAGAIN only with
 * RWF_NOWAIT (without it the kernel parks the read until data comes); a link
 * of reads is cut by the first short read; errors are coded.
 * Oracles: /proc/self/fd and /proc/self/fdinfo, the bytes in the buffer.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { IoUring } from '../src/io-uring.js';
import { sys, addressOf } from '../src/libc.js';
import * as C from '../src/constants.js';

/** Open fds of this process. */
function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Results of every ready completion, in order, as [userData, res]; hands them back. */
function reap(ring: IoUring): Array<[number, number]> {
  const n = ring.ready();
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) out.push([ring.userData(i), ring.result(i)]);
  ring.consume(n);
  return out;
}

t.test('setup and close: no fd left, ring fd close-on-exec, close idempotent', (t) => {
  const before = fdCount();
  for (let i = 0; i < 20; i++) {
    const ring = IoUring.open({ entries: 64 });
    if (i === 0) {
      t.equal(ring.sqEntries, 64, 'SQ entries as asked (a power of two)');
      t.ok(ring.cqEntries >= 64, 'CQ at least as large');
      t.ok((ring.features & C.IORING_FEAT_SINGLE_MMAP) !== 0, 'single mmap');
      const flags = Number.parseInt(/^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${ring.fd}`, 'utf8'))![1]!, 8);
      t.equal(flags & C.O_CLOEXEC, C.O_CLOEXEC, 'O_CLOEXEC');
    }
    ring.close();
    ring.close();
  }
  t.equal(fdCount(), before, '20 rings opened and closed: same fd count');
  const ring = IoUring.open({ entries: 8 });
  ring.close();
  t.throws(() => ring.submit(0), { code: 'ERR_TUN_CLOSED' }, 'submit after close');
  t.throws(() => ring.wait(1), { code: 'ERR_TUN_CLOSED' }, 'wait after close');
  t.end();
});

t.test('entries out of range are refused with ERR_TUN_INVALID_ARGUMENT', (t) => {
  for (const entries of [0, -1, 1.5, 32769, Number.NaN]) {
    t.throws(() => IoUring.open({ entries }), { code: 'ERR_TUN_INVALID_ARGUMENT' }, `entries ${entries}`);
  }
  t.end();
});

t.test('one submit carries a full SQ of NOPs; completions keep their user_data', (t) => {
  using ring = IoUring.open({ entries: 64 });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 64; i++) t.equal(ring.prepareNop(1000 + i), true);
    t.equal(ring.prepareNop(1), false, 'the 65th SQE does not fit');
    t.equal(ring.room, 0);
    t.equal(ring.submit(64), 64, 'all 64 consumed by one enter');
    t.equal(ring.queued, 0);
    const got = reap(ring);
    t.same(got.map(([u]) => u).sort((a, b) => a - b), Array.from({ length: 64 }, (_, i) => 1000 + i), `round ${round}: every user_data once`);
    t.ok(got.every(([, r]) => r === 0), 'NOP res 0');
    t.equal(ring.ready(), 0, 'consumed');
  }
  t.end();
});

t.test('reads land in SharedArrayBuffer slots at addressOf addresses', (t) => {
  const fd = sys.open('/dev/zero', C.O_RDONLY | C.O_CLOEXEC, 0);
  t.ok(fd >= 0);
  t.teardown(() => sys.close(fd));
  using ring = IoUring.open({ entries: 16 });
  const SLOT = 128;
  const bytes = new Uint8Array(new SharedArrayBuffer(16 * SLOT));
  bytes.fill(0xff);
  const base = addressOf(bytes);
  t.equal(addressOf(bytes.subarray(SLOT * 3)), base + SLOT * 3, 'a subarray is offset from the base');
  // Slots 0, 2, 4, ..., 14 get 10 + i bytes each; the odd slots are left alone.
  for (let i = 0; i < 8; i++) ring.prepareRead(fd, base + 2 * i * SLOT, 10 + i, i);
  t.equal(ring.submit(8), 8);
  const got = reap(ring).sort((a, b) => a[0] - b[0]);
  t.same(got, Array.from({ length: 8 }, (_, i) => [i, 10 + i]), 'each read returned its length');
  for (let i = 0; i < 8; i++) {
    const at = 2 * i * SLOT;
    t.ok(bytes.subarray(at, at + 10 + i).every((b) => b === 0), `slot ${2 * i}: ${10 + i} zeros`);
    t.equal(bytes[at + 10 + i], 0xff, `slot ${2 * i}: nothing past the read`);
    t.ok(bytes.subarray(at + SLOT, at + 2 * SLOT).every((b) => b === 0xff), `slot ${2 * i + 1}: untouched`);
  }
  t.end();
});

t.test('an empty non-blocking fd: -EAGAIN with RWF_NOWAIT; without it the read waits for data', async (t) => {
  const efd = sys.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC);
  t.teardown(() => sys.close(efd));
  using ring = IoUring.open({ entries: 8 });
  const buf = new Uint8Array(new SharedArrayBuffer(64));
  const addr = addressOf(buf);
  for (let i = 0; i < 4; i++) ring.prepareRead(efd, addr, 8, i, 0, C.RWF_NOWAIT);
  t.equal(ring.submit(4), 4);
  t.same(reap(ring).map(([, r]) => r), [-C.EAGAIN, -C.EAGAIN, -C.EAGAIN, -C.EAGAIN], 'RWF_NOWAIT: each read -EAGAIN at once');

  ring.prepareRead(efd, addr, 8, 7);
  t.equal(ring.submit(0), 1);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(ring.ready(), 0, 'without RWF_NOWAIT the read is still in flight 50 ms later (O_NONBLOCK is not honoured)');
  t.equal(sys.write(efd, new Uint8Array(new BigUint64Array([5n]).buffer), 8), 8);
  t.equal(ring.wait(1), 0);
  t.same(reap(ring), [[7, 8]], 'the eventfd write completes it');
  t.equal(new BigUint64Array(buf.buffer, 0, 1)[0], 5n, 'with the counter');
});

t.test('nowaitReadsWork: this kernel completes an RWF_NOWAIT read of an empty file at once, and the ring stays usable', (t) => {
  const ring = IoUring.open({ entries: 4 });
  t.teardown(() => ring.close());
  t.equal(ring.nowaitReadsWork(), true, 'Linux 6.18 answers -EAGAIN at once');
  t.equal(ring.ready(), 0, 'the probe consumed its completion');
  t.ok(ring.prepareNop(7));
  t.equal(ring.submit(1), 1);
  t.equal(ring.userData(0), 7, 'the next completion is the next SQE');
  ring.consume(1);
  t.ok(ring.prepareNop(8));
  t.throws(() => ring.nowaitReadsWork(), { code: 'ERR_TUN_INVALID_ARGUMENT' }, 'refused on a ring with prepared SQEs');
  ring.submit(1);
  ring.consume(1);
  t.end();
});

t.test('IOSQE_IO_LINK: a failed or short read cuts the chain (-ECANCELED after it)', (t) => {
  const fd = sys.open('/dev/zero', C.O_RDONLY | C.O_CLOEXEC, 0);
  t.teardown(() => sys.close(fd));
  using ring = IoUring.open({ entries: 8 });
  const buf = new Uint8Array(new SharedArrayBuffer(4096));
  const addr = addressOf(buf);
  // Full reads keep a chain going: /dev/zero always fills the buffer.
  for (let i = 0; i < 4; i++) ring.prepareRead(fd, addr, 64, i, i < 3 ? C.IOSQE_IO_LINK : 0);
  t.equal(ring.submit(4), 4);
  t.same(reap(ring).sort((a, b) => a[0] - b[0]), [[0, 64], [1, 64], [2, 64], [3, 64]], 'full reads: the whole chain runs');
  // A read of an empty eventfd fails (-EAGAIN) and cancels the rest.
  const efd = sys.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC);
  t.teardown(() => sys.close(efd));
  for (let i = 0; i < 4; i++) ring.prepareRead(efd, addr, 8, i, i < 3 ? C.IOSQE_IO_LINK : 0, C.RWF_NOWAIT);
  t.equal(ring.submit(4), 4);
  t.same(reap(ring).sort((a, b) => a[0] - b[0]), [[0, -C.EAGAIN], [1, -C.ECANCELED], [2, -C.ECANCELED], [3, -C.ECANCELED]], 'the first failure cancels the chain');
  // A short read (8 bytes of an eventfd counter into 16) counts as a failure too:
  // that is every packet read into a slot larger than the packet.
  t.equal(sys.write(efd, new Uint8Array(new BigUint64Array([1n]).buffer), 8), 8);
  for (let i = 0; i < 3; i++) ring.prepareRead(efd, addr, 16, i, i < 2 ? C.IOSQE_IO_LINK : 0, C.RWF_NOWAIT);
  t.equal(ring.submit(3), 3);
  t.same(reap(ring).sort((a, b) => a[0] - b[0]), [[0, 8], [1, -C.ECANCELED], [2, -C.ECANCELED]], 'the short read cancels the chain');
  t.end();
});

t.test('a read of a closed fd completes with -EBADF (no throw on the hot path)', (t) => {
  using ring = IoUring.open({ entries: 4 });
  const fd = sys.open('/dev/zero', C.O_RDONLY | C.O_CLOEXEC, 0);
  sys.close(fd);
  const buf = new Uint8Array(new SharedArrayBuffer(64));
  ring.prepareRead(fd, addressOf(buf), 8, 3, 0, C.RWF_NOWAIT);
  t.equal(ring.submit(1), 1);
  t.same(reap(ring), [[3, -C.EBADF]]);
  t.end();
});
