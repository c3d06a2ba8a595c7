/**
 * rateWindow on virtual time (TestScheduler): per-window counts and rates, empty
 * windows, the final partial window, and teardown.
 */
import t from 'tap';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { packetOf } from '../src/packet.js';
import { rateWindow, type RateSample } from '../src/rate-window.js';

const p = (n: number) => packetOf(new Uint8Array(n));

t.test('counts, pps and bps per window; empty windows report zeros; a final partial window', async (t) => {
  const scheduler = new TestScheduler((a, b) => t.same(a, b));
  scheduler.run(({ cold, expectObservable }) => {
    // 100 ms windows. Window 1 (0-100): 3 packets of 100 B; window 2: none;
    // window 3 (200-300): 1 of 1000 B at 250; then 2 of 50 B at 310 and 320, complete at 350.
    const source = cold('a 9ms a 9ms a 229ms b 59ms c 9ms c 29ms |', { a: p(100), b: p(1000), c: p(50) });
    const w = (start: number, end: number, packets: number, bytes: number): RateSample => ({
      start,
      end,
      packets,
      bytes,
      pps: (packets * 1000) / (end - start),
      bps: (bytes * 8 * 1000) / (end - start),
    });
    expectObservable(source.pipe(rateWindow({ windowMs: 100 }))).toBe('100ms x 99ms y 99ms z 49ms (q|)', {
      x: w(0, 100, 3, 300),
      y: w(100, 200, 0, 0),
      z: w(200, 300, 1, 1000),
      q: w(300, 350, 2, 100),
    });
  });
});

t.test('no final window when the last one saw nothing; errors pass through', async (t) => {
  const scheduler = new TestScheduler((a, b) => t.same(a, b));
  scheduler.run(({ cold, expectObservable }) => {
    expectObservable(cold('a 149ms |', { a: p(10) }).pipe(rateWindow({ windowMs: 100 }))).toBe('100ms x 49ms |', {
      x: { start: 0, end: 100, packets: 1, bytes: 10, pps: 10, bps: 800 },
    });
    expectObservable(cold<ReturnType<typeof p>>('20ms #').pipe(rateWindow({ windowMs: 100 }))).toBe('20ms #');
  });
});

t.test('unsubscribing stops the timer (real time)', async (t) => {
  const subject = new Subject<ReturnType<typeof p>>();
  const seen: RateSample[] = [];
  const sub = subject.pipe(rateWindow({ windowMs: 20 })).subscribe((s) => seen.push(s));
  subject.next(p(10));
  await new Promise((r) => setTimeout(r, 50));
  sub.unsubscribe();
  const count = seen.length;
  await new Promise((r) => setTimeout(r, 60));
  t.ok(count >= 1, `windows emitted while subscribed (${count})`);
  t.equal(seen.length, count, 'nothing after unsubscribe');
  t.equal(seen[0]!.packets, 1);
  t.throws(() => rateWindow({ windowMs: 0 }), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});
