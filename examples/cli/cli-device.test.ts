/**
 * `tunpipe up | relay | echo` on real devices, each run as a child process inside
 * namespaces the test created (`ip netns exec`), checked with outside oracles:
 * `ip -j -d link/addr`, real `ping`, a UDP client. (`capture`: cli-capture.test.ts.)
 */
import t from 'tap';
import { addrJson, createNetns, linkJson, ping, requireNetAdmin, type Peer } from '@tunpipe/testkit';
import { CLI_MAIN, STARTUP, linkNames, startTunpipe } from './cli-process.js';
import { UDP_CLIENT } from '../echo/udp-client.js';

/** JSON events a `--json` run printed so far. */
function events(peer: Peer): Array<Record<string, unknown>> {
  return peer.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

t.test('up: the device exists while it runs, configured as asked, and is gone after SIGTERM', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'cliup');
  const up = startTunpipe(t, ns, ['up', '--name', 'tpup0', '--addr', '198.18.0.1/24', '--addr', 'fd00::1/64', '--mtu', '1400', '--queues', '2', '--json']);
  await up.waitForOutput(/"event":"ready"/, STARTUP);
  const ready = events(up)[0]!;
  t.equal(ready.device, 'tpup0');
  t.equal(ready.queues, 2);
  const link = await linkJson(ns, 'tpup0');
  t.equal(link.mtu, 1400, 'MTU');
  t.ok(link.flags.includes('UP'), 'link up');
  t.match(JSON.stringify(link), /"multi_queue":true|multi_queue/, 'multi-queue device');
  const addrs = (await addrJson(ns, 'tpup0')).addr_info.map((a) => `${a.local}/${a.prefixlen}`);
  t.ok(addrs.includes('198.18.0.1/24') && addrs.includes('fd00::1/64'), `addresses ${addrs.join(' ')}`);
  const p = await ping(ns, '198.18.0.2', { count: 3, timeoutS: 0.3 });
  t.equal(p.transmitted, 3, 'ping sent into the device (no one answers)');
  const exit = await up.stop();
  t.equal(exit.code, 0, 'exit 0 after SIGTERM');
  const down = events(up).find((e) => e.event === 'down')!;
  t.ok((down.rxPackets as number) >= 3, `the queue workers counted the requests (${String(down.rxPackets)})`);
  t.notOk((await linkNames(ns)).includes('tpup0'), 'device removed');
});

/** Relay runs: how it is started, and whether its devices carry the virtio header. */
const RELAYS: Array<[label: string, cmd: string, args: string[], vnet: boolean]> = [
  ['operands, keep mode, 2 queues, offload', process.execPath, [CLI_MAIN, 'relay', 'tpra', 'tprb', '--queues', '2'], true],
  ['$TUN_A/$TUN_B, split mode, plain devices', 'env', ['TUN_A=tpra', 'TUN_B=tprb', process.execPath, CLI_MAIN, 'relay', '--mode', 'split', '--plain'], false],
];

for (const [label, cmd, args, vnet] of RELAYS) {
  t.test(`relay (${label}): ping between two namespaces (forwarder contract: READY, SIGTERM, < 5 s)`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const router = createNetns(t, 'clirelay');
    const a = createNetns(t, 'clirelaya');
    const b = createNetns(t, 'clirelayb');
    const relay = router.spawn(t, cmd, args);
    await relay.waitForOutput(/^READY$/m, STARTUP);
    const info = ((await linkJson(router, 'tpra')) as unknown as { linkinfo: { info_data: { vnet_hdr: boolean } } }).linkinfo.info_data;
    t.equal(info.vnet_hdr, vnet, `virtio header ${vnet ? 'on' : 'off'}`);
    // The harness's part of the contract: move the devices, then configure them.
    await router.ip('link', 'set', 'tpra', 'netns', a.name);
    await router.ip('link', 'set', 'tprb', 'netns', b.name);
    for (const [ns, dev, local, remote, local6, remote6] of [
      [a, 'tpra', '198.18.1.1/24', '198.18.2.0/24', 'fd00:1::1/64', 'fd00:2::/64'],
      [b, 'tprb', '198.18.2.1/24', '198.18.1.0/24', 'fd00:2::1/64', 'fd00:1::/64'],
    ] as const) {
      await ns.ip('addr', 'add', local, 'dev', dev);
      await ns.ip('addr', 'add', local6, 'dev', dev, 'nodad');
      await ns.ip('link', 'set', dev, 'up');
      await ns.ip('route', 'add', remote, 'dev', dev);
      await ns.ip('route', 'add', remote6, 'dev', dev);
    }
    const v4 = await ping(a, '198.18.2.1', { count: 5 });
    t.equal(v4.received, 5, `IPv4 ping through the relay: ${v4.received}/5`);
    const v6 = await ping(b, 'fd00:1::1', { count: 5 });
    t.equal(v6.received, 5, `IPv6 ping through the relay: ${v6.received}/5`);
    const started = Date.now();
    const exit = await relay.stop({ graceMs: 5000 });
    t.equal(exit.signal, null, 'exited by itself, not killed');
    t.equal(exit.code, 0, 'exit 0');
    t.ok(Date.now() - started < 5000, `stopped within 5 s of SIGTERM (${Date.now() - started} ms)`);
    t.match(exit.stdout, /forwarded tpra→tprb (\d+), tprb→tpra \1/, 'as many packets each way');
    t.notOk((await linkNames(a)).includes('tpra'), 'tpra gone');
    t.notOk((await linkNames(b)).includes('tprb'), 'tprb gone');
  });
}

