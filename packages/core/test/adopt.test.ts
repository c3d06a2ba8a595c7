/**
 * Fd ownership: `Device.fromFd` adopts an fd opened elsewhere (and closes it),
 * `Device.borrowFd` never closes it, `intoRawFd` hands the fd out while the Device
 * keeps configuring the interface. Oracles: fcntl(F_GETFD) / /proc/self/fd for
 * the fd, `ip -j link` for the interface.
 */
import t, { type Test } from 'tap';
import { readlinkSync } from 'node:fs';
import { TunError } from '@tunpipe/offload';
import { createNetns, linkJson, openFds, requireNetAdmin, type Netns } from '@tunpipe/testkit';
import { DeviceBuilder } from '../src/builder.js';
import { Device } from '../src/device.js';
import { sys } from '../src/libc.js';
import { attachTun } from '../src/tun-fd.js';
import {
  F_GETFD, F_GETFL, FD_CLOEXEC, O_NONBLOCK, O_RDWR, IFF_TUN, IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, EFD_CLOEXEC,
} from '../src/constants.js';

function isOpen(fd: number): boolean {
  return sys.fcntl(fd, F_GETFD, 0) >= 0;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof TunError ? e.code : `non-TunError: ${String(e)}`;
  }
}

async function linkNames(ns: Netns): Promise<string[]> {
  return ((await ns.ipJson('link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname);
}

/** A TUN/TAP fd opened the way another program would: blocking, inheritable. */
function foreignFd(ns: Netns, name: string, flags: number): number {
  using _ = ns.enter();
  const fd = sys.open('/dev/net/tun', O_RDWR, 0);
  if (fd < 0) throw new Error('open /dev/net/tun failed');
  try {
    attachTun(fd, name, flags);
  } catch (e) {
    sys.close(fd);
    throw e;
  }
  return fd;
}

t.test('fromFd: adopts a foreign fd, discovers name and flags, makes it non-blocking and close-on-exec, closes it', async (t: Test) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'fromfd');
  const fds = openFds();
  const fd = foreignFd(ns, 'tpfrom0', IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
  t.equal(sys.fcntl(fd, F_GETFL, 0) & O_NONBLOCK, 0, 'starts blocking');
  t.equal(sys.fcntl(fd, F_GETFD, 0) & FD_CLOEXEC, 0, 'starts inheritable');
  // Adopted from outside the namespace: the Device must find the interface in its own.
  const dev = Device.fromFd(fd);
  t.equal(dev.fd, fd);
  t.equal(dev.name(), 'tpfrom0');
  t.equal(dev.layer(), 'l2');
  t.equal(dev.packetInformation(), false);
  t.equal(dev.vnetHdr, true);
  t.equal(dev.vnetHdrLen, 10);
  t.equal(dev.tcpGso(), false, 'offload unknown without the option');
  t.equal(dev.ifIndex(), (await linkJson(ns, 'tpfrom0')).ifindex, 'ifIndex in the device namespace');
  t.not(sys.fcntl(fd, F_GETFL, 0) & O_NONBLOCK, 0, 'now non-blocking');
  t.not(sys.fcntl(fd, F_GETFD, 0) & FD_CLOEXEC, 0, 'now close-on-exec');
  dev.setMtu(1420);
  t.equal((await linkJson(ns, 'tpfrom0')).mtu, 1420, 'configures the adopted device');
  t.equal(dev.tryRecv(new Uint8Array(2048)) ?? null, null, 'tryRecv on an idle device: null, not a block');
  dev.close();
  t.notOk(isOpen(fd), 'close() closed the adopted fd');
  t.notOk((await linkNames(ns)).includes('tpfrom0'), 'the interface went with its only fd');
  t.equal(openFds(), fds, 'no fd left');
});

t.test('fromFd with offload: sets the mask and reports it', async (t: Test) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'fromfdgso');
  const fd = foreignFd(ns, 'tpfrom1', IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
  using dev = Device.fromFd(fd, { offload: true });
  t.equal(dev.tcpGso(), true);
  t.equal(dev.udpGso(), true);
  const plain = foreignFd(ns, 'tpfrom2', IFF_TUN | IFF_NO_PI);
  t.equal(codeOf(() => Device.fromFd(plain, { offload: true })), 'ERR_TUN_INVALID_OPTION', 'offload without IFF_VNET_HDR');
  t.ok(isOpen(plain), 'a refused adoption leaves the fd to the caller');
  sys.close(plain);
});

t.test('borrowFd: never closes the fd', async (t: Test) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'borrow');
  const fd = foreignFd(ns, 'tpborrow0', IFF_TUN | IFF_NO_PI);
  t.teardown(() => {
    if (isOpen(fd)) sys.close(fd);
  });
  const dev = Device.borrowFd(fd);
  t.equal(dev.name(), 'tpborrow0');
  t.not(sys.fcntl(fd, F_GETFL, 0) & O_NONBLOCK, 0, 'made non-blocking (needed for recv)');
  t.equal(sys.fcntl(fd, F_GETFD, 0) & FD_CLOEXEC, 0, 'close-on-exec left to the owner');
  dev.close();
  t.ok(isOpen(fd), 'still open after close()');
  t.equal(readlinkSync(`/proc/self/fd/${fd}`), '/dev/net/tun', '/proc/self/fd still shows the TUN fd');
  t.ok((await linkNames(ns)).includes('tpborrow0'), 'the interface lives on with the fd');
  t.equal(codeOf(() => dev.fd), 'ERR_TUN_CLOSED', 'the Device itself is closed');
  // Adopt it for real to finish: the fd is still usable.
  const owner = Device.fromFd(fd);
  owner.close();
  t.notOk(isOpen(fd));
});

