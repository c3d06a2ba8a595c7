/**
 * Every Device setter, on TUN and on TAP, read back twice: through the Device's
 * own getters and through `ip -j` (link, addr, route) in the test's namespace.
 * The calling thread leaves the namespace right after `build()`: configuration
 * must keep targeting the device's namespace through its own netlink socket.
 */
import t, { type Test } from 'tap';
import { TunError } from '@tunpipe/offload';
import {
  addrJson, createNetns, linkJson, requireNetAdmin, routeJson, type IpAddrInfoJson, type Netns,
} from '@tunpipe/testkit';
import { DeviceBuilder } from '../src/builder.js';
import type { Device } from '../src/device.js';
import type { Layer } from '../src/validate.js';

const LAYERS: Layer[] = ['l3', 'l2'];

/** Builds inside `ns` (the thread leaves it again at once); the device is closed in teardown. */
function build(t: Test, ns: Netns, configure: (b: DeviceBuilder) => DeviceBuilder): Device {
  let dev: Device;
  {
    using _ = ns.enter();
    dev = configure(new DeviceBuilder()).build();
  }
  t.teardown(() => dev.close());
  return dev;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof TunError ? e.code : `non-TunError: ${String(e)}`;
  }
}

/** `address/prefix` of every global address `ip addr` lists (link-local IPv6 left out). */
async function ipAddresses(ns: Netns, dev: string): Promise<string[]> {
  const entry = await addrJson(ns, dev);
  return entry.addr_info
    .filter((a: IpAddrInfoJson) => !(a.family === 'inet6' && a.scope === 'link'))
    .map((a: IpAddrInfoJson) => `${a.local}/${a.prefixlen}`)
    .sort();
}

function apiAddresses(dev: Device): string[] {
  return dev.addresses().filter((a) => !a.address.startsWith('fe80:')).map((a) => `${a.address}/${a.prefix}`).sort();
}

