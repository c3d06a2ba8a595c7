/**
 * `Device`: one open queue of a TUN (l3) or TAP (l2) interface, plus the
 * interface's configuration.
 *
 * Packets move through the fd: `tryRecv` / `recv` read one packet (frame) per
 * call, `send` writes one. The fd is non-blocking; a waiting `recv` parks in a
 * `ReadinessWaiter` (a poll thread per device, see `readiness.ts`), never in
 * libuv's threadpool.
 *
 * Configuration (name, MTU, addresses, routes, link state, MAC, tx queue length)
 * goes through rtnetlink by ifindex, on a netlink socket the Device opened in the
 * interface's network namespace. It therefore keeps targeting the right namespace
 * when the calling thread later switches namespaces, and still works after the fd
 * was given away with `intoRawFd()`. The per-fd switches (persist, owner, group)
 * are TUN ioctls and need the fd.
 */
import { fstatSync, statSync } from 'node:fs';
import { TunError } from '@tunpipe/offload';
import { sys, errno, osError } from './libc.js';
import {
  IFF_TAP, IFF_TUN, IFF_NO_PI, IFF_MULTI_QUEUE, IFF_VNET_HDR, IFF_PERSIST, IFF_UP, IFF_RUNNING,
  EAGAIN, EBADFD, ENODEV, ENXIO, EIO, POLLERR, POLLHUP, POLLNVAL,
} from './constants.js';
import { Ifreq } from './ifreq.js';
import {
  tunIff, setPersist, setOwner, setGroup, openTunClone, attachTun, setOffloadMask, closeQuietly,
  makeNonBlocking, makeNonBlockingCloexec, vnetHeaderSize, configureOffload, deviceNetnsFd,
  TCP_OFFLOAD_MASK, UDP_OFFLOAD_MASK, type OffloadState,
} from './tun-fd.js';
import { ReadinessWaiter } from './readiness.js';
import {
  validateName, validateLayerMtu, validateIPv4, validateIPv6, validateIp, validateIPv4Prefix, validateIPv6Prefix,
  validateMac, validateBoolean, validateId, validateTxQueueLen, validateCidr, validateFd, validateBuffer,
  validateTimeout, validateSignal, validateNetnsTarget, type Layer, type MacInput,
} from './validate.js';
import { formatCidr, networkAddress } from './address.js';
import { Rtnetlink } from './netlink/rtnetlink.js';
import { enterNetns, openNetnsFd } from './netns.js';

/** One address of the interface, as `addresses()` lists it. */
export interface DeviceAddress {
  /** Canonical text (`198.18.0.1`, `fd00::1`). */
  address: string;
  /** Prefix length. */
  prefix: number;
}

/** Options of `recv`. */
export interface RecvOptions {
  /** Abort the wait: rejects with `ERR_TUN_ABORTED` (name `AbortError`, cause = the signal's reason). */
  signal?: AbortSignal;
  /** Milliseconds to wait for a packet before rejecting with `ERR_TUN_TIMEOUT`. Default: forever. */
  timeout?: number;
}

/** Options of `addRoute`. */
export interface RouteOptions {
  /** Next hop (same family as the destination). Default: on-link through this device. */
  gateway?: string;
  /** Route metric (priority). */
  metric?: number;
  /** Routing table id. Default: main (254). */
  table?: number;
}

/** Options of `Device.fromFd` / `Device.borrowFd`. */
export interface AdoptOptions {
  /**
   * Set the offload mask on adoption (needs IFF_VNET_HDR for `true`; `false`
   * clears it). Without it the mask is left alone and `tcpGso()`/`udpGso()` report
   * false: the kernel has no way to read the mask back.
   */
  offload?: boolean;
}

/** Everything a Device is made of; built by DeviceBuilder or the adopt functions. */
export interface DeviceInit {
  fd: number;
  owned: boolean;
  ifindex: number;
  /** TUNGETIFF flags. */
  flags: number;
  offload: OffloadState;
  vnetHdrLen: number;
  rtnl: Rtnetlink;
}

const INIT = Symbol('Device.init');

/** The calling thread's network namespace. */
const THREAD_NETNS = '/proc/thread-self/ns/net';

