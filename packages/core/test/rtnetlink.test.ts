/**
 * Rtnetlink against the real kernel, each test in its own namespace, with `ip -j`
 * as the outside oracle for every operation. The subject is a veth pair (this
 * kernel has no `dummy` link type; TUN/TAP devices are the device tests' subject).
 */
import t, { type Test } from 'tap';
import { TunError } from '@tunpipe/offload';
import { addrJson, createNetns, linkJson, openFds, requireNetAdmin, routeJson, type Netns } from '@tunpipe/testkit';
import { Rtnetlink } from '../src/netlink/rtnetlink.js';
import { openNetnsFd } from '../src/netns.js';
import { IFF_UP } from '../src/constants.js';
import { sys } from '../src/libc.js';

interface Subject {
  ns: Netns;
  rtnl: Rtnetlink;
  /** ifindex of `tp-veth0` (its peer is `tp-veth1`). */
  index: number;
}

/** A namespace with a veth pair, and an Rtnetlink socket opened inside it. */
function subject(t: Test, tag: string): Subject {
  const ns = createNetns(t, tag);
  ns.ipSync('link', 'add', 'tp-veth0', 'type', 'veth', 'peer', 'name', 'tp-veth1');
  let rtnl: Rtnetlink;
  {
    using _ = ns.enter();
    rtnl = Rtnetlink.open();
  }
  t.teardown(() => rtnl.close());
  const link = rtnl.linkByName('tp-veth0');
  if (link === undefined) throw new Error('veth not visible through rtnetlink');
  return { ns, rtnl, index: link.ifindex };
}

/** Asserts `fn` throws TunError with `code` (and `sysCode` when given). */
function rejects(t: Test, fn: () => unknown, code: string, sysCode: string | undefined, name: string): void {
  try {
    fn();
    t.fail(`${name}: did not throw`);
  } catch (e) {
    if (!(e instanceof TunError)) {
      t.fail(`${name}: threw a non-TunError`, { error: e });
      return;
    }
    t.equal(e.code, code, `${name}: code ${code}`);
    if (sysCode !== undefined) {
      t.equal(e.sysCode, sysCode, `${name}: ${sysCode}`);
      t.match(e.syscall, /^netlink\(RTM_[A-Z]+\)$/, `${name}: syscall names the request`);
    }
  }
}

t.test('getLink / linkByName agree with ip -j -d link', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { ns, rtnl, index } = subject(t, 'link');
  const link = rtnl.getLink(index);
  const ip = await linkJson(ns, 'tp-veth0');
  t.same(
    {
      ifindex: link.ifindex,
      name: link.name,
      mtu: link.mtu,
      txQueueLen: link.txQueueLen,
      mac: link.mac,
      broadcastMac: link.broadcastMac,
      numTxQueues: link.numTxQueues,
      numRxQueues: link.numRxQueues,
      operState: link.operState,
      kind: link.kind,
    },
    {
      ifindex: ip.ifindex,
      name: ip.ifname,
      mtu: ip.mtu,
      txQueueLen: ip.txqlen,
      mac: ip.address,
      broadcastMac: ip.broadcast,
      numTxQueues: ip.num_tx_queues,
      numRxQueues: ip.num_rx_queues,
      operState: ip.operstate,
      kind: ip.linkinfo?.info_kind,
    },
  );
  t.equal((link.flags & IFF_UP) !== 0, ip.flags.includes('UP'));
  t.same(rtnl.linkByName('tp-veth0'), link);
  t.equal(rtnl.linkByName('tp-nothing'), undefined, 'unknown name -> undefined');
  const lo = rtnl.getLink(1);
  t.equal(lo.name, 'lo');
  t.equal(lo.kind, null, 'lo has no IFLA_LINKINFO kind');
  rejects(t, () => rtnl.getLink(99999), 'ERR_TUN_NO_DEVICE', 'ENODEV', 'getLink of a missing ifindex');
});

t.test('the socket belongs to the namespace it was opened in', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { rtnl } = subject(t, 'scope');
  t.ok(rtnl.linkByName('tp-veth0'), 'visible from the socket opened inside');
  using outside = Rtnetlink.open(); // the test process's own namespace
  t.equal(outside.linkByName('tp-veth0'), undefined, 'invisible from a socket opened outside');
});

