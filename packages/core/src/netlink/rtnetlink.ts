/**
 * `Rtnetlink`: link, address and route configuration through a NETLINK_ROUTE socket,
 * synchronously (each call is one request and its acknowledgement, a few
 * microseconds). What `ip link/addr/route` do, without running `ip`.
 *
 * The socket lives in the network namespace of the thread that called `open()`; every
 * ifindex is resolved there. Every argument is validated before anything is sent.
 * Kernel refusals throw TunError with the kernel's errno (`EEXIST`, `EADDRNOTAVAIL`,
 * `EPERM`...) and `syscall` `netlink(RTM_...)`: code `ERR_TUN_NO_DEVICE` when the
 * interface does not exist (ENODEV), `ERR_TUN_NETLINK` otherwise.
 */
import { TunError, type TunErrorCode } from '@tunpipe/offload';
import { validateName } from '../validate.js';
import {
  broadcastAddress,
  checkPrefix,
  formatIp,
  hasHostBits,
  MAC_LENGTH,
  parseCidr,
  parseIp,
  parseMac,
  type IpFamily,
} from '../address.js';
import {
  EADDRNOTAVAIL,
  ENODEV,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_F_NODAD,
  IFA_LOCAL,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFLA_TXQLEN,
  IFF_UP,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_COMPAT,
  RT_TABLE_MAIN,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_PRIORITY,
  RTA_TABLE,
  RTM_DELADDR,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RTN_UNSPEC,
  RTPROT_STATIC,
  RTPROT_UNSPEC,
} from '../constants.js';
import { addressIndexOf, decodeAddress, IFADDRMSG_LEN, writeIfaddrmsg, type AddressInfo } from './addr.js';
import { decodeLink, writeIfinfomsg, type LinkInfo } from './link.js';
import { HOST_LITTLE_ENDIAN, MessageBuilder, type NetlinkMessage } from './message.js';
import { NetlinkSocket, type MessageHandler, type NetlinkSocketOptions } from './netlink-socket.js';
import { decodeRoute, routeInfo, RTM_F_CLONED, writeRtmsg, type RouteEntry, type RouteInfo } from './route.js';

export type { LinkInfo } from './link.js';
export type { AddressInfo } from './addr.js';
export type { RouteInfo } from './route.js';

/** An address to add: `peer` makes it point-to-point; `broadcast` is IPv4 only. */
export interface AddressSpec {
  /** The interface's own address. */
  address: string;
  /** Prefix length (0..32 or 0..128). */
  prefix: number;
  /** The far end of a point-to-point link (same family). */
  peer?: string;
  /** IPv4 broadcast address; by default the prefix's last address when the prefix is shorter than 31 and there is no peer (`brd +`). */
  broadcast?: string;
  /** Skip IPv6 duplicate address detection (IFA_F_NODAD): the address is usable at once. */
  noDad?: boolean;
}

/** An address to delete. */
export interface AddressKey {
  address: string;
  prefix: number;
}

/** A route to add or delete (through the given interface). */
export interface RouteSpec {
  /** Destination block, e.g. `198.18.4.0/24`, `fd00:1::/64`, `0.0.0.0/0`. Host bits must be zero. */
  destination: string;
  /** Next hop (same family); without one the route is on-link (scope link). */
  gateway?: string;
  /** RTA_PRIORITY (`metric`). The kernel's default is 0 for IPv4, 1024 for IPv6. */
  metric?: number;
  /** Routing table id; default 254 (main). */
  table?: number;
}

const OPERATIONS = {
  [RTM_NEWLINK]: 'RTM_NEWLINK',
  [RTM_GETLINK]: 'RTM_GETLINK',
  [RTM_NEWADDR]: 'RTM_NEWADDR',
  [RTM_DELADDR]: 'RTM_DELADDR',
  [RTM_GETADDR]: 'RTM_GETADDR',
  [RTM_NEWROUTE]: 'RTM_NEWROUTE',
  [RTM_DELROUTE]: 'RTM_DELROUTE',
  [RTM_GETROUTE]: 'RTM_GETROUTE',
} as Record<number, string>;

/** ENODEV means the interface is gone (or never was); everything else is a netlink failure. */
function codeFor(errno: number): TunErrorCode {
  return errno === ENODEV ? 'ERR_TUN_NO_DEVICE' : 'ERR_TUN_NETLINK';
}

/** How often a dump is repeated when the kernel reports it inconsistent (NLM_F_DUMP_INTR). */
const DUMP_ATTEMPTS = 4;

/** Synchronous rtnetlink client bound to the calling thread's network namespace. */
export class Rtnetlink {
  private readonly socket: NetlinkSocket;
  private readonly builder = new MessageBuilder(512);

  private constructor(socket: NetlinkSocket) {
    this.socket = socket;
  }