/** Mask of the TUNSETIFF flags a queue of the same device must repeat. */
const QUEUE_FLAGS = IFF_TUN | IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE | IFF_VNET_HDR;

/** An open TUN/TAP queue and the configuration of its interface. */
export class Device {
  #fd: number;
  readonly #owned: boolean;
  #ifindex: number;
  readonly #flags: number;
  #persist: boolean;
  readonly #offload: OffloadState;
  readonly #vnetHdrLen: number;
  #rtnl: Rtnetlink | undefined;
  #waiter: ReadinessWaiter | undefined;
  #ifreq: Ifreq | undefined;
  #closed = false;

  /** Internal: use `new DeviceBuilder().build()`, `Device.fromFd` or `Device.borrowFd`. */
  constructor(token: typeof INIT, init: DeviceInit) {
    if (token !== INIT) throw new TunError('ERR_TUN_INVALID_ARGUMENT', 'use DeviceBuilder, Device.fromFd or Device.borrowFd');
    this.#fd = init.fd;
    this.#owned = init.owned;
    this.#ifindex = init.ifindex;
    this.#flags = init.flags;
    this.#persist = (init.flags & IFF_PERSIST) !== 0;
    this.#offload = init.offload;
    this.#vnetHdrLen = init.vnetHdrLen;
    this.#rtnl = init.rtnl;
  }

  /**
   * Takes ownership of an fd attached to a TUN/TAP device elsewhere (inherited,
   * passed over a unix socket...): discovers its name and flags (TUNGETIFF), makes
   * it non-blocking and close-on-exec, and closes it on `close()`.
   */
  static fromFd(fd: number, options: AdoptOptions = {}): Device {
    return adopt(fd, true, options);
  }

  /** Like `fromFd`, but never closes the fd (the caller keeps ownership). It is made non-blocking. */
  static borrowFd(fd: number, options: AdoptOptions = {}): Device {
    return adopt(fd, false, options);
  }

  // ---- identity -------------------------------------------------------------

  /** The file descriptor of this queue. Throws ERR_TUN_CLOSED after `close()` or `intoRawFd()`. */
  get fd(): number {
    return this.#requireFd();
  }