t.test('link setters, each read back through ip -j', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { ns, rtnl, index } = subject(t, 'set');

  rtnl.setLinkUp(index, true);
  t.ok((await linkJson(ns, 'tp-veth0')).flags.includes('UP'), 'up');
  t.ok((rtnl.getLink(index).flags & IFF_UP) !== 0);
  rtnl.setLinkUp(index, false);
  t.notOk((await linkJson(ns, 'tp-veth0')).flags.includes('UP'), 'down');

  rtnl.setMtu(index, 1400);
  t.equal((await linkJson(ns, 'tp-veth0')).mtu, 1400, 'mtu');
  t.equal(rtnl.getLink(index).mtu, 1400);
  rejects(t, () => rtnl.setMtu(index, 10), 'ERR_TUN_NETLINK', 'EINVAL', 'mtu below the driver minimum');
  t.equal((await linkJson(ns, 'tp-veth0')).mtu, 1400, 'unchanged after a refused mtu');

  rtnl.setTxQueueLen(index, 321);
  t.equal((await linkJson(ns, 'tp-veth0')).txqlen, 321, 'txqueuelen');

  rtnl.setMacAddress(index, new Uint8Array([0x02, 0, 0x5e, 0x10, 0, 0x01]));
  t.equal((await linkJson(ns, 'tp-veth0')).address, '02:00:5e:10:00:01', 'mac from bytes');
  rtnl.setMacAddress(index, '02:00:5e:10:00:02');
  t.equal(rtnl.getLink(index).mac, '02:00:5e:10:00:02', 'mac from text');
  rejects(t, () => rtnl.setMacAddress(index, '01:00:5e:00:00:01'), 'ERR_TUN_NETLINK', 'EADDRNOTAVAIL', 'multicast mac');
  rejects(t, () => rtnl.setMacAddress(index, new Uint8Array(5)), 'ERR_TUN_INVALID_MAC', undefined, '5-byte mac');

  rtnl.setName(index, 'tp-renamed');
  t.equal((await linkJson(ns, 'tp-renamed')).ifindex, index, 'renamed, same ifindex');
  t.equal(rtnl.getLink(index).name, 'tp-renamed');
  rejects(t, () => rtnl.setName(index, 'lo'), 'ERR_TUN_NETLINK', 'EEXIST', 'rename onto an existing name');
  t.equal(rtnl.getLink(index).name, 'tp-renamed', 'name kept after a refused rename');
});

t.test('moveToNetns: the link leaves, arrives down and keeps its index', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { ns, rtnl, index } = subject(t, 'move');
  const target = createNetns(t, 'move2');
  rtnl.setLinkUp(index, true);
  const fd = openNetnsFd(target.name);
  t.teardown(() => sys.close(fd));
  rtnl.moveToNetns(index, fd);
  t.equal(rtnl.linkByName('tp-veth0'), undefined, 'gone from the source namespace');
  const there = await linkJson(target, 'tp-veth0');
  t.equal(there.ifindex, index, 'same ifindex in the target');
  t.notOk(there.flags.includes('UP'), 'arrives down');
  t.equal((await ns.exec('ip', ['link', 'show', 'tp-veth0'])).code !== 0, true, 'ip in the source agrees');
  rejects(t, () => rtnl.moveToNetns(index, fd), 'ERR_TUN_NO_DEVICE', 'ENODEV', 'moving a link that is no longer here');
});

