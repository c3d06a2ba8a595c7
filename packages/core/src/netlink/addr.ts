/**
 * Interface addresses over rtnetlink: the `struct ifaddrmsg` header and the
 * decoding of RTM_NEWADDR replies into `AddressInfo`.
 *
 *     struct ifaddrmsg, <linux/if_addr.h> (8 bytes)
 *     0            1             2           3           4                8
 *     +------------+-------------+-----------+-----------+----------------+
 *     | ifa_family | ifa_prefixlen| ifa_flags | ifa_scope | ifa_index u32  |
 *     +------------+-------------+-----------+-----------+----------------+
 *     followed by IFA_* attributes.
 *
 * IFA_LOCAL is the interface's own address, IFA_ADDRESS the peer on a point-to-point
 * link and equal to IFA_LOCAL otherwise (IPv6 without a peer sends IFA_ADDRESS only).
 */
import { AF_INET, AF_INET6, IFA_ADDRESS, IFA_BROADCAST, IFA_LOCAL } from '../constants.js';
import { formatIp, IPV4_LENGTH, IPV6_LENGTH, maxPrefix, type IpFamily } from '../address.js';
import { Attributes, HOST_LITTLE_ENDIAN, malformed, type MessageBuilder, type NetlinkMessage } from './message.js';

/** sizeof(struct ifaddrmsg). */
export const IFADDRMSG_LEN = 8;

/** An address of an interface. */
export interface AddressInfo {
  /** 4 or 6. */
  family: IpFamily;
  /** The interface's own address (IFA_LOCAL). */
  address: string;
  /** Prefix length. */
  prefix: number;
  /** The peer's address on a point-to-point link. */
  peer?: string;
  /** IPv4 broadcast address. */
  broadcast?: string;
}

/** Fields of an ifaddrmsg to write. */
export interface IfaddrmsgFields {
  family: IpFamily;
  prefix: number;
  flags?: number;
  scope?: number;
  index: number;
}

/** The AF_* value of a family. */
export function afOf(family: IpFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}

/** Appends a `struct ifaddrmsg` to the message being built. */
export function writeIfaddrmsg(b: MessageBuilder, f: IfaddrmsgFields): void {
  const at = b.reserve(IFADDRMSG_LEN);
  b.setU8(at, afOf(f.family))
    .setU8(at + 1, f.prefix)
    .setU8(at + 2, f.flags ?? 0)
    .setU8(at + 3, f.scope ?? 0)
    .setU32(at + 4, f.index);
}

/** The ifa_index of an RTM_NEWADDR message. */
export function addressIndexOf(buf: Uint8Array, msg: NetlinkMessage): number {
  if (msg.end - msg.payload < IFADDRMSG_LEN) throw malformed('RTM_NEWADDR shorter than struct ifaddrmsg');
  return new DataView(buf.buffer, buf.byteOffset).getUint32(msg.payload + 4, HOST_LITTLE_ENDIAN);
}

/** Decodes an RTM_NEWADDR message; undefined for families other than IPv4/IPv6. */
export function decodeAddress(buf: Uint8Array, msg: NetlinkMessage): AddressInfo | undefined {
  if (msg.end - msg.payload < IFADDRMSG_LEN) throw malformed('RTM_NEWADDR shorter than struct ifaddrmsg');
  const af = buf[msg.payload];
  if (af !== AF_INET && af !== AF_INET6) return undefined;
  const family: IpFamily = af === AF_INET ? 4 : 6;
  const prefix = buf[msg.payload + 1];
  if (prefix > maxPrefix(family)) throw malformed(`ifa_prefixlen ${prefix} too long for IPv${family}`);
  const attrs = Attributes.parse(buf, msg.payload + IFADDRMSG_LEN, msg.end);
  const local = ipAttribute(attrs, IFA_LOCAL, family);
  const remote = ipAttribute(attrs, IFA_ADDRESS, family);
  const address = local ?? remote;
  if (address === undefined) throw malformed('RTM_NEWADDR without IFA_LOCAL or IFA_ADDRESS');
  const info: AddressInfo = { family, address, prefix };
  if (local !== undefined && remote !== undefined && remote !== local) info.peer = remote;
  const broadcast = family === 4 ? ipAttribute(attrs, IFA_BROADCAST, 4) : undefined;
  if (broadcast !== undefined) info.broadcast = broadcast;
  return info;
}

/** An address attribute as text; throws when its size does not fit the family. */
export function ipAttribute(attrs: Attributes, type: number, family: IpFamily): string | undefined {
  const b = attrs.bytes(type);
  if (b === undefined) return undefined;
  const need = family === 4 ? IPV4_LENGTH : IPV6_LENGTH;
  if (b.length !== need) throw malformed(`address attribute ${type} has ${b.length} bytes, IPv${family} needs ${need}`);
  return formatIp(family, b);
}
