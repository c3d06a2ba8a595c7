/**
 * Abort signals end device reads and pipelines promptly (within 100 ms), idle or
 * under traffic, and leave the device free for the next consumer.
 */
import t from 'tap';
import { requireNetAdmin, createNetns, type Netns, type TestContext } from '@tunpipe/testkit';
import { pipeline } from '../src/pipeline.js';
import type { Packet } from '../src/packet.js';
import type { TunStreams } from '../src/tun-streams.js';
import { disableIpv6, openTunIn, runPeer, sleep, until } from './device-fixtures.js';

const PROMPT_MS = 100;

/** Milliseconds from `abort()` until `settled` settles; its rejection is returned. */
async function abortTimed(abort: AbortController, settled: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  let error: unknown;
  const watched = settled.then(
    () => undefined,
    (e: unknown) => {
      error = e;
    },
  );
  const t0 = performance.now();
  abort.abort(new Error('test abort'));
  await watched;
  return { ms: performance.now() - t0, error };
}

async function device(t: TestContext, tag: string): Promise<{ ns: Netns; tun: TunStreams }> {
  const ns = createNetns(t, tag);
  await disableIpv6(ns);
  const tun = await openTunIn(ns, { name: 'tpa0', ipv4: { address: '198.18.0.1', prefix: 24 } });
  t.teardown(() => tun.close());
  return { ns, tun };
}

/** A sink that counts and does nothing else. */
function counting(): { sink: WritableStream<Packet>; count: () => number } {
  let n = 0;
  return {
    sink: new WritableStream<Packet>({
      write() {
        n++;
      },
    }),
    count: () => n,
  };
}

t.test('idle device: every way of reading ends promptly on abort', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { tun } = await device(t, 'abortidle');
  const rows: Array<[string, (signal: AbortSignal) => Promise<unknown>]> = [
    ['readable.pipeTo(sink, { signal })', (signal) => tun.readable.pipeTo(counting().sink, { signal })],
    ['pipeline(readable, stage, sink, { signal })', (signal) => pipeline(tun.readable, new TransformStream<Packet, Packet>(), counting().sink, { signal })],
    [
      'for await (const p of tun.packets({ signal }))',
      async (signal) => {
        for await (const _ of tun.packets({ signal })) void _;
      },
    ],
    ['readable.pipeTo(tun.writable, { signal }) (loopback)', (signal) => tun.readable.pipeTo(tun.writable, { signal })],
  ];
  for (const [name, start] of rows) {
    const abort = new AbortController();
    const running = start(abort.signal);
    await sleep(50); // let it reach its wait
    t.ok(tun.activeConsumer !== undefined, `${name}: reading`);
    const { ms, error } = await abortTimed(abort, running);
    t.ok(ms < PROMPT_MS, `${name}: settled ${ms.toFixed(1)} ms after abort`);
    t.ok(error !== undefined, `${name}: rejected (${(error as { code?: string; name?: string })?.code ?? (error as Error)?.name})`);
    t.ok(await until(() => tun.activeConsumer === undefined), `${name}: device released`);
  }
});

t.test('reader.cancel() and unsubscribe during a wait release at once', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { tun } = await device(t, 'abortcancel');
  const reader = tun.readable.getReader();
  const pending = reader.read();
  await sleep(30);
  const t0 = performance.now();
  await reader.cancel();
  const r = await pending;
  t.ok(performance.now() - t0 < PROMPT_MS, 'the pending read settled promptly');
  t.equal(r.done, true, 'as done');
  t.equal(tun.activeConsumer, undefined);
  const sub = tun.packets$.subscribe();
  await sleep(30);
  t.equal(tun.activeConsumer, 'packets$');
  sub.unsubscribe();
  t.equal(tun.activeConsumer, undefined, 'unsubscribing released the device synchronously');
});

t.test('under traffic: a pipeline aborted mid-burst settles promptly and the device reads on', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { ns, tun } = await device(t, 'aborttraffic');
  const sending = runPeer<{ sent: number }>(ns, 'udp-burst', ['198.18.0.2', 9000, 40_000, 4, 64]);
  const { sink, count } = counting();
  const abort = new AbortController();
  const running = pipeline(tun.readable, new TransformStream<Packet, Packet>(), sink, { signal: abort.signal });
  while (count() < 500) await sleep(5);
  const { ms, error } = await abortTimed(abort, running);
  t.ok(ms < PROMPT_MS, `settled ${ms.toFixed(1)} ms after abort, with ${count()} packets through`);
  t.match(error, { code: 'ERR_TUN_ABORTED', name: 'AbortError' });
  t.ok(await until(() => tun.activeConsumer === undefined), 'the source was cancelled');
  const again = tun.readable.getReader();
  const r = await again.read();
  t.notOk(r.done, 'the device is readable again');
  await again.cancel();
  await sending;
});