  /** Opens a NETLINK_ROUTE socket in the calling thread's current network namespace. */
  static open(options: NetlinkSocketOptions = {}): Rtnetlink {
    return new Rtnetlink(NetlinkSocket.open(options));
  }

  /** The socket's file descriptor (-1 once closed). */
  get fd(): number {
    return this.socket.fd;
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    this.socket.close();
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---- links -------------------------------------------------------------------

  /** The link with this index; throws ERR_TUN_NO_DEVICE (ENODEV) when there is none. */
  getLink(ifindex: number): LinkInfo {
    checkIndex(ifindex);
    const b = this.begin(RTM_GETLINK, 0);
    writeIfinfomsg(b, { index: ifindex });
    const link = this.fetchLink(b);
    if (link === undefined) throw new TunError('ERR_TUN_NETLINK', `RTM_GETLINK ${ifindex}: the kernel answered without a link`);
    return link;
  }

  /** The link with this name, or undefined when there is none. */
  linkByName(name: string): LinkInfo | undefined {
    validateName(name);
    const b = this.begin(RTM_GETLINK, 0);
    writeIfinfomsg(b, { index: 0 });
    b.attrString(IFLA_IFNAME, name);
    try {
      return this.fetchLink(b);
    } catch (e) {
      if (e instanceof TunError && e.code === 'ERR_TUN_NO_DEVICE') return undefined;
      throw e;
    }
  }

  /** Sets the link administratively up or down (IFF_UP). */
  setLinkUp(ifindex: number, up: boolean): void {
    checkIndex(ifindex);
    const b = this.begin(RTM_NEWLINK, 0);
    writeIfinfomsg(b, { index: ifindex, flags: up ? IFF_UP : 0, change: IFF_UP });
    this.run(b);
  }

  /** Sets the MTU (IFLA_MTU). The driver's bounds apply (EINVAL outside them). */
  setMtu(ifindex: number, mtu: number): void {
    checkIndex(ifindex);
    checkU32(mtu, 'mtu');
    this.setLinkU32(ifindex, IFLA_MTU, mtu);
  }

  /** Renames the link (IFLA_IFNAME). EEXIST when the name is taken; some drivers refuse while the link is up (EBUSY). */
  setName(ifindex: number, name: string): void {
    checkIndex(ifindex);
    validateName(name);
    const b = this.begin(RTM_NEWLINK, 0);
    writeIfinfomsg(b, { index: ifindex });
    b.attrString(IFLA_IFNAME, name);
    this.run(b);
  }

  /** Sets the link-layer address (IFLA_ADDRESS): 6 bytes or `xx:xx:xx:xx:xx:xx`. */
  setMacAddress(ifindex: number, mac: Uint8Array | string): void {
    checkIndex(ifindex);
    const bytes = typeof mac === 'string' ? parseMac(mac) : mac;
    if (!(bytes instanceof Uint8Array) || bytes.length !== MAC_LENGTH) {
      throw new TunError('ERR_TUN_INVALID_MAC', `a MAC address is ${MAC_LENGTH} bytes`);
    }
    const b = this.begin(RTM_NEWLINK, 0);
    writeIfinfomsg(b, { index: ifindex });
    b.attr(IFLA_ADDRESS, bytes);
    this.run(b);
  }

  /** Sets the transmit queue length (IFLA_TXQLEN). */
  setTxQueueLen(ifindex: number, n: number): void {
    checkIndex(ifindex);
    checkU32(n, 'txQueueLen');
    this.setLinkU32(ifindex, IFLA_TXQLEN, n);
  }

  /**
   * Moves the link into the network namespace open as `netnsFd` (IFLA_NET_NS_FD).
   * It arrives there down and without addresses; its ifindex is kept when free.
   */
  moveToNetns(ifindex: number, netnsFd: number): void {
    checkIndex(ifindex);
    if (!Number.isInteger(netnsFd) || netnsFd < 0) {
      throw new TunError('ERR_TUN_INVALID_ARGUMENT', `netnsFd must be an open file descriptor, got ${netnsFd}`);
    }
    this.setLinkU32(ifindex, IFLA_NET_NS_FD, netnsFd);
  }

  // ---- addresses ---------------------------------------------------------------

  /** Every IPv4 and IPv6 address of the link (IPv6 link-local ones included). */
  addresses(ifindex: number): AddressInfo[] {
    checkIndex(ifindex);
    return this.dump(() => {
      const b = this.begin(RTM_GETADDR, NLM_F_DUMP);
      b.reserve(IFADDRMSG_LEN); // struct ifaddrmsg all zero: AF_UNSPEC, both families
      return b;
    }, (out: AddressInfo[], buf, msg) => {
      if (msg.type !== RTM_NEWADDR || addressIndexOf(buf, msg) !== ifindex) return;
      const a = decodeAddress(buf, msg);
      if (a !== undefined) out.push(a);
    });
  }

  /**
   * Adds an address (RTM_NEWADDR, create-exclusive: EEXIST when it is there). IPv4
   * gets IFA_LOCAL = address, IFA_ADDRESS = peer (or the address), and a broadcast.
   */
  addAddress(ifindex: number, a: AddressSpec): void {
    checkIndex(ifindex);
    if (a === null || typeof a !== 'object') throw new TunError('ERR_TUN_INVALID_ARGUMENT', 'address spec must be an object');
    const local = parseIp(a.address);
    const prefix = checkPrefix(a.prefix, local.family);
    const peer = a.peer === undefined ? undefined : sameFamily(a.peer, local.family, 'peer');
    let broadcast: Uint8Array | undefined;
    if (a.broadcast !== undefined) {
      if (local.family !== 4) throw new TunError('ERR_TUN_INVALID_ADDRESS', 'broadcast addresses are IPv4 only');
      broadcast = sameFamily(a.broadcast, 4, 'broadcast');
    } else if (local.family === 4 && peer === undefined && prefix < 31) {
      broadcast = broadcastAddress(local.bytes, prefix);
    }
    const b = this.begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    writeIfaddrmsg(b, { family: local.family, prefix, index: ifindex, flags: a.noDad === true ? IFA_F_NODAD : 0 });
    b.attr(IFA_LOCAL, local.bytes);
    b.attr(IFA_ADDRESS, peer ?? local.bytes);
    if (broadcast !== undefined) b.attr(IFA_BROADCAST, broadcast);
    this.run(b);
  }

  /**
   * Deletes the address with this prefix (RTM_DELADDR). Throws ERR_TUN_NETLINK with
   * EADDRNOTAVAIL when the link has no such address (same address, other prefix
   * included).
   */
  deleteAddress(ifindex: number, a: AddressKey): void {
    checkIndex(ifindex);
    if (a === null || typeof a !== 'object') throw new TunError('ERR_TUN_INVALID_ARGUMENT', 'address must be an object');
    const local = parseIp(a.address);
    const prefix = checkPrefix(a.prefix, local.family);
    // The kernel matches IPv4 deletions on IFA_LOCAL alone; find the exact entry
    // first so that the prefix counts and a point-to-point peer is named.
    const canonical = formatIp(local.family, local.bytes);
    const found = this.addresses(ifindex).find((x) => x.family === local.family && x.address === canonical && x.prefix === prefix);
    if (found === undefined) {
      throw new TunError('ERR_TUN_NETLINK', `netlink(RTM_DELADDR) failed (EADDRNOTAVAIL): ${a.address}/${prefix} is not on interface ${ifindex}`, {
        errno: EADDRNOTAVAIL,
        syscall: 'netlink(RTM_DELADDR)',
      });
    }
    const b = this.begin(RTM_DELADDR, 0);
    writeIfaddrmsg(b, { family: local.family, prefix, index: ifindex });
    b.attr(IFA_LOCAL, local.bytes);
    b.attr(IFA_ADDRESS, found.peer === undefined ? local.bytes : parseIp(found.peer).bytes);
    this.run(b);
  }

  // ---- routes ------------------------------------------------------------------

  /**
   * Unicast routes out of the link, in every table (what `ip route show table all
   * dev X` lists, without local/broadcast/multicast routes and cached clones).
   */
  routes(ifindex: number, family?: 4 | 6): RouteInfo[] {
    checkIndex(ifindex);
    if (family !== undefined && family !== 4 && family !== 6) {
      throw new TunError('ERR_TUN_INVALID_ARGUMENT', `family must be 4 or 6, got ${String(family)}`);
    }
    return this.dump(() => {
      const b = this.begin(RTM_GETROUTE, NLM_F_DUMP);
      writeRtmsg(b, { family: family ?? 0 });
      return b;
    }, (out: RouteInfo[], buf, msg) => {
      if (msg.type !== RTM_NEWROUTE) return;
      const r = decodeRoute(buf, msg);
      if (r === undefined || !selected(r, ifindex)) return;
      out.push(routeInfo(r));
    });
  }

  /**
   * Adds a route through the link (RTM_NEWROUTE, create-exclusive: EEXIST when the
   * same route exists), protocol static, scope link when there is no gateway.
   */
  addRoute(ifindex: number, r: RouteSpec): void {
    checkIndex(ifindex);
    const b = this.routeMessage(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ifindex, r, false);
    this.run(b);
  }

  /** Deletes a route through the link (RTM_DELROUTE); ESRCH when there is none. */
  deleteRoute(ifindex: number, r: RouteSpec): void {
    checkIndex(ifindex);
    const b = this.routeMessage(RTM_DELROUTE, 0, ifindex, r, true);
    this.run(b);
  }

  // ---- plumbing ----------------------------------------------------------------

  private routeMessage(type: number, flags: number, ifindex: number, r: RouteSpec, del: boolean): MessageBuilder {
    if (r === null || typeof r !== 'object') throw new TunError('ERR_TUN_INVALID_ARGUMENT', 'route must be an object');
    const dst = parseCidr(r.destination);
    if (hasHostBits(dst.bytes, dst.prefix)) {
      throw new TunError('ERR_TUN_INVALID_PREFIX', `route destination ${r.destination} has bits set past its prefix`);
    }
    const gateway = r.gateway === undefined ? undefined : sameFamily(r.gateway, dst.family, 'gateway');
    if (r.metric !== undefined) checkU32(r.metric, 'metric');
    const table = r.table ?? RT_TABLE_MAIN;
    if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) {
      throw new TunError('ERR_TUN_INVALID_ARGUMENT', `table must be an integer 1..4294967295, got ${String(table)}`);
    }
    const b = this.begin(type, flags);
    writeRtmsg(b, {
      family: dst.family,
      dstLen: dst.prefix,
      table: table < 256 ? table : RT_TABLE_COMPAT,
      // A deletion matches any protocol and type; `scope nowhere` matches any scope.
      protocol: del ? RTPROT_UNSPEC : RTPROT_STATIC,
      scope: del ? RT_SCOPE_NOWHERE : gateway === undefined ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE,
      type: del ? RTN_UNSPEC : RTN_UNICAST,
    });
    if (dst.prefix > 0) b.attr(RTA_DST, dst.bytes);
    b.attrU32(RTA_TABLE, table);
    b.attrU32(RTA_OIF, ifindex);
    if (gateway !== undefined) b.attr(RTA_GATEWAY, gateway);
    if (r.metric !== undefined) b.attrU32(RTA_PRIORITY, r.metric);
    return b;
  }