t.test('intoRawFd: the caller gets the fd; configuration still works; close() leaves the fd', async (t: Test) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'intoraw');
  let dev: Device;
  {
    using _ = ns.enter();
    dev = new DeviceBuilder().name('tpraw0').persist(false).build();
  }
  const fd = dev.intoRawFd();
  t.equal(codeOf(() => dev.fd), 'ERR_TUN_CLOSED', 'fd getter after intoRawFd');
  t.equal(codeOf(() => dev.tryRecv(new Uint8Array(64))), 'ERR_TUN_CLOSED');
  t.equal(codeOf(() => dev.user(4242)), 'ERR_TUN_CLOSED', 'per-fd ioctls need the fd');
  t.equal(dev.isPersistent(), false, 'isPersistent() answers from the last value');
  dev.setMtu(1410);
  t.equal((await linkJson(ns, 'tpraw0')).mtu, 1410, 'netlink configuration still works');
  dev.close();
  t.ok(isOpen(fd), 'close() did not close the given-away fd');
  t.ok((await linkNames(ns)).includes('tpraw0'), 'the interface lives while the fd does');
  const again = Device.fromFd(fd);
  t.equal(again.name(), 'tpraw0', 'the raw fd is adoptable');
  again.close();
  t.notOk((await linkNames(ns)).includes('tpraw0'));
});

t.test('fromFd refuses what is not a TUN/TAP fd', async (t: Test) => {
  if (!requireNetAdmin(t)) return;
  const efd = sys.eventfd(0, EFD_CLOEXEC);
  t.teardown(() => sys.close(efd));
  t.equal(codeOf(() => Device.fromFd(efd)), 'ERR_TUN_INVALID_FD', 'an eventfd');
  t.ok(isOpen(efd), 'left open');
  t.equal(codeOf(() => Device.fromFd(-1)), 'ERR_TUN_INVALID_FD', 'a negative fd');
  t.equal(codeOf(() => Device.borrowFd(1.5)), 'ERR_TUN_INVALID_FD', 'not an integer');
  const unattached = sys.open('/dev/net/tun', O_RDWR, 0);
  t.teardown(() => sys.close(unattached));
  t.equal(codeOf(() => Device.fromFd(unattached)), 'ERR_TUN_INVALID_FD', 'a TUN fd without an interface');
});