t.test('addresses: IPv4 with default broadcast, point-to-point, IPv6; read back through ip -j addr', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { ns, rtnl, index } = subject(t, 'addr');
  rtnl.addAddress(index, { address: '198.18.1.1', prefix: 24 });
  rtnl.addAddress(index, { address: '198.18.2.1', prefix: 32, peer: '198.18.2.2' });
  rtnl.addAddress(index, { address: '198.18.3.1', prefix: 16, broadcast: '198.18.3.99' });
  rtnl.addAddress(index, { address: '198.18.4.1', prefix: 31 });
  rtnl.addAddress(index, { address: 'fd00:1::1', prefix: 64, noDad: true });
  rtnl.addAddress(index, { address: 'FD00:0002:0:0::0001', prefix: 128 });

  const ip = (await addrJson(ns, 'tp-veth0')).addr_info.filter((a) => !a.local.startsWith('fe80'));
  const fromIp = ip.map((a) => ({
    family: a.family === 'inet' ? 4 : 6,
    address: a.local,
    prefix: a.prefixlen,
    ...(a.address !== undefined && a.address !== a.local ? { peer: a.address } : {}),
    ...(a.broadcast !== undefined ? { broadcast: a.broadcast } : {}),
  }));
  const expected = [
    { family: 4, address: '198.18.1.1', prefix: 24, broadcast: '198.18.1.255' },
    { family: 4, address: '198.18.2.1', prefix: 32, peer: '198.18.2.2' },
    { family: 4, address: '198.18.3.1', prefix: 16, broadcast: '198.18.3.99' },
    { family: 4, address: '198.18.4.1', prefix: 31 },
    { family: 6, address: 'fd00:2::1', prefix: 128 },
    { family: 6, address: 'fd00:1::1', prefix: 64 },
  ];
  const key = (a: { address: string }): string => a.address;
  const sorted = <T extends { address: string }>(xs: T[]): T[] => [...xs].sort((a, b) => key(a).localeCompare(key(b)));
  t.same(sorted(fromIp), sorted(expected), 'ip -j addr shows exactly what was added');
  const ours = rtnl.addresses(index).filter((a) => !a.address.startsWith('fe80'));
  t.same(sorted(ours), sorted(expected), 'addresses() reports the same');
  t.notOk(ip.find((a) => a.local === 'fd00:1::1')?.tentative, 'noDad: usable at once (not tentative)');
  t.equal(ip.find((a) => a.local === 'fd00:2::1')?.tentative, true, 'without noDad: tentative on a down link');

  rejects(t, () => rtnl.addAddress(index, { address: '198.18.1.1', prefix: 24 }), 'ERR_TUN_NETLINK', 'EEXIST', 'duplicate IPv4');
  rejects(t, () => rtnl.addAddress(index, { address: 'fd00:1::1', prefix: 64 }), 'ERR_TUN_NETLINK', 'EEXIST', 'duplicate IPv6');
  rejects(t, () => rtnl.addAddress(99999, { address: '198.18.9.1', prefix: 24 }), 'ERR_TUN_NO_DEVICE', 'ENODEV', 'missing ifindex');
  rejects(t, () => rtnl.addAddress(index, { address: '198.18.9.1', prefix: 33 }), 'ERR_TUN_INVALID_PREFIX', undefined, 'prefix 33');
  rejects(t, () => rtnl.addAddress(index, { address: '198.18.9', prefix: 24 }), 'ERR_TUN_INVALID_ADDRESS', undefined, 'bad address');
  rejects(t, () => rtnl.addAddress(index, { address: '198.18.9.1', prefix: 24, peer: 'fd00::1' }), 'ERR_TUN_INVALID_ADDRESS', undefined, 'peer of another family');
  rejects(t, () => rtnl.addAddress(index, { address: 'fd00:9::1', prefix: 64, broadcast: '198.18.9.255' }), 'ERR_TUN_INVALID_ADDRESS', undefined, 'IPv6 broadcast');
});

t.test('deleteAddress removes exactly the named address', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { ns, rtnl, index } = subject(t, 'deladdr');
  rtnl.addAddress(index, { address: '198.18.1.1', prefix: 24 });
  rtnl.addAddress(index, { address: '198.18.1.2', prefix: 24 });
  rtnl.addAddress(index, { address: '198.18.2.1', prefix: 32, peer: '198.18.2.2' });
  rtnl.addAddress(index, { address: 'fd00:1::1', prefix: 64, noDad: true });
  const locals = async (): Promise<string[]> =>
    (await addrJson(ns, 'tp-veth0')).addr_info.map((a) => `${a.local}/${a.prefixlen}`).filter((s) => !s.startsWith('fe80')).sort();

  rejects(t, () => rtnl.deleteAddress(index, { address: '198.18.1.1', prefix: 25 }), 'ERR_TUN_NETLINK', 'EADDRNOTAVAIL', 'right address, wrong prefix');
  rejects(t, () => rtnl.deleteAddress(index, { address: '198.18.7.7', prefix: 24 }), 'ERR_TUN_NETLINK', 'EADDRNOTAVAIL', 'absent address');
  t.same(await locals(), ['198.18.1.1/24', '198.18.1.2/24', '198.18.2.1/32', 'fd00:1::1/64'], 'nothing removed by refused deletions');

  rtnl.deleteAddress(index, { address: '198.18.1.2', prefix: 24 });
  t.same(await locals(), ['198.18.1.1/24', '198.18.2.1/32', 'fd00:1::1/64'], 'secondary IPv4 removed');
  rtnl.deleteAddress(index, { address: '198.18.2.1', prefix: 32 });
  t.same(await locals(), ['198.18.1.1/24', 'fd00:1::1/64'], 'point-to-point address removed');
  rtnl.deleteAddress(index, { address: 'fd00:1:0::1', prefix: 64 });
  t.same(await locals(), ['198.18.1.1/24'], 'IPv6 removed (non-canonical text accepted)');
  rtnl.deleteAddress(index, { address: '198.18.1.1', prefix: 24 });
  t.same(await locals(), [], 'all gone');
});

