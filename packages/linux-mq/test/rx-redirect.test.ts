/**
 * `QueueSet.redirectTo()` (rx-redirect.ts): one set's workers write what they
 * receive straight out of another set's device, and let go of it safely.
 *
 * ```
 *  ns A: udp-sender → tpr0 ══ A's worker ══ write(B's fd) ══► tpq0 → ns B's UDP stack
 * ```
 *
 * The outside oracle for arrival is ns B's own UDP counters (/proc/net/snmp:
 * every datagram to 198.18.2.1:9000 is counted, as NoPorts with no listener).
 * The safety oracle: after the target set closes, files opened at once take its
 * fd numbers, and not one byte may land in them while A keeps receiving.
 */
import t from 'tap';
import diagnostics from 'node:diagnostics_channel';
import { openSync, closeSync, fstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireNetAdmin, createNetns, openFds, threadCount, settledThreadCount, type Netns, type TestContext } from '@tunpipe/testkit';
import { DeviceBuilder } from '@tunpipe/core';
import { CHANNELS } from '../src/diagnostics.js';
import type { QueueSet } from '../src/queue-set.js';
import { openIn, runPeer, peerPath, drain, udpSeq } from './net-fixtures.js';

const PROMPT_MS = 2000;

/** Datagrams ns B's UDP stack saw (delivered, no port, or dropped). */
async function udpSeen(ns: Netns): Promise<number> {
  const r = await ns.exec('cat', ['/proc/net/snmp']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/).map(Number);
  return ['InDatagrams', 'NoPorts', 'InErrors'].reduce((sum, k) => sum + values[names.indexOf(k)]!, 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(cond: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() >= end) return false;
    await sleep(10);
  }
  return true;
}

/** Set A (tpr0, 198.18.1.1, routes 198.18.2.0/24 through it) in ns A; set B (tpq0, 198.18.2.1) in ns B. */
async function sets(t: TestContext, tag: string): Promise<{ nsA: Netns; nsB: Netns; a: QueueSet; b: QueueSet }> {
  const nsA = createNetns(t, `rr${tag}a`);
  const nsB = createNetns(t, `rr${tag}b`);
  for (const ns of [nsA, nsB]) await ns.exec('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const a = await openIn(nsA, { devices: [new DeviceBuilder().name('tpr0').ipv4('198.18.1.1', 24).enable(true)], rxSlots: 4096 });
  t.teardown(() => a.close());
  await nsA.ip('route', 'add', '198.18.2.0/24', 'dev', 'tpr0');
  const b = await openIn(nsB, { devices: [new DeviceBuilder().name('tpq0').ipv4('198.18.2.1', 24).enable(true)] });
  t.teardown(() => b.close());
  await nsB.ip('route', 'add', '198.18.1.0/24', 'dev', 'tpq0');
  return { nsA, nsB, a, b };
}

t.test('redirected datagrams leave through the target device; revoked, they reach the source reader again', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { nsA, nsB, a, b } = await sets(t, 'basic');
  const events: string[] = [];
  const onEvent = (m: unknown): void => {
    events.push((m as { event: string }).event);
  };
  diagnostics.subscribe(CHANNELS.lifecycle, onEvent);
  t.teardown(() => diagnostics.unsubscribe(CHANNELS.lifecycle, onEvent));

  const seen0 = await udpSeen(nsB);
  const r = await a.redirectTo(b);
  t.ok(r.active, 'active once redirectTo resolved');
  await t.rejects(a.redirectTo(b), { code: 'ERR_TUN_REDIRECT_ACTIVE' }, 'one redirect per source device');
  const COUNT = 3000;
  const { sent } = await runPeer<{ sent: number }>(nsA, 'udp-sender', ['198.18.2.1', 9000, COUNT, 1, 64, 6000]);
  t.equal(sent, COUNT);
  t.ok(await until(async () => (await udpSeen(nsB)) - seen0 >= a.totals().piped && a.totals().piped > 0, 5000), 'B\'s stack saw them');
  const s = a.totals();
  t.equal(s.piped, s.rxPackets, `every datagram A read was piped (${s.piped})`);
  t.equal(s.passed + s.delivered, 0, 'none went to the main thread');
  t.equal(s.txPackets, s.piped, 'A\'s worker wrote each (counted in A\'s tx)');
  t.equal(b.totals().txRingPackets + b.totals().sent, 0, 'B\'s TX path never saw them');
  t.equal((await udpSeen(nsB)) - seen0, s.piped, 'B\'s UDP stack counted exactly what was piped');
  t.same(events, ['held', 'redirected'], 'lifecycle: held, then redirected');

  await r.revoke();
  t.same(await r.ended, { cause: 'revoked', error: undefined }, 'ended: revoked');
  t.notOk(r.active);
  t.same(events.slice(2), ['unredirected']);
  const runner = runPeer<{ sent: number }>(nsA, 'udp-sender', ['198.18.2.1', 9000, 500, 1, 64, 5000]);
  let got = 0;
  await drain(a.reader(0), (p) => {
    if (udpSeq(p)?.port === 9000) got++;
  }, { done: () => got >= 500, limitMs: 10_000 });
  await runner;
  t.equal(got, 500, 'after revoke() the source reader gets every datagram');
  t.equal(a.totals().piped, s.piped, 'and nothing more was piped');
});

