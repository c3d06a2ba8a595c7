/**
 * `DeviceBuilder`: creates (or attaches to) a TUN/TAP interface and configures it
 * in one step.
 *
 *     const dev = new DeviceBuilder()
 *       .name('tp0')
 *       .ipv4('198.18.0.1', 24)
 *       .ipv6('fd00::1', 64)
 *       .mtu(1400)
 *       .build();
 *
 * Every option is validated when it is set and again as a whole in `build()`,
 * before any system call. `build()` then runs, in this order: open /dev/net/tun
 * and TUNSETIFF; vnet header and offload; owner, group, persist; MAC (TAP), MTU,
 * tx queue length; addresses (a point-to-point `destination` makes the kernel
 * route through the device); link up. When a step fails, everything done so far
 * is undone: a device this build made persistent is made non-persistent again and
 * the fd closed, so the interface vanishes and no fd is left open.
 */
import { TunError } from '@tunpipe/offload';
import {
  IFF_TUN, IFF_TAP, IFF_NO_PI, IFF_MULTI_QUEUE, IFF_VNET_HDR, IFF_UP, VIRTIO_NET_HDR_LEN,
} from './constants.js';
import { Ifreq } from './ifreq.js';
import {
  openTunClone, attachTun, requireFeatures, configureOffload, setOwner, setGroup, setPersist, closeQuietly,
} from './tun-fd.js';
import {
  validateName, validateIPv4, validateIPv4Prefix, validateIPv6, validateIPv6Prefix, validateMtu, validateLayer,
  validateBoolean, validateMac, validateTxQueueLen, validateId, isNameTemplate, validateLayerMtu, MIN_IPV6_MTU,
  type Layer, type MacInput,
} from './validate.js';
import { Rtnetlink } from './netlink/rtnetlink.js';
import { createDevice, type Device } from './device.js';

/** The IPv4 address a builder assigns. */
interface Ipv4Option {
  address: string;
  prefix: number;
  destination: string | undefined;
}

/** The complete, validated configuration a builder collected. */
export interface DeviceOptions {
  /** Interface name or `%d` template; undefined lets the kernel pick (`tun%d` / `tap%d`). */
  name: string | undefined;
  ipv4: Ipv4Option | undefined;
  ipv6: Array<{ address: string; prefix: number }>;
  mtu: number | undefined;
  layer: Layer;
  packetInformation: boolean;
  multiQueue: boolean;
  offload: boolean;
  macAddr: Uint8Array | undefined;
  txQueueLen: number | undefined;
  enable: boolean;
  owner: number | undefined;
  group: number | undefined;
  persist: boolean | undefined;
}

