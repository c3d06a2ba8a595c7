/**
 * DeviceBuilder refuses bad input before any system call, with a stable code per
 * mistake, and a build that the kernel stops part way leaves nothing behind.
 * Oracle: `ip -j -d link` (and open fd counts) in the test's namespace, identical
 * before and after every failed build.
 */
import t, { type Test } from 'tap';
import { TunError } from '@tunpipe/offload';
import { createNetns, openFds, requireNetAdmin, type Netns } from '@tunpipe/testkit';
import { DeviceBuilder } from '../src/builder.js';

type Configure = (b: DeviceBuilder) => DeviceBuilder;

/** One bad input: what the user wrote and the code it must produce. */
interface BadInput {
  label: string;
  configure: Configure;
  code: string;
}

// Each case also names a device: if validation let it through, `ip link` would show it.
const BAD_INPUTS: BadInput[] = [
  { label: 'empty name', configure: (b) => b.name(''), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name of 16 bytes', configure: (b) => b.name('tp-abcdefghijklm'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name with /', configure: (b) => b.name('tp/0'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name with a space', configure: (b) => b.name('tp 0'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name with a colon', configure: (b) => b.name('tp:0'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name ..', configure: (b) => b.name('..'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'template %s', configure: (b) => b.name('tp%s'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'IPv4 octet 256', configure: (b) => b.name('tpbad0').ipv4('198.18.0.256', 24), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv6 text given to ipv4', configure: (b) => b.name('tpbad0').ipv4('fd00::1', 24), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv4 prefix 33', configure: (b) => b.name('tpbad0').ipv4('198.18.0.1', 33), code: 'ERR_TUN_INVALID_PREFIX' },
  { label: 'IPv4 prefix 24.5', configure: (b) => b.name('tpbad0').ipv4('198.18.0.1', 24.5), code: 'ERR_TUN_INVALID_PREFIX' },
  { label: 'non-contiguous netmask', configure: (b) => b.name('tpbad0').ipv4('198.18.0.1', '255.0.255.0'), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'bad destination', configure: (b) => b.name('tpbad0').ipv4('198.18.0.1', 24, '198.18.0'), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'destination = address', configure: (b) => b.name('tpbad0').ipv4('198.18.0.1', 32, '198.18.0.1'), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv4 text given to ipv6', configure: (b) => b.name('tpbad0').ipv6('198.18.0.1', 64), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv6 with a zone', configure: (b) => b.name('tpbad0').ipv6('fd00::1%tp0', 64), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv6 prefix 129', configure: (b) => b.name('tpbad0').ipv6('fd00::1', 129), code: 'ERR_TUN_INVALID_PREFIX' },
  { label: 'MTU 67', configure: (b) => b.name('tpbad0').mtu(67), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'MTU 65536', configure: (b) => b.name('tpbad0').mtu(65536), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'MTU 1000 with IPv6', configure: (b) => b.name('tpbad0').mtu(1000).ipv6('fd00::1', 64), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'TAP MTU 65535', configure: (b) => b.name('tpbad0').layer('l2').mtu(65535), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'layer "tap"', configure: (b) => b.name('tpbad0').layer('tap' as 'l2'), code: 'ERR_TUN_INVALID_OPTION' },
  { label: 'macAddr on TUN', configure: (b) => b.name('tpbad0').macAddr('02:00:00:00:00:01'), code: 'ERR_TUN_INVALID_OPTION' },
  { label: 'multicast MAC', configure: (b) => b.name('tpbad0').layer('l2').macAddr('01:00:5e:00:00:01'), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'all-zero MAC', configure: (b) => b.name('tpbad0').layer('l2').macAddr('00:00:00:00:00:00'), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'MAC not hex', configure: (b) => b.name('tpbad0').layer('l2').macAddr('02:00:00:00:00:zz'), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'txQueueLen -1', configure: (b) => b.name('tpbad0').txQueueLen(-1), code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'owner -1', configure: (b) => b.name('tpbad0').owner(-1), code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'group 1.5', configure: (b) => b.name('tpbad0').group(1.5), code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'persist "yes"', configure: (b) => b.name('tpbad0').persist('yes' as unknown as boolean), code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'offload 1', configure: (b) => b.name('tpbad0').offload(1 as unknown as boolean), code: 'ERR_TUN_INVALID_ARGUMENT' },
  // Edges of each rule (issue 8, bad input): names
  { label: 'name with NUL', configure: (b) => b.name('tp\0x'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name with a tab', configure: (b) => b.name('tp\tx'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name with a newline', configure: (b) => b.name('tp\n0'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name .', configure: (b) => b.name('.'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'two templates %d%d', configure: (b) => b.name('tp%d%d'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'trailing %', configure: (b) => b.name('tp%'), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name of 8 characters but 16 UTF-8 bytes', configure: (b) => b.name('\u00fc'.repeat(8)), code: 'ERR_TUN_INVALID_NAME' },
  { label: 'name not a string', configure: (b) => b.name(5 as unknown as string), code: 'ERR_TUN_INVALID_NAME' },
  // MTU
  { label: 'MTU NaN', configure: (b) => b.name('tpbad0').mtu(Number.NaN), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'MTU Infinity', configure: (b) => b.name('tpbad0').mtu(Number.POSITIVE_INFINITY), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'MTU -1', configure: (b) => b.name('tpbad0').mtu(-1), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'MTU 1500.5', configure: (b) => b.name('tpbad0').mtu(1500.5), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'MTU "1500"', configure: (b) => b.name('tpbad0').mtu('1500' as unknown as number), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'MTU 1279 with IPv6 (one below)', configure: (b) => b.name('tpbad0').ipv6('fd00::1', 64).mtu(1279), code: 'ERR_TUN_INVALID_MTU' },
  { label: 'TAP MTU 65522 (one above)', configure: (b) => b.name('tpbad0').layer('l2').mtu(65522), code: 'ERR_TUN_INVALID_MTU' },
  // IPv4 addresses and prefixes
  { label: 'IPv4 empty', configure: (b) => b.name('tpbad0').ipv4('', 24), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv4 with a leading zero', configure: (b) => b.name('tpbad0').ipv4('198.018.0.1', 24), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv4 of five octets', configure: (b) => b.name('tpbad0').ipv4('198.18.0.1.1', 24), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv4 as a number', configure: (b) => b.name('tpbad0').ipv4(0xc6120001 as unknown as string, 24), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv4 prefix -1', configure: (b) => b.name('tpbad0').ipv4('198.18.0.1', -1), code: 'ERR_TUN_INVALID_PREFIX' },
  { label: 'netmask octet 256', configure: (b) => b.name('tpbad0').ipv4('198.18.0.1', '255.255.255.256'), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv6 destination of an IPv4 address', configure: (b) => b.name('tpbad0').ipv4('198.18.0.1', 32, 'fd00::1'), code: 'ERR_TUN_INVALID_ADDRESS' },
  // IPv6 addresses and prefixes
  { label: 'IPv6 with :::', configure: (b) => b.name('tpbad0').ipv6('fd00:::1', 64), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv6 with two ::', configure: (b) => b.name('tpbad0').ipv6('fd00::1::2', 64), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv6 of nine groups', configure: (b) => b.name('tpbad0').ipv6('1:2:3:4:5:6:7:8:9', 64), code: 'ERR_TUN_INVALID_ADDRESS' },
  { label: 'IPv6 prefix -1', configure: (b) => b.name('tpbad0').ipv6('fd00::1', -1), code: 'ERR_TUN_INVALID_PREFIX' },
  { label: 'IPv6 prefix NaN', configure: (b) => b.name('tpbad0').ipv6('fd00::1', Number.NaN), code: 'ERR_TUN_INVALID_PREFIX' },
  { label: 'IPv6 prefix "64"', configure: (b) => b.name('tpbad0').ipv6('fd00::1', '64' as unknown as number), code: 'ERR_TUN_INVALID_PREFIX' },
  // MAC
  { label: 'MAC of five octets', configure: (b) => b.name('tpbad0').layer('l2').macAddr('02:00:00:00:01'), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'MAC of seven octets', configure: (b) => b.name('tpbad0').layer('l2').macAddr('02:00:00:00:00:01:02'), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'MAC with dashes', configure: (b) => b.name('tpbad0').layer('l2').macAddr('02-00-00-00-00-01'), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'MAC octet of three digits', configure: (b) => b.name('tpbad0').layer('l2').macAddr('02:00:00:00:00:001'), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'MAC broadcast', configure: (b) => b.name('tpbad0').layer('l2').macAddr('ff:ff:ff:ff:ff:ff'), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'MAC of 5 bytes', configure: (b) => b.name('tpbad0').layer('l2').macAddr(new Uint8Array(5)), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'MAC bytes with the multicast bit', configure: (b) => b.name('tpbad0').layer('l2').macAddr(Uint8Array.of(3, 0, 0, 0, 0, 1)), code: 'ERR_TUN_INVALID_MAC' },
  { label: 'MAC as a number', configure: (b) => b.name('tpbad0').layer('l2').macAddr(5 as unknown as string), code: 'ERR_TUN_INVALID_MAC' },
  // other options
  { label: 'txQueueLen 2^32', configure: (b) => b.name('tpbad0').txQueueLen(2 ** 32), code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'owner 2^32-1 (no id)', configure: (b) => b.name('tpbad0').owner(2 ** 32 - 1), code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'layer undefined', configure: (b) => b.name('tpbad0').layer(undefined as unknown as 'l3'), code: 'ERR_TUN_INVALID_OPTION' },
  { label: 'multiQueue "yes"', configure: (b) => b.name('tpbad0').multiQueue('yes' as unknown as boolean), code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'packetInformation 1', configure: (b) => b.name('tpbad0').packetInformation(1 as unknown as boolean), code: 'ERR_TUN_INVALID_ARGUMENT' },
  { label: 'enable "true"', configure: (b) => b.name('tpbad0').enable('true' as unknown as boolean), code: 'ERR_TUN_INVALID_ARGUMENT' },
];

/** The code `fn` throws (a TunError's), or a description of what else happened. */
function codeOf(fn: () => unknown): { code: string; error?: TunError } {
  try {
    const result = fn() as { close?: () => void } | undefined;
    result?.close?.();
    return { code: 'built without error' };
  } catch (e) {
    return e instanceof TunError ? { code: e.code, error: e } : { code: `non-TunError: ${String(e)}` };
  }
}

function links(ns: Netns): unknown {
  return ns.ipJsonSync('-d', 'link', 'show');
}

t.test(`${BAD_INPUTS.length} bad builder inputs: exact code, ip link unchanged, no fd left`, async (t: Test) => {
  if (!requireNetAdmin(t)) return;
  t.ok(BAD_INPUTS.length >= 20, 'at least 20 cases');
  const ns = createNetns(t, 'badinput');
  using _ = ns.enter();
  const before = links(ns);
  const fds = openFds();
  for (const { label, configure, code } of BAD_INPUTS) {
    const got = codeOf(() => configure(new DeviceBuilder()).build());
    t.equal(got.code, code, label);
    t.same(links(ns), before, `${label}: ip link unchanged`);
  }
  t.equal(openFds(), fds, 'no fd left open');
});

t.test('a build the kernel stops at the end leaves no device and no fd', async (t: Test) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'latefail');
  using _ = ns.enter();
  const before = links(ns);
  const fds = openFds();
  // Valid input that the kernel refuses only at the address step (the same
  // address twice: EEXIST), after the device was created and made persistent.
  const got = codeOf(() =>
    new DeviceBuilder().name('tplate0').persist(true).mtu(1400).ipv4('198.18.0.1', 24).ipv6('fd00::1', 64).ipv6('fd00::1', 64).build(),
  );
  t.equal(got.code, 'ERR_TUN_NETLINK', 'the kernel refused');
  t.equal(got.error?.sysCode, 'EEXIST', 'with EEXIST');
  t.same(links(ns), before, 'ip link: the persistent device was removed again');
  t.equal(openFds(), fds, 'no fd left open');

  // The same on a TAP device with a MAC and tx queue length applied before the failure.
  const tap = codeOf(() =>
    new DeviceBuilder().name('tplate1').layer('l2').persist(true).macAddr('02:00:5e:00:00:07').txQueueLen(77)
      .ipv4('198.18.0.1', 24).ipv4('198.18.0.1', 24).ipv6('fd00::7', 64).ipv6('fd00::7', 64).build(),
  );
  t.equal(tap.code, 'ERR_TUN_NETLINK');
  t.same(links(ns), before, 'ip link unchanged after the TAP failure');
  t.equal(openFds(), fds, 'no fd left open');
});

t.test('TUNSETIFF refusals: a taken name (EBUSY), a TUN name asked as TAP (EINVAL)', async (t: Test) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'busy');
  using _ = ns.enter();
  using first = new DeviceBuilder().name('tpbusy0').build();
  const before = links(ns);
  const fds = openFds();
  const busy = codeOf(() => new DeviceBuilder().name('tpbusy0').build());
  t.equal(busy.code, 'ERR_TUN_CREATE');
  t.equal(busy.error?.sysCode, 'EBUSY');
  t.equal(busy.error?.syscall, 'ioctl(TUNSETIFF)');
  const kind = codeOf(() => new DeviceBuilder().name('tpbusy0').layer('l2').build());
  t.equal(kind.code, 'ERR_TUN_CREATE');
  t.equal(kind.error?.sysCode, 'EINVAL');
  t.same(links(ns), before, 'the existing device is untouched');
  t.equal(openFds(), fds, 'no fd left open');
  t.equal(first.name(), 'tpbusy0');
});