  private begin(type: number, flags: number): MessageBuilder {
    // Every non-dump request asks for an ACK: that is how its end is recognised.
    const ack = (flags & NLM_F_DUMP) === NLM_F_DUMP ? 0 : NLM_F_ACK;
    return this.builder.begin(type, NLM_F_REQUEST | ack | flags, this.socket.nextSeq());
  }

  /** Sends the built request; true when a dump came back marked interrupted. */
  private run(b: MessageBuilder, onMessage?: MessageHandler): boolean {
    const request = b.finish();
    const type = new DataView(request.buffer, request.byteOffset).getUint16(4, HOST_LITTLE_ENDIAN);
    return this.socket.request(request, OPERATIONS[type] ?? `type ${type}`, codeFor, onMessage).interrupted;
  }

  private fetchLink(b: MessageBuilder): LinkInfo | undefined {
    let link: LinkInfo | undefined;
    this.run(b, (buf: Uint8Array, msg: NetlinkMessage) => {
      if (msg.type === RTM_NEWLINK && link === undefined) link = decodeLink(buf, msg);
    });
    return link;
  }

  private setLinkU32(ifindex: number, attr: number, value: number): void {
    const b = this.begin(RTM_NEWLINK, 0);
    writeIfinfomsg(b, { index: ifindex });
    b.attrU32(attr, value);
    this.run(b);
  }

