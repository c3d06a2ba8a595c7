/**
 * The TUN character-device ioctls, <linux/if_tun.h>: opening `/dev/net/tun`,
 * attaching an fd to an interface (TUNSETIFF), and the per-device switches that
 * only exist as ioctls on that fd (persist, owner, group, vnet header, offload,
 * queue attach/detach). Everything else (name, MTU, addresses...) is rtnetlink.
 *
 * Every function throws a TunError carrying errno/syscall when the kernel refuses.
 */
import { TunError } from '@tunpipe/offload';
import { sys, errno, osError, check } from './libc.js';
import { Ifreq } from './ifreq.js';
import {
  TUN_CLONE_PATH, O_RDWR, O_NONBLOCK, O_CLOEXEC, F_GETFL, F_SETFL, F_GETFD, F_SETFD, FD_CLOEXEC,
  TUNSETIFF, TUNGETIFF, TUNGETFEATURES, TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP, TUNSETOFFLOAD,
  TUNSETVNETHDRSZ, TUNGETVNETHDRSZ, TUNSETQUEUE, IFF_ATTACH_QUEUE, IFF_DETACH_QUEUE,
  TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_USO4, TUN_F_USO6, VIRTIO_NET_HDR_LEN, ENOENT, ENODEV, TUNGETDEVNETNS,
} from './constants.js';

/** TUNSETOFFLOAD mask for TCP segmentation offload: checksum + TSO for IPv4 and IPv6. */
export const TCP_OFFLOAD_MASK = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
/** TUNSETOFFLOAD mask with UDP segmentation offload added (USO, Linux >= 6.2). */
export const UDP_OFFLOAD_MASK = TCP_OFFLOAD_MASK | TUN_F_USO4 | TUN_F_USO6;

/** What an fd is attached to: `TUNGETIFF` output. */
export interface TunIff {
  /** Interface name. */
  name: string;
  /** `ifr_flags`: IFF_TUN or IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE, IFF_PERSIST... */
  flags: number;
}

/** The offloads the kernel accepted for a device. */
export interface OffloadState {
  /** TCP segmentation offload (CSUM|TSO4|TSO6) is on. */
  tcp: boolean;
  /** UDP segmentation offload (USO4|USO6) is on as well. */
  udp: boolean;
}

/** Opens `/dev/net/tun` read-write, non-blocking and close-on-exec; returns the fd. */
export function openTunClone(): number {
  const fd = sys.open(TUN_CLONE_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) {
    const err = errno();
    const hint = err === ENOENT || err === ENODEV ? ' (is the tun module loaded? try `modprobe tun`)' : '';
    throw osError('ERR_TUN_OPEN', 'open', `cannot open ${TUN_CLONE_PATH}${hint}`, err);
  }
  return fd;
}

/** The IFF_* flags the kernel's TUN driver supports (`TUNGETFEATURES`). */
export function tunFeatures(fd: number): number {
  const out = new Uint32Array(1);
  check(sys.ioctlPtr(fd, TUNGETFEATURES, out), 'ERR_TUN_IOCTL', 'ioctl(TUNGETFEATURES)');
  return out[0]!;
}

/**
 * Attaches `fd` to the interface `name` (created if missing; a `%d` template or ''
 * lets the kernel pick) with `flags` (`TUNSETIFF`). Returns the name the kernel
 * used. EBUSY: the name belongs to another device or its queues are all taken;
 * EPERM: no CAP_NET_ADMIN, or not the owner of a persistent device.
 */
export function attachTun(fd: number, name: string, flags: number, req: Ifreq = new Ifreq()): TunIff {
  req.clear();
  req.name = name;
  req.flags = flags;
  if (sys.ioctlPtr(fd, TUNSETIFF, req.bytes) < 0) {
    const what = name === '' ? 'a new device' : `'${name}'`;
    throw osError('ERR_TUN_CREATE', 'ioctl(TUNSETIFF)', `cannot create or attach ${what}`);
  }
  return { name: req.name, flags: req.flags };
}

/** Name and flags of the interface `fd` is attached to (`TUNGETIFF`). EBADFD: not attached, or the device is gone. */
export function tunIff(fd: number, req: Ifreq = new Ifreq()): TunIff {
  req.clear();
  check(sys.ioctlPtr(fd, TUNGETIFF, req.bytes), 'ERR_TUN_IOCTL', 'ioctl(TUNGETIFF)');
  return { name: req.name, flags: req.flags };
}

/** Makes the device outlive its last fd (`TUNSETPERSIST`), or not. */
export function setPersist(fd: number, persist: boolean): void {
  check(sys.ioctlInt(fd, TUNSETPERSIST, persist ? 1 : 0), 'ERR_TUN_IOCTL', 'ioctl(TUNSETPERSIST)');
}

/** Lets user `uid` attach to the device without CAP_NET_ADMIN (`TUNSETOWNER`; the kernel refuses -1 with EINVAL). */
export function setOwner(fd: number, uid: number): void {
  check(sys.ioctlInt(fd, TUNSETOWNER, uid >>> 0), 'ERR_TUN_IOCTL', 'ioctl(TUNSETOWNER)');
}

/** Lets group `gid` attach to the device without CAP_NET_ADMIN (`TUNSETGROUP`). */
export function setGroup(fd: number, gid: number): void {
  check(sys.ioctlInt(fd, TUNSETGROUP, gid >>> 0), 'ERR_TUN_IOCTL', 'ioctl(TUNSETGROUP)');
}