for (const layer of LAYERS) {
  const kind = layer === 'l2' ? 'tap' : 'tun';

  t.test(`${kind}: identity and link settings`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `link${kind}`);
    const dev = build(t, ns, (b) => b.name('tpcfg0').layer(layer).mtu(1400).txQueueLen(321));
    let ip = await linkJson(ns, 'tpcfg0');
    t.equal(dev.name(), 'tpcfg0');
    t.equal(dev.ifIndex(), ip.ifindex, 'ifIndex = ip ifindex');
    t.equal(dev.layer(), layer);
    t.equal(ip.linkinfo?.info_data?.type, kind, `ip -d: type ${kind}`);
    t.equal(dev.packetInformation(), false);
    t.equal(ip.linkinfo?.info_data?.pi, false, 'ip -d: pi off');
    t.equal(dev.multiQueue(), false);
    t.equal(ip.linkinfo?.info_data?.multi_queue, false);
    t.equal(dev.vnetHdr, false);
    t.equal(ip.linkinfo?.info_data?.vnet_hdr, false);
    t.equal(dev.mtu(), 1400);
    t.equal(ip.mtu, 1400, 'builder mtu in ip');
    t.equal(dev.txQueueLen(), 321);
    t.equal(ip.txqlen, 321, 'builder txQueueLen in ip');
    t.ok(ip.flags.includes('UP'), 'enabled by default');
    t.equal(dev.isRunning(), true);

    dev.setMtu(1280);
    dev.setTxQueueLen(42);
    dev.enabled(false);
    ip = await linkJson(ns, 'tpcfg0');
    t.equal(dev.mtu(), 1280);
    t.equal(ip.mtu, 1280, 'setMtu in ip');
    t.equal(dev.txQueueLen(), 42);
    t.equal(ip.txqlen, 42, 'setTxQueueLen in ip');
    t.notOk(ip.flags.includes('UP'), 'enabled(false): down in ip');
    t.equal(dev.isRunning(), false);
    dev.enabled(true);
    ip = await linkJson(ns, 'tpcfg0');
    t.ok(ip.flags.includes('UP') && ip.flags.includes('LOWER_UP'), 'enabled(true): UP,LOWER_UP in ip');
    t.equal(dev.isRunning(), true);

    t.equal(codeOf(() => dev.setMtu(67)), 'ERR_TUN_INVALID_MTU');
    t.equal(codeOf(() => dev.setTxQueueLen(-5)), 'ERR_TUN_INVALID_ARGUMENT');
    t.equal((await linkJson(ns, 'tpcfg0')).mtu, 1280, 'a refused setter changed nothing');

    if (layer === 'l2') {
      t.equal(dev.macAddress(), ip.address, 'macAddress = ip address');
      dev.setMacAddress('02:00:5E:00:00:42');
      t.equal(dev.macAddress(), '02:00:5e:00:00:42');
      t.equal((await linkJson(ns, 'tpcfg0')).address, '02:00:5e:00:00:42', 'setMacAddress in ip');
      dev.setMacAddress(new Uint8Array([2, 0, 0x5e, 0, 0, 0x43]));
      t.equal((await linkJson(ns, 'tpcfg0')).address, '02:00:5e:00:00:43', 'setMacAddress from bytes');
      t.equal(codeOf(() => dev.setMacAddress('ff:ff:ff:ff:ff:ff')), 'ERR_TUN_INVALID_MAC');
      t.equal(codeOf(() => dev.setMtu(65535)), 'ERR_TUN_INVALID_MTU', 'TAP MTU limit');
    } else {
      t.equal(codeOf(() => dev.macAddress()), 'ERR_TUN_INVALID_OPTION', 'no MAC on TUN');
      t.equal(codeOf(() => dev.setMacAddress('02:00:5e:00:00:42')), 'ERR_TUN_INVALID_OPTION');
      dev.setMtu(65535);
      t.equal((await linkJson(ns, 'tpcfg0')).mtu, 65535, 'TUN takes MTU 65535');
    }
  });

  t.test(`${kind}: builder MAC and addresses`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `bmac${kind}`);
    const dev = build(t, ns, (b) => {
      const c = b.name('tpb0').layer(layer).ipv4('198.18.0.1', '255.255.255.0').ipv6('fd00::1', 64).ipv6('fd00:2::1', 80);
      return layer === 'l2' ? c.macAddr('02:00:5e:00:00:09') : c;
    });
    t.same(await ipAddresses(ns, 'tpb0'), ['198.18.0.1/24', 'fd00:2::1/80', 'fd00::1/64'], 'ip addr has the builder addresses');
    t.same(apiAddresses(dev), ['198.18.0.1/24', 'fd00:2::1/80', 'fd00::1/64'], 'addresses() agrees');
    if (layer === 'l2') t.equal((await linkJson(ns, 'tpb0')).address, '02:00:5e:00:00:09', 'builder MAC in ip');
  });

  t.test(`${kind}: IPv4 and IPv6 add/remove, setNetworkAddress, broadcast`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `addr${kind}`);
    const dev = build(t, ns, (b) => b.name('tpaddr0').layer(layer));
    t.same(await ipAddresses(ns, 'tpaddr0'), [], 'no addresses to start with');

    dev.addAddressV4('198.18.1.1', 24);
    dev.addAddressV4('198.18.2.1', '255.255.255.0');
    dev.addAddressV6('fd00:1::1', 64);
    dev.addAddressV6('FD00:1:0::2', 96);
    const added = ['198.18.1.1/24', '198.18.2.1/24', 'fd00:1::1/64', 'fd00:1::2/96'];
    t.same(await ipAddresses(ns, 'tpaddr0'), added, 'ip addr after add');
    t.same(apiAddresses(dev), added, 'addresses() after add');

    dev.removeAddress('198.18.1.1');
    dev.removeAddressV6('fd00:1::2', 96);
    dev.removeAddress('fd00:1::1');
    t.same(await ipAddresses(ns, 'tpaddr0'), ['198.18.2.1/24'], 'ip addr after remove');
    t.same(apiAddresses(dev), ['198.18.2.1/24']);
    t.equal(codeOf(() => dev.removeAddress('198.18.9.9')), 'ERR_TUN_NOT_FOUND', 'removing a missing address');
    t.equal(codeOf(() => dev.removeAddressV6('fd00:9::1', 64)), 'ERR_TUN_NETLINK', 'removing a missing IPv6 address');
    t.equal(codeOf(() => dev.addAddressV4('198.18.2.300', 24)), 'ERR_TUN_INVALID_ADDRESS');
    t.equal(codeOf(() => dev.addAddressV6('fd00::1', 200)), 'ERR_TUN_INVALID_PREFIX');

    dev.addAddressV4('198.18.7.1', 24);
    dev.addAddressV6('fd00:3::1', 64);
    dev.setNetworkAddress('198.18.3.1', 24);
    t.same(await ipAddresses(ns, 'tpaddr0'), ['198.18.3.1/24', 'fd00:3::1/64'], 'setNetworkAddress replaced every IPv4 address, kept IPv6');
    t.equal(dev.broadcast(), '198.18.3.255', 'broadcast() of a /24');
    let v4 = (await addrJson(ns, 'tpaddr0')).addr_info.find((a) => a.family === 'inet');
    t.equal(v4?.broadcast, '198.18.3.255', 'ip agrees on the broadcast');

    dev.setBroadcast('198.18.3.127');
    t.equal(dev.broadcast(), '198.18.3.127');
    v4 = (await addrJson(ns, 'tpaddr0')).addr_info.find((a) => a.family === 'inet');
    t.equal(v4?.broadcast, '198.18.3.127', 'setBroadcast in ip');
    t.equal(v4?.local, '198.18.3.1', 'same address after setBroadcast');

    dev.setNetworkAddress('198.18.4.1', 32, '198.18.4.2');
    v4 = (await addrJson(ns, 'tpaddr0')).addr_info.find((a) => a.family === 'inet');
    t.equal(v4?.local, '198.18.4.1', 'point-to-point local');
    t.equal(v4?.address, '198.18.4.2', 'point-to-point peer in ip');
    const routes = await routeJson(ns, 'tpaddr0', { family: 4 });
    t.ok(routes.some((r) => r.dst === '198.18.4.2'), 'the kernel routes the destination through the device', { routes });
    t.equal(dev.broadcast(), null, 'no broadcast on a point-to-point address');
  });

  t.test(`${kind}: routes`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `route${kind}`);
    const dev = build(t, ns, (b) => b.name('tproute0').layer(layer).ipv4('198.18.0.1', 24).ipv6('fd00::1', 64));
    dev.addRoute('198.18.4.0/24');
    dev.addRoute('198.18.5.0/24', { metric: 77 });
    dev.addRoute('198.18.6.0/24', { gateway: '198.18.0.2' });
    dev.addRoute('198.18.8.9/24'); // host bits are dropped: 198.18.8.0/24
    dev.addRoute('fd00:4::/64');
    dev.addRoute('fd00:5::/64', { gateway: 'fd00::2', metric: 5 });
    const v4 = await routeJson(ns, 'tproute0', { family: 4 });
    const find4 = (dst: string): Record<string, unknown> | undefined => v4.find((r) => r.dst === dst);
    t.ok(find4('198.18.4.0/24'), 'on-link route in ip');
    t.equal(find4('198.18.5.0/24')?.metric, 77, 'metric in ip');
    t.equal(find4('198.18.6.0/24')?.gateway, '198.18.0.2', 'gateway in ip');
    t.ok(find4('198.18.8.0/24'), 'host bits dropped');
    const v6 = await routeJson(ns, 'tproute0', { family: 6 });
    t.ok(v6.some((r) => r.dst === 'fd00:4::/64'), 'IPv6 route in ip');
    const gw6 = v6.find((r) => r.dst === 'fd00:5::/64');
    t.equal(gw6?.gateway, 'fd00::2');
    t.equal(gw6?.metric, 5);

    dev.removeRoute('198.18.4.0/24');
    dev.removeRoute('fd00:4::/64');
    const after4 = (await routeJson(ns, 'tproute0', { family: 4 })).map((r) => r.dst);
    const after6 = (await routeJson(ns, 'tproute0', { family: 6 })).map((r) => r.dst);
    t.notOk(after4.includes('198.18.4.0/24'), 'removeRoute (v4) in ip');
    t.notOk(after6.includes('fd00:4::/64'), 'removeRoute (v6) in ip');
    t.ok(after4.includes('198.18.5.0/24'), 'other routes stay');
    t.equal(codeOf(() => dev.addRoute('198.18.9.0/33')), 'ERR_TUN_INVALID_PREFIX');
    t.equal(codeOf(() => dev.addRoute('198.18.9.0/24', { gateway: 'fd00::2' })), 'ERR_TUN_INVALID_ADDRESS', 'gateway of the other family');
    t.equal(codeOf(() => dev.addRoute('198.18.9.0/24', { metric: -1 })), 'ERR_TUN_INVALID_ARGUMENT');
  });

  t.test(`${kind}: rename, also while up with IPv6 addresses`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `rename${kind}`);
    const dev = build(t, ns, (b) => b.name('tpold0').layer(layer).ipv4('198.18.0.1', 24).ipv6('fd00::1', 64).enable(false));
    dev.setName('tpmid0');
    t.equal(dev.name(), 'tpmid0');
    t.equal((await linkJson(ns, 'tpmid0')).ifindex, dev.ifIndex(), 'renamed while down');
    dev.enabled(true);
    dev.setName('tpnew0');
    t.equal(dev.name(), 'tpnew0');
    const ip = await linkJson(ns, 'tpnew0');
    t.equal(ip.ifindex, dev.ifIndex(), 'ip shows the new name');
    t.ok(ip.flags.includes('UP'), 'still up after renaming an up link');
    t.same(await ipAddresses(ns, 'tpnew0'), ['198.18.0.1/24', 'fd00::1/64'], 'addresses survived, IPv6 included');
    const names = ((await ns.ipJson('link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname);
    t.notOk(names.includes('tpold0') || names.includes('tpmid0'), 'old names are gone');
    t.equal(codeOf(() => dev.setName('tp%d')), 'ERR_TUN_INVALID_NAME', 'no templates in setName');
    t.equal(codeOf(() => dev.setName('tp/x')), 'ERR_TUN_INVALID_NAME');
  });

  t.test(`${kind}: persist, then reattach to the persistent device`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `persist${kind}`);
    const first = build(t, ns, (b) => b.name('tpper0').layer(layer).persist(true).mtu(1300));
    const ifindex = first.ifIndex();
    t.equal(first.isPersistent(), true);
    t.equal((await linkJson(ns, 'tpper0')).linkinfo?.info_data?.persist, true, 'ip -d: persist on');
    first.close();
    const kept = await linkJson(ns, 'tpper0');
    t.equal(kept.ifindex, ifindex, 'the device outlived its fd');
    t.equal(kept.mtu, 1300);

    const again = build(t, ns, (b) => b.name('tpper0').layer(layer));
    t.equal(again.ifIndex(), ifindex, 'reattached to the same interface');
    t.equal(again.isPersistent(), true, 'still persistent');
    t.equal(again.mtu(), 1300, 'configuration kept');
    again.close();

    const last = build(t, ns, (b) => b.name('tpper0').layer(layer).persist(false));
    t.equal(last.ifIndex(), ifindex);
    t.equal(last.isPersistent(), false, 'persist(false) on reattach clears it');
    t.equal((await linkJson(ns, 'tpper0')).linkinfo?.info_data?.persist, false, 'ip -d: persist off');
    last.close();
    const names = ((await ns.ipJson('link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname);
    t.notOk(names.includes('tpper0'), 'gone with its last fd once not persistent');

    // The Device's own switch: persist(true) / persist(false), read back by persist() and ip -d.
    const dev = build(t, ns, (b) => b.name('tpper1').layer(layer));
    t.equal(dev.isPersistent(), false);
    dev.persist();
    t.equal(dev.isPersistent(), true, 'persist() with no argument turns it on, as in tun-rs');
    t.equal((await linkJson(ns, 'tpper1')).linkinfo?.info_data?.persist, true, 'persist(true) in ip -d');
    dev.persist(false);
    t.equal(dev.isPersistent(), false);
    t.equal((await linkJson(ns, 'tpper1')).linkinfo?.info_data?.persist, false, 'persist(false) in ip -d');
    t.equal(codeOf(() => dev.persist('on' as unknown as boolean)), 'ERR_TUN_INVALID_ARGUMENT');
  });

  t.test(`${kind}: owner and group`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `owner${kind}`);
    const dev = build(t, ns, (b) => b.name('tpown0').layer(layer).owner(4242).group(4343));
    let data = (await linkJson(ns, 'tpown0')).linkinfo?.info_data;
    t.equal(Number(data?.user), 4242, 'builder owner in ip -d');
    t.equal(Number(data?.group), 4343, 'builder group in ip -d');
    dev.user(4444);
    dev.group(4545);
    data = (await linkJson(ns, 'tpown0')).linkinfo?.info_data;
    t.equal(Number(data?.user), 4444, 'user() in ip -d');
    t.equal(Number(data?.group), 4545, 'group() in ip -d');
    t.equal(codeOf(() => dev.user(-1)), 'ERR_TUN_INVALID_ARGUMENT');
  });

  t.test(`${kind}: multi-queue cloneQueue, seen as numqueues`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `mq${kind}`);
    const dev = build(t, ns, (b) => b.name('tpmq0').layer(layer).multiQueue(true).offload(true));
    const numqueues = async (): Promise<unknown> => (await linkJson(ns, 'tpmq0')).linkinfo?.info_data?.numqueues;
    t.equal(dev.multiQueue(), true);
    t.equal(await numqueues(), 1);
    // The calling thread is outside the namespace now: the queue must still join the device there.
    const q2 = dev.cloneQueue();
    t.teardown(() => q2.close());
    const q3 = q2.cloneQueue();
    t.teardown(() => q3.close());
    t.equal(await numqueues(), 3, 'two clones: numqueues 3');
    for (const q of [q2, q3]) {
      t.equal(q.ifIndex(), dev.ifIndex());
      t.equal(q.name(), 'tpmq0');
      t.equal(q.multiQueue(), true);
      t.equal(q.vnetHdr, true, 'same vnet header');
      t.equal(q.tcpGso(), dev.tcpGso(), 'same TCP offload');
      t.equal(q.udpGso(), dev.udpGso(), 'same UDP offload');
      t.not(q.fd, dev.fd, 'its own fd');
    }
    const rootNames = (JSON.parse(
      (await import('node:child_process')).execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }),
    ) as Array<{ ifname: string }>).map((l) => l.ifname);
    t.notOk(rootNames.includes('tpmq0'), 'no stray device in the namespace the thread is in');
    q3.close();
    t.equal(await numqueues(), 2, 'closing a queue detaches it');

    const single = build(t, ns, (b) => b.name('tpsq0').layer(layer));
    t.equal(codeOf(() => single.cloneQueue()), 'ERR_TUN_NOT_SUPPORTED', 'single-queue device');
  });

  t.test(`${kind}: offload flags`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `gso${kind}`);
    const on = build(t, ns, (b) => b.name('tpgso0').layer(layer).offload(true));
    t.equal(on.tcpGso(), true, 'tcpGso on this kernel');
    t.equal(on.udpGso(), true, 'udpGso (USO) on this kernel');
    t.equal(on.vnetHdr, true);
    t.equal(on.vnetHdrLen, 10);
    t.equal((await linkJson(ns, 'tpgso0')).linkinfo?.info_data?.vnet_hdr, true, 'ip -d: vnet_hdr on');
    const off = build(t, ns, (b) => b.name('tpgso1').layer(layer));
    t.equal(off.tcpGso(), false);
    t.equal(off.udpGso(), false);
    t.equal(off.vnetHdrLen, 0);
    const pi = build(t, ns, (b) => b.name('tpgso2').layer(layer).packetInformation(true).multiQueue(true));
    t.equal(pi.packetInformation(), true);
    const data = (await linkJson(ns, 'tpgso2')).linkinfo?.info_data;
    t.equal(data?.pi, true, 'ip -d: pi on');
    t.equal(data?.multi_queue, true, 'ip -d: multi_queue with pi');
  });
}