  /** True when reads and writes carry a virtio-net header (IFF_VNET_HDR; set by `.offload(true)`). */
  get vnetHdr(): boolean {
    return (this.#flags & IFF_VNET_HDR) !== 0;
  }

  /** Length of that virtio-net header in bytes (10), or 0 without IFF_VNET_HDR. */
  get vnetHdrLen(): number {
    return this.vnetHdr ? this.#vnetHdrLen : 0;
  }

  /** `'l3'` for TUN (IP packets), `'l2'` for TAP (Ethernet frames). */
  layer(): Layer {
    return (this.#flags & IFF_TAP) !== 0 ? 'l2' : 'l3';
  }

  /** True when each packet is preceded by the 4-byte `struct tun_pi` (no IFF_NO_PI). */
  packetInformation(): boolean {
    return (this.#flags & IFF_NO_PI) === 0;
  }

  /** True for a multi-queue device (IFF_MULTI_QUEUE): `cloneQueue()` works. */
  multiQueue(): boolean {
    return (this.#flags & IFF_MULTI_QUEUE) !== 0;
  }

  /** The interface index (stable while the interface lives in one namespace). */
  ifIndex(): number {
    this.#requireOpen();
    return this.#ifindex;
  }

  /** The interface's current name. */
  name(): string {
    return this.#link().name;
  }

  /**
   * Renames the interface. The kernel refuses to rename an interface that is up, so
   * an up interface is taken down, renamed and brought up again; taking a link down
   * makes the kernel drop its IPv6 addresses and every route through it, so the
   * IPv6 addresses are put back afterwards (routes added with `addRoute` are not).
   */
  setName(name: string): void {
    const valid = validateName(name);
    if (valid.includes('%d')) throw new TunError('ERR_TUN_INVALID_NAME', `setName takes a plain name, not a template: ${valid}`);
    const rtnl = this.#netlink();
    const link = rtnl.getLink(this.#ifindex);
    if (link.name === valid) return;
    if ((link.flags & IFF_UP) === 0) {
      rtnl.setName(this.#ifindex, valid);
      return;
    }
    const v6 = rtnl.addresses(this.#ifindex).filter((a) => a.family === 6 && !isLinkLocal6(a.address));
    rtnl.setLinkUp(this.#ifindex, false);
    try {
      rtnl.setName(this.#ifindex, valid);
    } finally {
      rtnl.setLinkUp(this.#ifindex, true);
      const now = new Set(rtnl.addresses(this.#ifindex).map((a) => `${a.address}/${a.prefix}`));
      for (const a of v6) {
        if (!now.has(`${a.address}/${a.prefix}`)) rtnl.addAddress(this.#ifindex, { address: a.address, prefix: a.prefix });
      }
    }
  }

  // ---- link settings --------------------------------------------------------

  /** The MTU. */
  mtu(): number {
    return this.#link().mtu;
  }

  /** Sets the MTU (68..65535; at most 65521 on TAP). */
  setMtu(mtu: number): void {
    const valid = validateLayerMtu(mtu, this.layer());
    this.#netlink().setMtu(this.#ifindex, valid);
  }

  /** Brings the interface up (`true`) or down (`false`). */
  enabled(up: boolean): void {
    const valid = validateBoolean(up, 'enabled');
    this.#netlink().setLinkUp(this.#ifindex, valid);
  }

  /** True when the interface is up and running (IFF_UP and IFF_RUNNING: up with a queue attached). */
  isRunning(): boolean {
    const { flags } = this.#link();
    return (flags & IFF_UP) !== 0 && (flags & IFF_RUNNING) !== 0;
  }

  /** The transmit queue length (packets the kernel queues toward this device). */
  txQueueLen(): number {
    return this.#link().txQueueLen;
  }

  /** Sets the transmit queue length. */
  setTxQueueLen(length: number): void {
    const valid = validateTxQueueLen(length);
    this.#netlink().setTxQueueLen(this.#ifindex, valid);
  }

  /** The MAC address (TAP only; `xx:xx:xx:xx:xx:xx`). Throws ERR_TUN_INVALID_OPTION on a TUN device. */
  macAddress(): string {
    this.#requireL2('macAddress');
    const mac = this.#link().mac;
    if (mac === null) throw new TunError('ERR_TUN_NOT_SUPPORTED', 'the interface reports no MAC address');
    return mac;
  }

  /** Sets the MAC address (TAP only; unicast, `xx:xx:xx:xx:xx:xx` or 6 bytes). */
  setMacAddress(mac: MacInput): void {
    const bytes = validateMac(mac);
    this.#requireL2('setMacAddress');
    this.#netlink().setMacAddress(this.#ifindex, bytes);
  }

  /**
   * Makes the interface outlive its last fd (TUNSETPERSIST), like tun-rs's
   * `persist()`; `persist(false)` makes it go with its last fd again. Read the
   * state with {@link isPersistent}.
   */
  persist(enable = true): void {
    const valid = validateBoolean(enable, 'persist');
    setPersist(this.#requireFd(), valid);
    this.#persist = valid;
  }

  /**
   * Whether the interface outlives its last fd (IFF_PERSIST), read from the kernel
   * (after `intoRawFd()`: the last value seen).
   */
  isPersistent(): boolean {
    if (this.#fd >= 0 && !this.#closed) this.#persist = (tunIff(this.#fd, this.#req()).flags & IFF_PERSIST) !== 0;
    return this.#persist;
  }

  /** Lets user `uid` attach to the device without CAP_NET_ADMIN (TUNSETOWNER). */
  user(uid: number): void {
    const valid = validateId(uid, 'uid');
    setOwner(this.#requireFd(), valid);
  }

  /** Lets group `gid` attach to the device without CAP_NET_ADMIN (TUNSETGROUP). */
  group(gid: number): void {
    const valid = validateId(gid, 'gid');
    setGroup(this.#requireFd(), valid);
  }

  /** True when TCP segmentation offload is on: reads may return ~64 KB TCP superpackets (vnet gso_type TCPV4/6). */
  tcpGso(): boolean {
    return this.#offload.tcp;
  }

  /** True when UDP segmentation offload (USO) stuck as well: reads may return UDP_L4 superpackets. */
  udpGso(): boolean {
    return this.#offload.udp;
  }

  // ---- addresses ------------------------------------------------------------

  /** Every address of the interface, IPv4 then IPv6 as the kernel lists them (IPv6 link-local included). */
  addresses(): DeviceAddress[] {
    return this.#netlink().addresses(this.#ifindex).map((a) => ({ address: a.address, prefix: a.prefix }));
  }

  /**
   * Replaces every IPv4 address with `address/prefix`; with `destination` the
   * address is point-to-point (`ip addr add A peer D/prefix`), and the kernel
   * routes the prefix (or just `destination` for /32) through the device.
   */
  setNetworkAddress(address: string, prefix: number | string, destination?: string): void {
    const local = validateIPv4(address);
    const length = validateIPv4Prefix(prefix);
    const peer = destination === undefined ? undefined : validateIPv4(destination);
    const rtnl = this.#netlink();
    for (const a of rtnl.addresses(this.#ifindex)) {
      if (a.family === 4) rtnl.deleteAddress(this.#ifindex, { address: a.address, prefix: a.prefix });
    }
    rtnl.addAddress(this.#ifindex, peer === undefined ? { address: local, prefix: length } : { address: local, prefix: length, peer });
  }

  /** Adds an IPv4 address (prefix length or netmask). */
  addAddressV4(address: string, prefix: number | string): void {
    const local = validateIPv4(address);
    const length = validateIPv4Prefix(prefix);
    this.#netlink().addAddress(this.#ifindex, { address: local, prefix: length });
  }

  /** Adds an IPv6 address. */
  addAddressV6(address: string, prefix: number): void {
    const local = validateIPv6(address);
    const length = validateIPv6Prefix(prefix);
    this.#netlink().addAddress(this.#ifindex, { address: local, prefix: length });
  }

  /** Removes an address of either family, whatever its prefix. Throws ERR_TUN_NOT_FOUND when the interface lacks it. */
  removeAddress(address: string): void {
    const { address: wanted } = validateIp(address);
    const rtnl = this.#netlink();
    const matches = rtnl.addresses(this.#ifindex).filter((a) => a.address === wanted);
    if (matches.length === 0) throw new TunError('ERR_TUN_NOT_FOUND', `${this.name()} has no address ${wanted}`);
    for (const a of matches) rtnl.deleteAddress(this.#ifindex, { address: a.address, prefix: a.prefix });
  }

  /** Removes the IPv6 address `address/prefix`. */
  removeAddressV6(address: string, prefix: number): void {
    const local = validateIPv6(address);
    const length = validateIPv6Prefix(prefix);
    this.#netlink().deleteAddress(this.#ifindex, { address: local, prefix: length });
  }

  /** The broadcast address of the first IPv4 address, or null when it has none. */
  broadcast(): string | null {
    const first = this.#netlink().addresses(this.#ifindex).find((a) => a.family === 4);
    return first?.broadcast ?? null;
  }

  /**
   * Sets the broadcast address of the first IPv4 address. The kernel cannot change
   * it in place: the address is removed and added back with the new broadcast
   * (secondary addresses of the same subnet go with it, as with `ip`).
   */
  setBroadcast(address: string): void {
    const brd = validateIPv4(address);
    const rtnl = this.#netlink();
    const first = rtnl.addresses(this.#ifindex).find((a) => a.family === 4);
    if (first === undefined) throw new TunError('ERR_TUN_NOT_FOUND', `${this.name()} has no IPv4 address to set a broadcast on`);
    rtnl.deleteAddress(this.#ifindex, { address: first.address, prefix: first.prefix });
    const spec = { address: first.address, prefix: first.prefix, broadcast: brd };
    rtnl.addAddress(this.#ifindex, first.peer === undefined ? spec : { ...spec, peer: first.peer });
  }

  // ---- routes ---------------------------------------------------------------

  /** Routes `cidr` (`198.18.4.0/24`, `fd00:1::/64`) through this device. Host bits of `cidr` are ignored. */
  addRoute(cidr: string, options: RouteOptions = {}): void {
    const destination = canonicalCidr(cidr);
    const route: { destination: string; gateway?: string; metric?: number; table?: number } = { destination };
    if (options.gateway !== undefined) {
      const gw = validateIp(options.gateway);
      if (gw.family !== (destination.includes(':') ? 6 : 4)) {
        throw new TunError('ERR_TUN_INVALID_ADDRESS', `gateway ${options.gateway} is not of the family of ${cidr}`);
      }
      route.gateway = gw.address;
    }
    if (options.metric !== undefined) route.metric = validateU32(options.metric, 'metric');
    if (options.table !== undefined) route.table = validateU32(options.table, 'table');
    this.#netlink().addRoute(this.#ifindex, route);
  }

  /** Removes the route to `cidr` through this device (main table). */
  removeRoute(cidr: string): void {
    this.#netlink().deleteRoute(this.#ifindex, { destination: canonicalCidr(cidr) });
  }

  // ---- queues and namespaces ------------------------------------------------

  /**
   * Opens another queue of this multi-queue device with the same flags and offload
   * settings: a new Device sharing the interface, with its own fd. The kernel
   * spreads received flows across queues. Throws ERR_TUN_NOT_SUPPORTED on a
   * single-queue device.
   */
  cloneQueue(): Device {
    if (!this.multiQueue()) throw new TunError('ERR_TUN_NOT_SUPPORTED', 'cloneQueue needs a multi-queue device (.multiQueue(true))');
    const name = this.name();
    const nsFd = this.#namespaceFd();
    let fd = -1;
    let rtnl: Rtnetlink | undefined;
    try {
      // A TUN fd belongs to the namespace it is opened in: open it in the device's.
      inNetns(nsFd, () => {
        fd = openTunClone();
        rtnl = Rtnetlink.open();
      });
      const iff = attachTun(fd, name, this.#flags & QUEUE_FLAGS);
      if (this.#offload.tcp) setOffloadMask(fd, this.#offload.udp ? UDP_OFFLOAD_MASK : TCP_OFFLOAD_MASK);
      return new Device(INIT, {
        fd,
        owned: true,
        ifindex: this.#ifindex,
        flags: iff.flags,
        offload: { ...this.#offload },
        vnetHdrLen: this.#vnetHdrLen,
        rtnl: rtnl!,
      });
    } catch (err) {
      rtnl?.close();
      closeQuietly(fd);
      throw err;
    } finally {
      if (nsFd !== null) closeQuietly(nsFd);
    }
  }

  /**
   * Moves the interface into another network namespace: a name under
   * /var/run/netns (`ip netns add NAME`), an absolute namespace path, or an open
   * namespace fd. The fd stays valid, but the kernel brings the link down and drops
   * its addresses and routes: configure it again after the move. Later
   * configuration calls target the new namespace.
   */
  moveToNetns(netns: string | number): void {
    const target = validateNetnsTarget(netns);
    const rtnl = this.#netlink();
    const nsFd = typeof target === 'number' ? target : openNetnsFd(target);
    try {
      const name = rtnl.getLink(this.#ifindex).name;
      rtnl.moveToNetns(this.#ifindex, nsFd);
      const moved = inNetns(nsFd, () => Rtnetlink.open());
      try {
        const link = moved.linkByName(name);
        if (link === undefined) throw new TunError('ERR_TUN_DEVICE_GONE', `${name} is not in the target namespace after the move`);
        this.#ifindex = link.ifindex;
      } catch (err) {
        moved.close();
        throw err;
      }
      rtnl.close();
      this.#rtnl = moved;
    } finally {
      if (typeof target !== 'number') closeQuietly(nsFd);
    }
  }

  // ---- packets --------------------------------------------------------------

  /**
   * Reads one packet into `buf` if one is queued; returns its length, or null when
   * none is (EAGAIN). `buf` should hold MTU + headers (+4 with packet information,
   * +10 with the vnet header, +14 on TAP; 65 KB+ with offload): a longer packet is
   * cut to fit. Allocates nothing.
   */
  tryRecv(buf: Uint8Array): number | null {
    const fd = this.#requireFd();
    const n = sys.read(fd, buf, buf.length);
    if (n >= 0) return n;
    const err = errno();
    if (err === EAGAIN) return null;
    throw this.#ioError(err, 'ERR_TUN_READ', 'read');
  }

  /**
   * Waits for one packet and reads it into `buf`; resolves with its length. The
   * event loop keeps running while it waits. Rejects with ERR_TUN_TIMEOUT after
   * `timeout` ms, ERR_TUN_ABORTED when `signal` aborts, ERR_TUN_CLOSED when the
   * Device is closed meanwhile, ERR_TUN_DEVICE_GONE when the interface disappears.
   */
  async recv(buf: Uint8Array, options: RecvOptions = {}): Promise<number> {
    validateBuffer(buf, 'recv buffer');
    const signal = validateSignal(options.signal);
    const timeout = validateTimeout(options.timeout);
    const first = this.tryRecv(buf);
    if (first !== null) return first;
    const deadline = timeout === undefined ? undefined : performance.now() + timeout;
    this.#waiter ??= new ReadinessWaiter(this.#requireFd());
    const waiter = this.#waiter;
    for (;;) {
      const remaining = deadline === undefined ? undefined : Math.max(0, deadline - performance.now());
      const revents = await waiter.wait({ signal, timeout: remaining });
      const n = this.tryRecv(buf);
      if (n !== null) return n;
      if ((revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0) {
        throw new TunError('ERR_TUN_DEVICE_GONE', `the interface is gone (poll revents 0x${revents.toString(16)})`);
      }
    }
  }

  /**
   * Writes one packet (frame on TAP; preceded by the vnet header / packet
   * information when the device uses them); returns the bytes written. Never
   * waits: a full queue throws ERR_TUN_WOULD_BLOCK (the packet was not sent; TUN
   * writes practically never hit this). Allocates nothing.
   */
  send(buf: Uint8Array): number {
    const fd = this.#requireFd();
    const n = sys.write(fd, buf, buf.length);
    if (n >= 0) return n;
    const err = errno();
    if (err === EAGAIN) throw new TunError('ERR_TUN_WOULD_BLOCK', 'the device queue is full; the packet was not sent', { errno: err, syscall: 'write' });
    throw this.#ioError(err, 'ERR_TUN_WRITE', 'write');
  }

  // ---- lifetime -------------------------------------------------------------

  /**
   * Gives up the fd: returns it and stops using it (like Rust's IntoRawFd). The
   * caller must close it. The Device keeps working for configuration (netlink by
   * ifindex); packet I/O, persist changes, `user`/`group` throw ERR_TUN_CLOSED.
   */
  intoRawFd(): number {
    const fd = this.#requireFd();
    this.isPersistent(); // remember the last value before the fd goes
    this.#waiter?.close();
    this.#waiter = undefined;
    this.#fd = -1;
    return fd;
  }

  /**
   * Closes the fd (unless borrowed or given away) and the netlink socket; a waiting
   * `recv` rejects with ERR_TUN_CLOSED at once. A non-persistent interface vanishes
   * with its last fd. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiter?.close();
    if (this.#owned && this.#fd >= 0) sys.close(this.#fd);
    this.#fd = -1;
    this.#rtnl?.close();
    this.#rtnl = undefined;
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `close()`, then waits until the device's poll thread has exited. */
  async [Symbol.asyncDispose](): Promise<void> {
    const waiter = this.#waiter;
    this.close();
    if (waiter !== undefined) await waiter.stopped;
  }

  /** Resolves once the poll thread (if one was started) has exited; for leak checks after `close()`. */
  get stopped(): Promise<void> {
    return this.#waiter?.stopped ?? Promise.resolve();
  }

  // ---- internals ------------------------------------------------------------

  #requireOpen(): void {
    if (this.#closed) throw new TunError('ERR_TUN_CLOSED', 'the device is closed');
  }

  #requireFd(): number {
    if (this.#closed) throw new TunError('ERR_TUN_CLOSED', 'the device is closed');
    if (this.#fd < 0) throw new TunError('ERR_TUN_CLOSED', 'the device gave its fd away (intoRawFd)');
    return this.#fd;
  }

  #netlink(): Rtnetlink {
    this.#requireOpen();
    return this.#rtnl!;
  }

  #link(): ReturnType<Rtnetlink['getLink']> {
    return this.#netlink().getLink(this.#ifindex);
  }

  #req(): Ifreq {
    this.#ifreq ??= new Ifreq();
    return this.#ifreq;
  }

  #requireL2(what: string): void {
    if (this.layer() !== 'l2') throw new TunError('ERR_TUN_INVALID_OPTION', `${what} needs a TAP (l2) device; this one is TUN (l3)`);
  }

  /** An fd of the device's namespace, or null to use the calling thread's (no CAP_NET_ADMIN to ask, or no fd). */
  #namespaceFd(): number | null {
    return this.#fd >= 0 ? deviceNetnsFd(this.#fd) : null;
  }

  #ioError(err: number, code: 'ERR_TUN_READ' | 'ERR_TUN_WRITE', syscall: string): TunError {
    if (err === EBADFD || err === ENODEV || err === ENXIO) {
      return osError('ERR_TUN_DEVICE_GONE', syscall, 'the interface is gone (deleted, or its namespace was; EBADFD)', err);
    }
    if (err === EIO && code === 'ERR_TUN_WRITE') return osError(code, syscall, 'is the interface down?', err);
    return osError(code, syscall, undefined, err);
  }
}

/** Internal: builds a Device from its parts (DeviceBuilder). */
export function createDevice(init: DeviceInit): Device {
  return new Device(INIT, init);
}

function adopt(fdInput: number, owned: boolean, options: AdoptOptions): Device {
  const fd = validateFd(fdInput);
  const offloadOption = options.offload === undefined ? undefined : validateBoolean(options.offload, 'offload');
  let iff;
  try {
    iff = tunIff(fd);
  } catch (err) {
    const e = err as TunError;
    throw new TunError('ERR_TUN_INVALID_FD', `fd ${fd} is not attached to a TUN/TAP device`, { cause: err, ...(e.errno === undefined ? {} : { errno: e.errno }), syscall: 'ioctl(TUNGETIFF)' });
  }
  const vnet = (iff.flags & IFF_VNET_HDR) !== 0;
  if (offloadOption === true && !vnet) {
    throw new TunError('ERR_TUN_INVALID_OPTION', `offload needs IFF_VNET_HDR, which fd ${fd} was not attached with`);
  }
  if (owned) makeNonBlockingCloexec(fd);
  else makeNonBlocking(fd);
  const vnetHdrLen = vnet ? vnetHeaderSize(fd) : 0;
  const offload = offloadOption === undefined ? { tcp: false, udp: false } : configureOffload(fd, offloadOption);
  const nsFd = deviceNetnsFd(fd);
  try {
    const rtnl = inNetns(nsFd, () => Rtnetlink.open());
    try {
      const link = rtnl.linkByName(iff.name);
      if (link === undefined) throw new TunError('ERR_TUN_DEVICE_GONE', `${iff.name} (fd ${fd}) has no link in its namespace`);
      return new Device(INIT, { fd, owned, ifindex: link.ifindex, flags: iff.flags, offload, vnetHdrLen, rtnl });
    } catch (err) {
      rtnl.close();
      throw err;
    }
  } finally {
    if (nsFd !== null) closeQuietly(nsFd);
  }
}

/**
 * Runs `fn` with the calling thread in the namespace open as `nsFd` (null: where it
 * is). setns is skipped when the thread is already there, so the common case needs
 * no CAP_SYS_ADMIN.
 */
function inNetns<T>(nsFd: number | null, fn: () => T): T {
  if (nsFd === null || fstatSync(nsFd).ino === statSync(THREAD_NETNS).ino) return fn();
  const entry = enterNetns(nsFd);
  try {
    return fn();
  } finally {
    entry.exit();
  }
}

function isLinkLocal6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

function canonicalCidr(cidr: string): string {
  const parsed = validateCidr(cidr);
  return formatCidr(parsed.family, networkAddress(parsed.bytes, parsed.prefix), parsed.prefix);
}

function validateU32(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new TunError('ERR_TUN_INVALID_ARGUMENT', `${what} must be an integer 0..4294967295, got ${String(value)}`);
  }
  return value;
}