t.test('routes: add (on-link, via gateway, metric, table, default), list, delete; ip -j route as the oracle', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { ns, rtnl, index } = subject(t, 'route');
  rtnl.setLinkUp(index, true);
  ns.ipSync('link', 'set', 'tp-veth1', 'up');
  rtnl.addAddress(index, { address: '198.18.1.1', prefix: 24 });
  rtnl.addAddress(index, { address: 'fd00:1::1', prefix: 64, noDad: true });

  rtnl.addRoute(index, { destination: '198.18.2.0/24' });
  rtnl.addRoute(index, { destination: '198.18.3.0/24', gateway: '198.18.1.254', metric: 50 });
  rtnl.addRoute(index, { destination: '0.0.0.0/0', gateway: '198.18.1.254', table: 100 });
  rtnl.addRoute(index, { destination: 'fd00:2::/64', gateway: 'fd00:1::fe', metric: 7 });
  rtnl.addRoute(index, { destination: 'fd00:3::/48' });

  const v4 = await routeJson(ns, 'tp-veth0', { family: 4 });
  const onLink = v4.find((r) => r.dst === '198.18.2.0/24');
  t.same([onLink?.protocol, onLink?.scope, onLink?.gateway], ['static', 'link', undefined], 'on-link route: static, scope link');
  const via = v4.find((r) => r.dst === '198.18.3.0/24');
  t.same([via?.gateway, via?.metric, via?.protocol], ['198.18.1.254', 50, 'static'], 'gateway and metric');
  const table100 = await routeJson(ns, 'tp-veth0', { family: 4, table: 100 });
  t.same(table100.map((r) => [r.dst, r.gateway]), [['default', '198.18.1.254']], 'default route in table 100');
  const v6 = await routeJson(ns, 'tp-veth0', { family: 6 });
  const via6 = v6.find((r) => r.dst === 'fd00:2::/64');
  t.same([via6?.gateway, via6?.metric], ['fd00:1::fe', 7], 'IPv6 gateway and metric');
  t.ok(v6.find((r) => r.dst === 'fd00:3::/48'), 'IPv6 on-link route');

  // routes() lists the same set as ip (main and table 100), both families.
  const ipAll = [...(await routeJson(ns, 'tp-veth0', { table: 'all' }))]
    .filter((r) => r.type === undefined || r.type === 'unicast')
    .map((r) => `${r.dst === 'default' ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : r.dst + (r.dst.includes(':') ? '/128' : '/32')} ${r.gateway ?? '-'}`)
    .sort();
  const ours = rtnl.routes(index).map((r) => `${r.destination} ${r.gateway ?? '-'}`).sort();
  t.same(ours, ipAll, 'routes() == ip -j route show table all dev X (unicast)');
  const ours6 = rtnl.routes(index, 6);
  t.ok(ours6.every((r) => r.family === 6) && ours6.length > 0, 'family filter');
  const mine = rtnl.routes(index, 4).find((r) => r.destination === '198.18.3.0/24');
  t.same(mine, { family: 4, destination: '198.18.3.0/24', gateway: '198.18.1.254', metric: 50, table: 254, protocol: 4, scope: 0 });

  rejects(t, () => rtnl.addRoute(index, { destination: '198.18.2.0/24' }), 'ERR_TUN_NETLINK', 'EEXIST', 'duplicate route');
  rejects(t, () => rtnl.addRoute(index, { destination: '198.18.5.1/24' }), 'ERR_TUN_INVALID_PREFIX', undefined, 'host bits set');
  rejects(t, () => rtnl.addRoute(index, { destination: '198.18.5.0/24', gateway: 'fd00::1' }), 'ERR_TUN_INVALID_ADDRESS', undefined, 'gateway of another family');
  rejects(t, () => rtnl.addRoute(index, { destination: '198.18.5.0' }), 'ERR_TUN_INVALID_PREFIX', undefined, 'no prefix');
  rejects(t, () => rtnl.addRoute(99999, { destination: '198.18.5.0/24' }), 'ERR_TUN_NO_DEVICE', 'ENODEV', 'missing ifindex');
  rejects(t, () => rtnl.addRoute(index, { destination: '198.18.6.0/24', gateway: '198.18.9.9' }), 'ERR_TUN_NETLINK', 'ENETUNREACH', 'unreachable gateway');

  rtnl.deleteRoute(index, { destination: '198.18.2.0/24' });
  rtnl.deleteRoute(index, { destination: '0.0.0.0/0', table: 100 });
  rtnl.deleteRoute(index, { destination: 'fd00:2::/64', gateway: 'fd00:1::fe' });
  const left4 = (await routeJson(ns, 'tp-veth0', { family: 4 })).map((r) => r.dst).sort();
  t.same(left4, ['198.18.1.0/24', '198.18.3.0/24'], 'IPv4 routes deleted, the rest kept');
  t.same(await routeJson(ns, 'tp-veth0', { family: 4, table: 100 }), [], 'table 100 empty');
  t.notOk((await routeJson(ns, 'tp-veth0', { family: 6 })).some((r) => r.dst === 'fd00:2::/64'), 'IPv6 route deleted');
  rejects(t, () => rtnl.deleteRoute(index, { destination: '198.18.2.0/24' }), 'ERR_TUN_NETLINK', 'ESRCH', 'deleting an absent route');
});