t.test('moveToNetns: the link arrives down and bare; configuration follows it', async (t) => {
  if (!requireNetAdmin(t)) return;
  const home = createNetns(t, 'movehome');
  const away = createNetns(t, 'moveaway');
  const dev = build(t, home, (b) => b.name('tpmove0').ipv4('198.18.0.1', 24));
  dev.moveToNetns(away.name);
  const homeNames = ((await home.ipJson('link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname);
  t.notOk(homeNames.includes('tpmove0'), 'gone from the old namespace');
  const ip = await linkJson(away, 'tpmove0');
  t.equal(ip.ifindex, dev.ifIndex(), 'ifIndex follows the move');
  t.notOk(ip.flags.includes('UP'), 'down after the move');
  t.same(await ipAddresses(away, 'tpmove0'), [], 'addresses dropped by the move');
  dev.addAddressV4('198.18.0.1', 24);
  dev.enabled(true);
  dev.setMtu(1360);
  t.same(await ipAddresses(away, 'tpmove0'), ['198.18.0.1/24'], 'configured in the new namespace');
  const after = await linkJson(away, 'tpmove0');
  t.ok(after.flags.includes('UP'));
  t.equal(after.mtu, 1360);
  t.equal(dev.name(), 'tpmove0');
  t.equal(codeOf(() => dev.moveToNetns('tp-does-not-exist-0')), 'ERR_TUN_NETNS', 'unknown namespace');
});

t.test('configuration after close() throws ERR_TUN_CLOSED', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'closed');
  const dev = build(t, ns, (b) => b.name('tpclosed0'));
  dev.close();
  dev.close();
  for (const [label, fn] of [
    ['name', () => dev.name()],
    ['setMtu', () => dev.setMtu(1400)],
    ['addresses', () => dev.addresses()],
    ['fd', () => dev.fd],
    ['tryRecv', () => dev.tryRecv(new Uint8Array(10))],
    ['send', () => dev.send(new Uint8Array(10))],
  ] as const) {
    t.equal(codeOf(fn), 'ERR_TUN_CLOSED', label);
  }
});