/** Chainable configuration of a new TUN/TAP device; `build()` creates it. */
export class DeviceBuilder {
  readonly #o: DeviceOptions = {
    name: undefined,
    ipv4: undefined,
    ipv6: [],
    mtu: undefined,
    layer: 'l3',
    packetInformation: false,
    multiQueue: false,
    offload: false,
    macAddr: undefined,
    txQueueLen: undefined,
    enable: true,
    owner: undefined,
    group: undefined,
    persist: undefined,
  };

  /** Interface name (at most 15 bytes; `tun%d` lets the kernel number it). Default: `tun%d` / `tap%d`. */
  name(name: string): this {
    this.#o.name = validateName(name);
    return this;
  }

  /**
   * The IPv4 address, with a prefix length (`24`) or netmask (`'255.255.255.0'`).
   * With `destination` the link is point-to-point toward that address. Setting it
   * again replaces the previous one.
   */
  ipv4(address: string, prefixOrNetmask: number | string, destination?: string): this {
    this.#o.ipv4 = {
      address: validateIPv4(address),
      prefix: validateIPv4Prefix(prefixOrNetmask),
      destination: destination === undefined ? undefined : validateIPv4(destination),
    };
    return this;
  }

  /** Adds an IPv6 address (repeatable). */
  ipv6(address: string, prefix: number): this {
    this.#o.ipv6.push({ address: validateIPv6(address), prefix: validateIPv6Prefix(prefix) });
    return this;
  }

  /** MTU, 68..65535 (at least 1280 with IPv6 addresses). Default: the kernel's (1500). */
  mtu(mtu: number): this {
    this.#o.mtu = validateMtu(mtu);
    return this;
  }

  /** `'l3'`: TUN, IP packets (default). `'l2'`: TAP, Ethernet frames. */
  layer(layer: Layer): this {
    this.#o.layer = validateLayer(layer);
    return this;
  }

  /** Prefix each packet with the 4-byte `struct tun_pi` (flags, EtherType). Default false (IFF_NO_PI). */
  packetInformation(enabled: boolean): this {
    this.#o.packetInformation = validateBoolean(enabled, 'packetInformation');
    return this;
  }

  /** Multi-queue device (IFF_MULTI_QUEUE): more queues with `Device.cloneQueue()`. Default false. */
  multiQueue(enabled: boolean): this {
    this.#o.multiQueue = validateBoolean(enabled, 'multiQueue');
    return this;
  }

  /**
   * Virtio-net header on every packet and TCP (required) + UDP (when the kernel
   * has it) segmentation offload: reads may return 64 KB superpackets, writes may
   * carry them. Off (default) clears the device's offload mask.
   */
  offload(enabled: boolean): this {
    this.#o.offload = validateBoolean(enabled, 'offload');
    return this;
  }

  /** MAC address of a TAP device (unicast). Invalid on TUN. Default: random, chosen by the kernel. */
  macAddr(mac: MacInput): this {
    this.#o.macAddr = validateMac(mac);
    return this;
  }

  /** Transmit queue length. Default: the kernel's (1000). */
  txQueueLen(length: number): this {
    this.#o.txQueueLen = validateTxQueueLen(length);
    return this;
  }

  /** Bring the link up at the end of `build()`. Default true. */
  enable(enabled: boolean): this {
    this.#o.enable = validateBoolean(enabled, 'enable');
    return this;
  }

  /** Let this uid attach to the device without CAP_NET_ADMIN (TUNSETOWNER). */
  owner(uid: number): this {
    this.#o.owner = validateId(uid, 'uid');
    return this;
  }

  /** Let this gid attach to the device without CAP_NET_ADMIN (TUNSETGROUP). */
  group(gid: number): this {
    this.#o.group = validateId(gid, 'gid');
    return this;
  }

  /** Keep the interface after the last fd closes (TUNSETPERSIST). `false` clears it on an existing device. */
  persist(enabled: boolean): this {
    this.#o.persist = validateBoolean(enabled, 'persist');
    return this;
  }

  /** A copy of the options collected so far. */
  options(): DeviceOptions {
    return { ...this.#o, ipv6: this.#o.ipv6.map((a) => ({ ...a })) };
  }

  /** Checks the options as a whole, as `build()` does before any system call, without creating anything; throws the same TunError. */
  check(): this {
    validateCombination(this.#o);
    return this;
  }

  /**
   * Creates the interface (or attaches to an existing one of that name, e.g. a
   * persistent device) and applies every option. Throws a TunError; on failure
   * nothing is left behind.
   */
  build(): Device {
    const o = this.options();
    validateCombination(o);
    return buildDevice(o);
  }
}

/** Rules between options, checked in `build()` before any system call. */
function validateCombination(o: DeviceOptions): void {
  if (o.layer === 'l3' && o.macAddr !== undefined) {
    throw new TunError('ERR_TUN_INVALID_OPTION', 'macAddr is for TAP (l2) devices; this builder makes a TUN (l3) device');
  }
  if (o.mtu !== undefined) validateLayerMtu(o.mtu, o.layer);
  if (o.ipv6.length > 0 && o.mtu !== undefined && o.mtu < MIN_IPV6_MTU) {
    throw new TunError('ERR_TUN_INVALID_MTU', `MTU ${o.mtu} is below ${MIN_IPV6_MTU}: the kernel disables IPv6 on such a link, so IPv6 addresses cannot be added`);
  }
  if (o.ipv4?.destination !== undefined && o.ipv4.destination === o.ipv4.address) {
    throw new TunError('ERR_TUN_INVALID_ADDRESS', `destination ${o.ipv4.destination} equals the local address`);
  }
}

function buildDevice(o: DeviceOptions): Device {
  const fd = openTunClone();
  let rtnl: Rtnetlink | undefined;
  let madePersistent = false;
  let existed = false;
  try {
    const wanted = (o.layer === 'l2' ? IFF_TAP : IFF_TUN)
      | (o.packetInformation ? 0 : IFF_NO_PI)
      | (o.multiQueue ? IFF_MULTI_QUEUE : 0)
      | (o.offload ? IFF_VNET_HDR : 0);
    requireFeatures(fd, wanted, 'the requested flags');

    // Whether TUNSETIFF creates the interface or attaches to one (a persistent
    // device, another queue): only what this build creates may be torn down.
    rtnl = Rtnetlink.open();
    const fixedName = o.name !== undefined && !isNameTemplate(o.name) ? o.name : undefined;
    existed = fixedName !== undefined && rtnl.linkByName(fixedName) !== undefined;

    const iff = attachTun(fd, o.name ?? '', wanted, new Ifreq());
    const offload = configureOffload(fd, o.offload);
    if (o.owner !== undefined) setOwner(fd, o.owner);
    if (o.group !== undefined) setGroup(fd, o.group);
    if (o.persist !== undefined) {
      setPersist(fd, o.persist);
      madePersistent = o.persist && !existed;
    }

    const link = rtnl.linkByName(iff.name);
    if (link === undefined) throw new TunError('ERR_TUN_DEVICE_GONE', `${iff.name} vanished right after TUNSETIFF`);
    const ifindex = link.ifindex;
    if (o.macAddr !== undefined) rtnl.setMacAddress(ifindex, o.macAddr);
    if (o.mtu !== undefined) rtnl.setMtu(ifindex, o.mtu);
    if (o.txQueueLen !== undefined) rtnl.setTxQueueLen(ifindex, o.txQueueLen);
    if (o.ipv4 !== undefined) {
      const { address, prefix, destination } = o.ipv4;
      rtnl.addAddress(ifindex, destination === undefined ? { address, prefix } : { address, prefix, peer: destination });
    }
    for (const { address, prefix } of o.ipv6) rtnl.addAddress(ifindex, { address, prefix });
    // Already up (attaching to a persistent device): no request, so an owner
    // without CAP_NET_ADMIN can attach with the default options.
    if (o.enable && (link.flags & IFF_UP) === 0) rtnl.setLinkUp(ifindex, true);

    const device = createDevice({
      fd,
      owned: true,
      ifindex,
      flags: iff.flags,
      offload,
      vnetHdrLen: o.offload ? VIRTIO_NET_HDR_LEN : 0,
      rtnl,
    });
    return device;
  } catch (err) {
    // Undo: a device this build made persistent must not outlive the failure.
    if (madePersistent) {
      try {
        setPersist(fd, false);
      } catch {
        // The fd is closed next; report the original failure.
      }
    }
    rtnl?.close();
    closeQuietly(fd);
    throw err;
  }
}