t.test('arguments are validated before anything is sent', async (t) => {
  if (!requireNetAdmin(t)) return;
  const { rtnl, index } = subject(t, 'args');
  for (const bad of [0, -1, 1.5, NaN, 2 ** 31]) {
    rejects(t, () => rtnl.getLink(bad), 'ERR_TUN_INVALID_ARGUMENT', undefined, `ifindex ${bad}`);
  }
  // The same rules as DeviceBuilder's names (validateName): byte 0xa0 is a space to the kernel, a lone surrogate has no UTF-8.
  for (const bad of ['', 'a'.repeat(16), 'has space', 'a/b', 'a:b', '.', '..', 'tp-\u00e0', 'tp\u00a0x', 'tp\ud800', 'a%s', 'a%d%d']) {
    rejects(t, () => rtnl.linkByName(bad), 'ERR_TUN_INVALID_NAME', undefined, `name ${JSON.stringify(bad)}`);
    rejects(t, () => rtnl.setName(index, bad), 'ERR_TUN_INVALID_NAME', undefined, `rename to ${JSON.stringify(bad)}`);
  }
  rejects(t, () => rtnl.setMtu(index, -1), 'ERR_TUN_INVALID_ARGUMENT', undefined, 'negative mtu');
  rejects(t, () => rtnl.setTxQueueLen(index, 2 ** 32), 'ERR_TUN_INVALID_ARGUMENT', undefined, 'txqlen past u32');
  rejects(t, () => rtnl.moveToNetns(index, -1), 'ERR_TUN_INVALID_ARGUMENT', undefined, 'netns fd -1');
  rejects(t, () => rtnl.addRoute(index, { destination: '198.18.0.0/24', table: 0 }), 'ERR_TUN_INVALID_ARGUMENT', undefined, 'table 0');
  rejects(t, () => rtnl.addRoute(index, { destination: '198.18.0.0/24', metric: -5 }), 'ERR_TUN_INVALID_ARGUMENT', undefined, 'metric -5');
  rejects(t, () => rtnl.routes(index, 5 as 4), 'ERR_TUN_INVALID_ARGUMENT', undefined, 'family 5');
});

t.test('open/close leaks no descriptors; a closed client refuses work', async (t) => {
  if (!requireNetAdmin(t)) return;
  const before = openFds();
  for (let i = 0; i < 50; i++) {
    using r = Rtnetlink.open();
    r.getLink(1);
  }
  t.equal(openFds(), before, '50 open/use/close cycles');
  const r = Rtnetlink.open();
  r.close();
  r.close();
  t.equal(r.fd, -1);
  rejects(t, () => r.getLink(1), 'ERR_TUN_CLOSED', undefined, 'use after close');
});
