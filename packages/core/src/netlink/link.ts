/**
 * Links (network interfaces) over rtnetlink: the `struct ifinfomsg` header and the
 * decoding of RTM_NEWLINK replies into `LinkInfo`.
 *
 *     struct ifinfomsg, <linux/rtnetlink.h> (16 bytes)
 *     0        1        2        4              8              12             16
 *     +--------+--------+--------+--------------+--------------+--------------+
 *     | family | (pad)  | type   | ifi_index    | ifi_flags    | ifi_change   |
 *     |   u8   |   u8   |  u16   |    s32       |    u32       |    u32       |
 *     +--------+--------+--------+--------------+--------------+--------------+
 *     followed by IFLA_* attributes (<linux/if_link.h>).
 */
import { AF_UNSPEC, IFLA_ADDRESS, IFLA_BROADCAST, IFLA_IFNAME, IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MTU, IFLA_NUM_RX_QUEUES, IFLA_NUM_TX_QUEUES, IFLA_OPERSTATE, IFLA_TXQLEN } from '../constants.js';
import { formatMac, MAC_LENGTH } from '../address.js';
import { Attributes, HOST_LITTLE_ENDIAN, malformed, type MessageBuilder, type NetlinkMessage } from './message.js';

/** sizeof(struct ifinfomsg). */
export const IFINFOMSG_LEN = 16;

/** A network interface as rtnetlink reports it. */
export interface LinkInfo {
  /** Interface index. */
  ifindex: number;
  /** Interface name. */
  name: string;
  /** ifi_flags: IFF_UP, IFF_RUNNING, IFF_LOWER_UP... (<linux/if.h>). */
  flags: number;
  /** MTU in bytes. */
  mtu: number;
  /** Transmit queue length (txqueuelen). */
  txQueueLen: number;
  /** Link-layer address `xx:xx:...` (null for devices without one, like TUN). */
  mac: string | null;
  /** Link-layer broadcast address (null when there is none). */
  broadcastMac: string | null;
  /** Number of transmit queues (IFLA_NUM_TX_QUEUES). */
  numTxQueues: number;
  /** Number of receive queues (IFLA_NUM_RX_QUEUES). */
  numRxQueues: number;
  /** RFC 2863 operational state as `ip` prints it: UP, DOWN, UNKNOWN, LOWERLAYERDOWN... */
  operState: string;
  /** Link kind from IFLA_LINKINFO (`tun`, `veth`...), null when the driver reports none. */
  kind: string | null;
}

/** IF_OPER_* names in value order, <linux/if.h>. */
const OPER_STATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];

/** Fields of an ifinfomsg to write. */
export interface IfinfomsgFields {
  index: number;
  flags?: number;
  change?: number;
}

/** Appends a `struct ifinfomsg` to the message being built. */
export function writeIfinfomsg(b: MessageBuilder, f: IfinfomsgFields): void {
  const at = b.reserve(IFINFOMSG_LEN);
  b.setU8(at, AF_UNSPEC).setI32(at + 4, f.index).setU32(at + 8, f.flags ?? 0).setU32(at + 12, f.change ?? 0);
}

/** The ifi_index of an RTM_NEWLINK message. */
export function linkIndexOf(buf: Uint8Array, msg: NetlinkMessage): number {
  if (msg.end - msg.payload < IFINFOMSG_LEN) throw malformed('RTM_NEWLINK shorter than struct ifinfomsg');
  return new DataView(buf.buffer, buf.byteOffset).getInt32(msg.payload + 4, HOST_LITTLE_ENDIAN);
}

/** Decodes an RTM_NEWLINK message. */
export function decodeLink(buf: Uint8Array, msg: NetlinkMessage): LinkInfo {
  if (msg.end - msg.payload < IFINFOMSG_LEN) throw malformed('RTM_NEWLINK shorter than struct ifinfomsg');
  const view = new DataView(buf.buffer, buf.byteOffset);
  const attrs = Attributes.parse(buf, msg.payload + IFINFOMSG_LEN, msg.end);
  const name = attrs.string(IFLA_IFNAME);
  if (name === undefined) throw malformed('RTM_NEWLINK without IFLA_IFNAME');
  const oper = attrs.u8(IFLA_OPERSTATE);
  return {
    ifindex: view.getInt32(msg.payload + 4, HOST_LITTLE_ENDIAN),
    name,
    flags: view.getUint32(msg.payload + 8, HOST_LITTLE_ENDIAN),
    mtu: attrs.u32(IFLA_MTU) ?? 0,
    txQueueLen: attrs.u32(IFLA_TXQLEN) ?? 0,
    mac: hardwareAddress(attrs, IFLA_ADDRESS),
    broadcastMac: hardwareAddress(attrs, IFLA_BROADCAST),
    numTxQueues: attrs.u32(IFLA_NUM_TX_QUEUES) ?? 1,
    numRxQueues: attrs.u32(IFLA_NUM_RX_QUEUES) ?? 1,
    operState: oper === undefined ? 'UNKNOWN' : (OPER_STATES[oper] ?? `UNKNOWN(${oper})`),
    kind: attrs.nested(IFLA_LINKINFO)?.string(IFLA_INFO_KIND) ?? null,
  };
}

/** An Ethernet address attribute as text; null when absent, empty or not 6 bytes. */
function hardwareAddress(attrs: Attributes, type: number): string | null {
  const b = attrs.bytes(type);
  return b === undefined || b.length !== MAC_LENGTH ? null : formatMac(b);
}
