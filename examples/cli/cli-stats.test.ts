/**
 * The statistics renderer as a specification: rates from two samples, the queue
 * line, the drawing style chosen from --json / --stats-interval / TTY, and what
 * each style writes (in-place redraw, timestamped lines, JSON lines, nothing).
 */
import t from 'tap';
import { STAT_NAMES, type QueueStats } from '@tunpipe/linux-mq';
import { LiveStats, computeRates, formatQueueLine, queueDrops, statsStyle } from './live-stats.js';

function stats(queue: number, fields: Partial<Record<(typeof STAT_NAMES)[number], number>>): QueueStats {
  const zero = Object.fromEntries(STAT_NAMES.map((n) => [n, 0]));
  return { device: 0, queue, ...zero, ...fields } as QueueStats;
}

t.test('rates over an interval', async (t) => {
  const prev = [stats(0, { rxPackets: 100, rxBytes: 100_000 }), stats(1, {})];
  const now = [stats(0, { rxPackets: 1100, rxBytes: 125_100_000, txPackets: 50, txBytes: 50_000 }), stats(1, { ringFull: 2, malformed: 1, txErrors: 3, handlerErrorDrops: 4 })];
  const [q0, q1] = computeRates(prev, now, 500, ['tp0']);
  t.equal(q0!.rxPps, 2000, '1000 packets in 0.5 s');
  t.equal(q0!.rxGbps, 2, '125 MB in 0.5 s = 2 Gbps');
  t.equal(q0!.txPps, 100);
  t.equal(q0!.device, 'tp0');
  t.equal(q1!.drops, 10, 'drops: ring full + malformed + write errors + handler-error drops');
  t.equal(queueDrops(now[1]!), 10);
  t.equal(
    formatQueueLine(q0!),
    'tp0 q0  rx     2000 pps   2.000 Gbps  tx      100 pps   0.001 Gbps  drops 0  (total rx 1100 tx 50)',
  );
});

t.test('the style follows --json, --stats-interval and the terminal', async (t) => {
  const table: Array<[json: boolean, given: boolean, tty: boolean, style: string]> = [
    [false, false, true, 'live'],
    [false, true, true, 'live'],
    [false, false, false, 'off'],
    [false, true, false, 'lines'],
    [true, true, true, 'json'],
    [true, true, false, 'json'],
    [true, false, true, 'off'],
  ];
  for (const [json, given, tty, style] of table) {
    t.equal(statsStyle(json, given, { write: () => true, isTTY: tty }), style, `json=${json} interval=${given} tty=${tty}`);
  }
});

t.test('what each style writes', async (t) => {
  for (const style of ['live', 'lines', 'json', 'off'] as const) {
    let rx = 0;
    const out: string[] = [];
    const live = new LiveStats({
      out: { write: (s: string) => out.push(s) },
      intervalMs: 20,
      style,
      deviceNames: ['tp0'],
      sample: () => [stats(0, { rxPackets: (rx += 10) }), stats(1, {})],
    }).start();
    await new Promise((r) => setTimeout(r, 110));
    live.stop();
    const frames = out.length;
    await new Promise((r) => setTimeout(r, 60));
    t.equal(out.length, frames, `${style}: nothing after stop()`);
    if (style === 'off') {
      t.equal(frames, 0, 'off: nothing');
      continue;
    }
    t.ok(frames >= 2, `${style}: a frame per interval (${frames})`);
    if (style === 'live') {
      t.notMatch(out[0]!, /\x1b\[\d+A/, 'the first frame draws');
      for (const f of out.slice(1, -1)) t.match(f, /^\x1b\[2A(\r\x1b\[2Ktp0 q[01] .*\n){2}$/, 'later frames go up two lines and redraw both');
      t.equal(out.at(-1), '\r\x1b[2K', 'stop() clears the line below the frame (a terminal echoed ^C there)');
    } else if (style === 'lines') {
      for (const f of out) t.match(f, /^(\d{4}-\d\d-\d\dT\S+Z tp0 q[01]  rx .*\n){2}$/);
    } else {
      for (const f of out) {
        const event = JSON.parse(f) as { event: string; queues: Array<{ queue: number; rxPackets: number }> };
        t.equal(event.event, 'stats');
        t.same(event.queues.map((q) => q.queue), [0, 1]);
      }
    }
  }
});