/** Sets the virtio-net header length carried before each packet (`TUNSETVNETHDRSZ`, 10 or 12). */
export function setVnetHeaderSize(fd: number, size: number): void {
  const arg = new Int32Array([size]);
  check(sys.ioctlPtr(fd, TUNSETVNETHDRSZ, arg), 'ERR_TUN_OFFLOAD', 'ioctl(TUNSETVNETHDRSZ)');
}

/** The virtio-net header length of the device (`TUNGETVNETHDRSZ`). */
export function vnetHeaderSize(fd: number): number {
  const out = new Int32Array(1);
  check(sys.ioctlPtr(fd, TUNGETVNETHDRSZ, out), 'ERR_TUN_IOCTL', 'ioctl(TUNGETVNETHDRSZ)');
  return out[0]!;
}

/** Sets the offload mask (`TUNSETOFFLOAD`): which superpackets the kernel may hand us. */
export function setOffloadMask(fd: number, mask: number): void {
  check(sys.ioctlInt(fd, TUNSETOFFLOAD, mask), 'ERR_TUN_OFFLOAD', 'ioctl(TUNSETOFFLOAD)', `offload mask 0x${mask.toString(16)}`);
}

/**
 * Applies the offload policy of a device.
 *
 * On (the fd must carry IFF_VNET_HDR): header length 10, then CSUM|TSO4|TSO6, which
 * must succeed, then USO4|USO6 on top, which may fail on older kernels (`udp`
 * tells whether it stuck).
 *
 * Off: the mask is set to 0 explicitly. Offloads belong to the device, not the fd,
 * so a persistent device keeps the mask of its previous user; a reader without the
 * vnet header would then receive 64 KB superpackets it cannot parse (the bug
 * behind tun-rs issue #141).
 */
export function configureOffload(fd: number, enable: boolean): OffloadState {
  if (!enable) {
    setOffloadMask(fd, 0);
    return { tcp: false, udp: false };
  }
  setVnetHeaderSize(fd, VIRTIO_NET_HDR_LEN);
  setOffloadMask(fd, TCP_OFFLOAD_MASK);
  if (sys.ioctlInt(fd, TUNSETOFFLOAD, UDP_OFFLOAD_MASK) < 0) return { tcp: true, udp: false };
  return { tcp: true, udp: true };
}

/**
 * Enables or disables this queue of a multi-queue device (`TUNSETQUEUE` with
 * IFF_ATTACH_QUEUE / IFF_DETACH_QUEUE). A detached queue receives nothing.
 */
export function setQueueEnabled(fd: number, enabled: boolean, req: Ifreq = new Ifreq()): void {
  req.clear();
  req.flags = enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
  check(sys.ioctlPtr(fd, TUNSETQUEUE, req.bytes), 'ERR_TUN_IOCTL', 'ioctl(TUNSETQUEUE)');
}

/** Puts an adopted fd into the mode tunpipe needs: O_NONBLOCK and FD_CLOEXEC. */
export function makeNonBlockingCloexec(fd: number): void {
  const fl = check(sys.fcntl(fd, F_GETFL, 0), 'ERR_TUN_INVALID_FD', 'fcntl(F_GETFL)', `fd ${fd}`);
  if ((fl & O_NONBLOCK) === 0) check(sys.fcntl(fd, F_SETFL, fl | O_NONBLOCK), 'ERR_TUN_IOCTL', 'fcntl(F_SETFL)');
  const fdFlags = check(sys.fcntl(fd, F_GETFD, 0), 'ERR_TUN_INVALID_FD', 'fcntl(F_GETFD)', `fd ${fd}`);
  if ((fdFlags & FD_CLOEXEC) === 0) check(sys.fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC), 'ERR_TUN_IOCTL', 'fcntl(F_SETFD)');
}

/** Puts a borrowed fd into non-blocking mode only (its close-on-exec flag is its owner's business). */
export function makeNonBlocking(fd: number): void {
  const fl = check(sys.fcntl(fd, F_GETFL, 0), 'ERR_TUN_INVALID_FD', 'fcntl(F_GETFL)', `fd ${fd}`);
  if ((fl & O_NONBLOCK) === 0) check(sys.fcntl(fd, F_SETFL, fl | O_NONBLOCK), 'ERR_TUN_IOCTL', 'fcntl(F_SETFL)');
}

/**
 * A new fd (close-on-exec) of the network namespace the device lives in
 * (`TUNGETDEVNETNS`, Linux >= 5.2), or null when the kernel will not say (no
 * CAP_NET_ADMIN over that namespace, older kernel). A TUN fd belongs to the
 * namespace it was opened in, so another queue must be opened there.
 */
export function deviceNetnsFd(fd: number): number | null {
  const ns = sys.ioctlInt(fd, TUNGETDEVNETNS, 0);
  return ns < 0 ? null : ns;
}

/** Closes an fd, ignoring errors (cleanup paths). */
export function closeQuietly(fd: number): void {
  if (fd >= 0) sys.close(fd);
}

/** Throws ERR_TUN_NOT_SUPPORTED unless every bit of `wanted` is in the driver's TUNGETFEATURES. */
export function requireFeatures(fd: number, wanted: number, what: string): void {
  const missing = wanted & ~tunFeatures(fd);
  if (missing !== 0) {
    throw new TunError('ERR_TUN_NOT_SUPPORTED', `the kernel's TUN driver lacks ${what} (flags 0x${missing.toString(16)})`);
  }
}
