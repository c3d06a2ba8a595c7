/**
 * Nothing outlives a device: after `close()` (or `await using`), the process
 * has the open fds and threads it had before, whatever consumers were used and
 * however they ended (break, cancel, unsubscribe, pipe still running at close).
 */
import t from 'tap';
import { firstValueFrom, take, toArray } from 'rxjs';
import { requireNetAdmin, createNetns, ping, openFds, threadCount } from '@tunpipe/testkit';
import { echoReply, echoResponder, openTunIn, sleep } from './device-fixtures.js';
import type { TunStreams } from '../src/tun-streams.js';
import type { Netns } from '@tunpipe/testkit';

/**
 * Uses every consumer and the writable of `tun`, with pings in `ns` as traffic;
 * resolves the pings answered and the pipe it leaves running.
 */
async function exercise(ns: Netns, tun: TunStreams, address: string): Promise<{ answered: number; piping: Promise<unknown> }> {
  // Async iteration, left with break after the first echo request (answered through send()).
  const pinging = ping(ns, address, { count: 4, intervalS: 0.1 });
  for await (const p of tun) {
    const reply = echoReply(p);
    if (reply !== null) {
      await tun.send(reply);
      break;
    }
  }
  // packets$ answers the next one.
  const [req] = await firstValueFrom(tun.packets$.pipe(take(1), toArray()));
  const reply = echoReply(req!);
  if (reply !== null) await tun.send(reply);
  // batches: read one, cancel.
  const batches = tun.batches.getReader();
  const b = await batches.read();
  for (let i = 0; b.value !== undefined && i < b.value.count; i++) {
    const r = echoReply({ data: b.value.data(i), queue: 0, copy: () => { throw new Error('unused'); } });
    if (r !== null) await tun.send(r);
  }
  await batches.cancel();
  // A pipeline through the writable that is still running when the device closes.
  const piping = tun.readable.pipeThrough(echoResponder()).pipeTo(tun.writable).catch((e: unknown) => e);
  return { answered: (await pinging).received, piping };
}

t.test('fds and threads are back to the baseline after close', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'leaks');
  // Warm-up: the first device loads modules and may start libuv's pool; not a leak.
  const warm = await openTunIn(ns, { name: 'tpl0', ipv4: { address: '198.18.0.1', prefix: 24 } });
  await ping(ns, '198.18.0.2', { count: 1, timeoutS: 0.2 });
  await warm.close();
  await sleep(100);
  const fds0 = openFds();
  const threads0 = threadCount();

  const rows = [
    { name: '1 queue, split', queues: 1, offload: false, mode: 'split' as const },
    { name: '2 queues, keep, offload', queues: 2, offload: true, mode: 'keep' as const },
    { name: '2 queues, split, offload, copies', queues: 2, offload: true, mode: 'split' as const, copy: true },
  ];
  for (const row of rows) {
    const tun = await openTunIn(ns, {
      name: 'tpl1',
      ipv4: { address: '198.18.0.1', prefix: 24 },
      queues: row.queues,
      offload: row.offload,
      mode: row.mode,
      copy: row.copy ?? false,
    });
    t.ok(threadCount() >= threads0 + row.queues, `${row.name}: one worker thread per queue while open`);
    const { answered, piping } = await exercise(ns, tun, '198.18.0.2');
    t.ok(answered >= 3, `${row.name}: ${answered} of 4 pings answered along the way`);
    await tun.close();
    const ended = await Promise.race([piping.then(() => 'ended'), sleep(2000).then(() => 'still running')]);
    t.equal(ended, 'ended', `${row.name}: the running pipe ended with the device`);
    t.equal(tun.activeConsumer, undefined, `${row.name}: and released it`);
    await sleep(50);
    t.equal(openFds(), fds0, `${row.name}: open fds back to ${fds0}`);
    t.equal(threadCount(), threads0, `${row.name}: threads back to ${threads0}`);
  }

  let piping: Promise<unknown> = Promise.resolve();
  {
    await using tun = await openTunIn(ns, { name: 'tpl2', ipv4: { address: '198.18.0.1', prefix: 24 } });
    piping = (await exercise(ns, tun, '198.18.0.2')).piping;
  }
  await piping;
  await sleep(50);
  t.equal(openFds(), fds0, 'await using: fds back');
  t.equal(threadCount(), threads0, 'await using: threads back');
  const links = (await ns.ipJson('link', 'show')) as Array<{ ifname: string }>;
  t.same(links.map((l) => l.ifname), ['lo'], 'no device is left in the namespace');
});
