/**
 * `tunpipe capture` on real devices, run as a child process inside namespaces the
 * test created: a device it creates, a persistent device it attaches to (all its
 * traffic), a queue of a multi-queue device held by `up` (its flow-hash share),
 * each pcap read back by `tcpdump -r`.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, linkJson, ping, requireNetAdmin, tcpdumpRead, type Netns, type Peer, type TestContext } from '@tunpipe/testkit';
import { STARTUP, linkNames, runTunpipeIn, startTunpipe } from './cli-process.js';

/** JSON events a `--json` run printed so far. */
function events(peer: Peer): Array<Record<string, unknown>> {
  return peer.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function scratchDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tp-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** No IPv6 on links created from now on: no router solicitations in captures. */
async function noIpv6(ns: Netns): Promise<void> {
  await ns.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
}

t.test('capture: a pcap of the device while ping runs, read back by tcpdump', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'clicap');
  await noIpv6(ns);
  const file = join(scratchDir(t), 'out.pcap');
  const capture = startTunpipe(t, ns, ['capture', '--dev', 'tpcap0', '--addr', '198.18.4.1/24', '-w', file, '--count', '3']);
  await capture.waitForOutput(/capturing tpcap0/, STARTUP);
  await ping(ns, '198.18.4.2', { count: 3, timeoutS: 0.3 });
  const exit = await capture.wait();
  t.equal(exit.code, 0, 'ends by itself after --count packets');
  t.match(exit.stdout, /3 packets written/);
  const lines = await tcpdumpRead(file);
  t.equal(lines.length, 3, lines.join('\n'));
  lines.forEach((line, i) => t.match(line, new RegExp(`IP 198\\.18\\.4\\.1 > 198\\.18\\.4\\.2: ICMP echo request, id \\d+, seq ${i + 1}, length 64$`)));
  t.notOk((await linkNames(ns)).includes('tpcap0'), 'device removed');
});

t.test('capture attaches to a persistent device left by `up --persist` (all its traffic)', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'clipersist');
  await noIpv6(ns);
  const up = startTunpipe(t, ns, ['up', '--name', 'tpkeep0', '--addr', '198.18.5.1/24', '--persist']);
  await up.waitForOutput(/tpkeep0 up/, STARTUP);
  t.equal((await up.stop()).code, 0);
  t.ok((await linkNames(ns)).includes('tpkeep0'), '--persist: the device outlives up');
  const file = join(scratchDir(t), 'persist.pcap');
  const bad = await runTunpipeIn(ns, ['capture', '--dev', 'tpkeep0', '-w', file, '--addr', '198.18.6.1/24']);
  t.equal(bad.code, 2, 'configuring an existing device is a usage error');
  t.match(bad.stderr, /^tunpipe: ERR_TUN_USAGE: tpkeep0 exists/);
  const capture = startTunpipe(t, ns, ['capture', '--dev', 'tpkeep0', '-w', file, '--count', '2']);
  await capture.waitForOutput(/capturing tpkeep0/, STARTUP);
  await ns.ip('link', 'set', 'tpkeep0', 'up');
  await ping(ns, '198.18.5.2', { count: 2, timeoutS: 0.3 });
  const exit = await capture.wait();
  t.equal(exit.code, 0);
  const lines = await tcpdumpRead(file);
  t.equal(lines.length, 2, lines.join('\n'));
  t.ok(lines.every((l) => / 198\.18\.5\.1 > 198\.18\.5\.2: ICMP echo request/.test(l)), 'the echo requests');
  t.ok((await linkNames(ns)).includes('tpkeep0'), 'capture leaves a device it attached to');
  await ns.ip('link', 'del', 'tpkeep0');
});

t.test('capture attaches its own queue to a multi-queue device: it gets its flow-hash share, up gets the rest', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'climq');
  await noIpv6(ns);
  const up = startTunpipe(t, ns, ['up', '--name', 'tpmq0', '--addr', '198.18.14.1/24', '--queues', '2', '--json']);
  await up.waitForOutput(/"event":"ready"/, STARTUP);
  const file = join(scratchDir(t), 'share.pcap');
  const capture = startTunpipe(t, ns, ['capture', '--dev', 'tpmq0', '-w', file, '--count', '3']);
  await capture.waitForOutput(/capturing tpmq0/, STARTUP);
  const info = (await linkJson(ns, 'tpmq0')) as unknown as { linkinfo: { info_data: { numqueues: number } } };
  t.equal(info.linkinfo.info_data.numqueues, 3, 'capture attached a third queue');
  // One ping per destination: each is its own flow, hashed over the three queues.
  let sent = 0;
  for (let host = 2; host < 60 && !capture.exitedAlready; host++) {
    await ping(ns, `198.18.14.${host}`, { count: 1, timeoutS: 0.1 });
    sent++;
  }
  const exit = await capture.wait();
  t.equal(exit.code, 0, `capture got its 3 packets after ${sent} flows`);
  const captured = await tcpdumpRead(file);
  t.equal(captured.length, 3);
  t.equal(((await linkJson(ns, 'tpmq0')) as unknown as { linkinfo: { info_data: { numqueues: number } } }).linkinfo.info_data.numqueues, 2, 'its queue detached on exit, the device stays');
  await up.stop();
  const down = events(up).find((e) => e.event === 'down')!;
  t.equal((down.rxPackets as number) + 3, sent, 'up saw every request capture did not: the share is taken, not copied');
});