t.test('echo: ping (v4, v6) and a UDP client answered', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'cliecho');
  const echo = startTunpipe(t, ns, ['echo', '--dev', 'tpecho0', '--addr', '198.18.3.1/24', '--addr', 'fd00:3::1/64', '--json']);
  await echo.waitForOutput(/"event":"ready"/, STARTUP);
  const v4 = await ping(ns, '198.18.3.2', { count: 3 });
  t.equal(v4.received, 3, 'IPv4 echo answered');
  const v6 = await ping(ns, 'fd00:3::2', { count: 3 });
  t.equal(v6.received, 3, 'IPv6 echo answered');
  const udp = await ns.exec(process.execPath, ['-e', UDP_CLIENT, '198.18.3.2', 'hello cli'], { timeoutMs: 5000 });
  t.equal(udp.stdout.trim(), 'reply from 198.18.3.2 port 7: hello cli');
  const exit = await echo.stop();
  t.equal(exit.code, 0);
  const stopped = events(echo).find((e) => e.event === 'stopped')!;
  t.ok((stopped.replied as number) >= 7, `replied ${String(stopped.replied)}`);
  t.notOk((await linkNames(ns)).includes('tpecho0'), 'device removed');
});

t.test('up: the device deleted under it ends it with one coded line, exit 1', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'cligone');
  const up = startTunpipe(t, ns, ['up', '--name', 'tpgone0', '--queues', '2']);
  await up.waitForOutput(/tpgone0 up/, STARTUP);
  await ns.ip('link', 'del', 'tpgone0');
  const exit = await Promise.race([up.wait(), new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
  t.ok(exit !== null, 'exits by itself');
  t.equal(exit?.code, 1);
  t.match(exit?.stderr, /^tunpipe: ERR_TUN_DEVICE_GONE: .*\n$/);
});

t.test('up --tap --offload --queues 2: a multi-queue TAP with virtio header, removed on SIGINT', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'clitap');
  const up = startTunpipe(t, ns, ['up', '--name', 'tptap0', '--tap', '--offload', '--queues', '2', '--addr', '198.18.15.1/24', '--mtu', '9000']);
  await up.waitForOutput(/tptap0 up \(2 queues, 198\.18\.15\.1\/24.*mtu 9000\)/, STARTUP);
  const link = (await linkJson(ns, 'tptap0')) as unknown as { mtu: number; link_type: string; linkinfo: { info_data: Record<string, unknown> } };
  t.equal(link.link_type, 'ether', 'an Ethernet (TAP) link');
  t.equal(link.mtu, 9000);
  t.match(link.linkinfo.info_data, { type: 'tap', vnet_hdr: true, multi_queue: true, numqueues: 2, persist: false });
  const exit = await up.stop({ signal: 'SIGINT' });
  t.equal(exit.code, 0, 'SIGINT: exit 0');
  t.match(exit.stdout, /tptap0 removed on SIGINT/);
  t.notOk((await linkNames(ns)).includes('tptap0'), 'device removed');
});
