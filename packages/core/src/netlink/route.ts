/**
 * Routes over rtnetlink: the `struct rtmsg` header and the decoding of RTM_NEWROUTE
 * replies into `RouteInfo`.
 *
 *     struct rtmsg, <linux/rtnetlink.h> (12 bytes)
 *     0        1         2         3       4         5            6         7        8             12
 *     +--------+---------+---------+-------+---------+------------+---------+--------+-------------+
 *     | family | dst_len | src_len | tos   | table   | protocol   | scope   | type   | flags u32   |
 *     +--------+---------+---------+-------+---------+------------+---------+--------+-------------+
 *     followed by RTA_* attributes. rtm_table is a u8; tables above 255 travel in RTA_TABLE.
 */
import { AF_INET, AF_INET6, RTA_DST, RTA_GATEWAY, RTA_OIF, RTA_PRIORITY, RTA_TABLE } from '../constants.js';
import { formatIp, type IpFamily } from '../address.js';
import { ipAttribute } from './addr.js';
import { Attributes, HOST_LITTLE_ENDIAN, malformed, type MessageBuilder, type NetlinkMessage } from './message.js';

/** sizeof(struct rtmsg). */
export const RTMSG_LEN = 12;
/** RTM_F_CLONED, <linux/rtnetlink.h>: a cached (cloned) route, not a configured one. */
export const RTM_F_CLONED = 0x200;

/** A route as rtnetlink reports it. */
export interface RouteInfo {
  /** 4 or 6. */
  family: IpFamily;
  /** Destination block, e.g. `198.18.0.0/24` or `fd00::/64` (`0.0.0.0/0` for a default route). */
  destination: string;
  /** Next hop, when the route has one. */
  gateway?: string;
  /** RTA_PRIORITY (`metric` in `ip route`), when set. */
  metric?: number;
  /** Routing table id (254 = main). */
  table: number;
  /** rtm_protocol: 2 kernel, 3 boot, 4 static... (<linux/rtnetlink.h> RTPROT_*). */
  protocol: number;
  /** rtm_scope: 0 universe, 253 link, 254 host. */
  scope: number;
}

/** A decoded route with the fields used to select it. */
export interface RouteEntry extends RouteInfo {
  /** rtm_type (RTN_UNICAST, RTN_LOCAL...). */
  type: number;
  /** rtm_flags (RTM_F_CLONED...). */
  rtmFlags: number;
  /** RTA_OIF: the output interface, 0 when absent. */
  oif: number;
}

/** Fields of an rtmsg to write. */
export interface RtmsgFields {
  /** 4, 6, or 0 for AF_UNSPEC (dump both families). */
  family: IpFamily | 0;
  dstLen?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
}

/** Appends a `struct rtmsg` to the message being built. */
export function writeRtmsg(b: MessageBuilder, f: RtmsgFields): void {
  const at = b.reserve(RTMSG_LEN);
  b.setU8(at, f.family === 0 ? 0 : f.family === 4 ? AF_INET : AF_INET6)
    .setU8(at + 1, f.dstLen ?? 0)
    .setU8(at + 4, f.table ?? 0)
    .setU8(at + 5, f.protocol ?? 0)
    .setU8(at + 6, f.scope ?? 0)
    .setU8(at + 7, f.type ?? 0);
}

/** Decodes an RTM_NEWROUTE message; undefined for families other than IPv4/IPv6. */
export function decodeRoute(buf: Uint8Array, msg: NetlinkMessage): RouteEntry | undefined {
  if (msg.end - msg.payload < RTMSG_LEN) throw malformed('RTM_NEWROUTE shorter than struct rtmsg');
  const p = msg.payload;
  const af = buf[p];
  if (af !== AF_INET && af !== AF_INET6) return undefined;
  const family: IpFamily = af === AF_INET ? 4 : 6;
  const dstLen = buf[p + 1];
  if (dstLen > (family === 4 ? 32 : 128)) throw malformed(`rtm_dst_len ${dstLen} too long for IPv${family}`);
  const attrs = Attributes.parse(buf, p + RTMSG_LEN, msg.end);
  const dst = ipAttribute(attrs, RTA_DST, family) ?? formatIp(family, new Uint8Array(16));
  const route: RouteEntry = {
    family,
    destination: `${dst}/${dstLen}`,
    table: attrs.u32(RTA_TABLE) ?? buf[p + 4],
    protocol: buf[p + 5],
    scope: buf[p + 6],
    type: buf[p + 7],
    rtmFlags: new DataView(buf.buffer, buf.byteOffset).getUint32(p + 8, HOST_LITTLE_ENDIAN),
    oif: attrs.u32(RTA_OIF) ?? 0,
  };
  const gateway = ipAttribute(attrs, RTA_GATEWAY, family);
  if (gateway !== undefined) route.gateway = gateway;
  const metric = attrs.u32(RTA_PRIORITY);
  if (metric !== undefined) route.metric = metric;
  return route;
}

/** The public view of a route entry (without the selection fields). */
export function routeInfo(e: RouteEntry): RouteInfo {
  const r: RouteInfo = { family: e.family, destination: e.destination, table: e.table, protocol: e.protocol, scope: e.scope };
  if (e.gateway !== undefined) r.gateway = e.gateway;
  if (e.metric !== undefined) r.metric = e.metric;
  return r;
}