t.test('drain runs while reads are held; a drain that throws leaves the source reading as before', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { a, b } = await sets(t, 'drain');
  const boom = new Error('drain failed');
  await t.rejects(a.redirectTo(b, { drain: async () => Promise.reject(boom) }), boom, 'redirectTo rejects with the drain\'s error');
  const r = await a.redirectTo(b, { drain: async () => undefined });
  t.ok(r.active, 'and a later redirect works');
  await r.revoke();
  await b.close();
  await t.rejects(a.redirectTo(b), { code: 'ERR_TUN_CLOSED' }, 'a closed target is refused');
  await t.rejects(a.redirectTo({} as QueueSet), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});

t.test('the target closed under redirected load: revoked first, no write lands on a reused fd, nothing leaks', async (t) => {
  if (!requireNetAdmin(t)) return;
  const fds0 = openFds();
  const threads0 = threadCount();
  const dir = mkdtempSync(join(tmpdir(), 'tp-redirect-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  {
    const { nsA, nsB, a, b } = await sets(t, 'close');
    const r = await a.redirectTo(b);
    nsA.spawn(t, 'node', [peerPath('udp-sender'), '198.18.2.1', '9000', '800000', '1', '64', '40000']);
    t.ok(await until(() => a.totals().piped > 1000, 10_000), 'redirected and under load');
    const before = new Set(readdirSync('/proc/self/fd'));
    const t0 = performance.now();
    await b.close();
    const closeMs = performance.now() - t0;
    const after = new Set(readdirSync('/proc/self/fd'));
    const gone = [...before].filter((fd) => !after.has(fd)).map(Number);
    const files: number[] = [];
    for (let i = 0; i < gone.length + 4; i++) files.push(openSync(join(dir, `f${i}`), 'w'));
    t.ok(closeMs < PROMPT_MS, `the target closed in ${closeMs.toFixed(1)} ms`);
    t.notOk(r.active, 'the redirect was over before close() resolved');
    t.match(await r.ended, { cause: 'target', error: { code: 'ERR_TUN_CLOSED' } }, 'ended: target closed');
    const reused = files.filter((fd) => gone.includes(fd));
    t.ok(reused.length > 0, `files took the target's fd numbers ${reused.join(', ')}`);
    const piped = a.totals().piped;
    // A's worker is back on its RX ring, which nobody read meanwhile: read it, so
    // a full ring (the worker then waits for room) does not pass for a dead worker.
    const rx = a.totals().rxPackets;
    const reader = a.reader(0);
    const kept = await until(() => {
      for (let b = reader.tryRead(); b !== null; b = reader.tryRead()) reader.releaseBatch(b);
      return a.totals().rxPackets > rx;
    }, 5000);
    t.ok(kept, 'A kept receiving');
    t.equal(a.totals().piped, piped, 'A\'s worker piped nothing after the target closed');
    t.equal(files.reduce((sum, fd) => sum + fstatSync(fd).size, 0), 0, 'not one byte landed on a reused fd number');
    for (const fd of files) closeSync(fd);
    await a.close();
    await nsA.delete();
    await nsB.delete();
  }
  t.equal(openFds(), fds0, 'every fd closed');
  t.ok((await settledThreadCount(threads0)) <= threads0, 'every worker thread exited');
});

t.test('two sets redirecting into each other close together', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { a, b } = await sets(t, 'mutual');
  const ab = await a.redirectTo(b);
  const ba = await b.redirectTo(a);
  const closing = Promise.all([a.close(), b.close()]);
  const timeout = sleep(5000).then(() => 'stuck');
  t.not(await Promise.race([closing, timeout]), 'stuck', 'both closed');
  t.equal((await ab.ended).cause === 'revoked', false, 'A→B ended by a close');
  t.notOk(ab.active || ba.active);
});