  /** Runs a dump, repeating it while the kernel marks it interrupted. */
  private dump<T>(build: () => MessageBuilder, collect: (out: T[], buf: Uint8Array, msg: NetlinkMessage) => void): T[] {
    for (let attempt = 1; ; attempt++) {
      const out: T[] = [];
      const interrupted = this.run(build(), (buf, msg) => collect(out, buf, msg));
      if (!interrupted) return out;
      if (attempt === DUMP_ATTEMPTS) {
        throw new TunError('ERR_TUN_NETLINK', `netlink dump interrupted ${DUMP_ATTEMPTS} times by concurrent changes`);
      }
    }
  }
}

function selected(r: RouteEntry, ifindex: number): boolean {
  return r.oif === ifindex && r.type === RTN_UNICAST && (r.rtmFlags & RTM_F_CLONED) === 0;
}

function sameFamily(text: string, family: IpFamily, what: string): Uint8Array {
  const ip = parseIp(text);
  if (ip.family !== family) {
    throw new TunError('ERR_TUN_INVALID_ADDRESS', `${what} ${JSON.stringify(text)} is IPv${ip.family}, the address is IPv${family}`);
  }
  return ip.bytes;
}

function checkIndex(ifindex: number): void {
  if (!Number.isInteger(ifindex) || ifindex <= 0 || ifindex > 0x7fffffff) {
    throw new TunError('ERR_TUN_INVALID_ARGUMENT', `ifindex must be a positive integer, got ${String(ifindex)}`);
  }
}

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new TunError('ERR_TUN_INVALID_ARGUMENT', `${what} must be an integer 0..4294967295, got ${String(value)}`);
  }
}

