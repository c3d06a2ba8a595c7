/**
 * Builder for what an offload-enabled TUN fd carries: a virtio_net_hdr followed
 * by a packet or superpacket, with the L4 checksum field holding the folded
 * pseudo-header sum (CHECKSUM_PARTIAL) as the kernel hands it out.
 */
import { checkField } from '../argument-checks.js';
import { foldSum, ipv4AddressSum, ipv6AddressSum } from '../checksum.js';
import { invalidArgument } from '../error-codes.js';
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_LEN,
  writeVirtioNetHdr,
} from '../virtio-net-hdr.js';
import { writeU16 } from '../wire/big-endian.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { Ipv4Packet } from '../wire/ipv4.js';
import { Ipv6Packet } from '../wire/ipv6.js';
import { TcpField, TcpSegment } from '../wire/tcp.js';
import { UdpField } from '../wire/udp.js';

/** How {@link buildVirtioPacket} describes the packet. */
export interface VirtioPacketOptions {
  /** VIRTIO_NET_HDR_GSO_* (default NONE). */
  gsoType?: number;
  /** Payload bytes per segment (default 0). */
  gsoSize?: number;
  /** Make the L4 checksum partial and set NEEDS_CSUM (default true; TCP and UDP only). */
  needsCsum?: boolean;
  /** hdr_len to claim (default: the real header length, csum_start plus the L4 header). */
  hdrLen?: number;
  /** Overrides for csum_start / csum_offset (default: the L4 header and its checksum field). */
  csumStart?: number;
  /** See `csumStart`. */
  csumOffset?: number;
}

/**
 * Returns `virtio_net_hdr + packet` (a new array; `packet` is not modified).
 * `packet` starts at its IP header and must parse (ERR_TUN_MALFORMED_PACKET otherwise).
 */
export function buildVirtioPacket(packet: Uint8Array, options: VirtioPacketOptions = {}): Uint8Array {
  const gsoType = options.gsoType ?? VIRTIO_NET_HDR_GSO_NONE;
  const gsoSize = options.gsoSize ?? 0;
  const needsCsum = options.needsCsum ?? true;
  checkField(gsoType, 0xff, 'gsoType');
  checkField(gsoSize, 0xffff, 'gsoSize');
  const out = new Uint8Array(VIRTIO_NET_HDR_LEN + packet.length);
  out.set(packet, VIRTIO_NET_HDR_LEN);
  const p = out.subarray(VIRTIO_NET_HDR_LEN);

  let l4: number;
  let protocol: number;
  let addrSum: number;
  if (packet[0] >> 4 === 6) {
    const ip = new Ipv6Packet(p);
    const upper = ip.upperLayer();
    if (upper === undefined) throw invalidArgument('the IPv6 extension headers run past the packet');
    l4 = upper.offset;
    protocol = upper.protocol;
    addrSum = ipv6AddressSum(p, 0);
  } else {
    const ip = new Ipv4Packet(p);
    l4 = ip.headerLength;
    protocol = ip.protocol;
    addrSum = ipv4AddressSum(p, 0);
  }
  let l4HeaderLen = 0;
  let csumOffset = 0;
  if (protocol === IpProtocol.TCP) {
    l4HeaderLen = new TcpSegment(p, l4).headerLength;
    csumOffset = TcpField.CHECKSUM;
  } else if (protocol === IpProtocol.UDP) {
    l4HeaderLen = 8;
    csumOffset = UdpField.CHECKSUM;
  } else if (needsCsum) {
    throw invalidArgument(`needsCsum: protocol ${protocol} has no partial checksum here (TCP and UDP only)`);
  }
  let flags = 0;
  if (needsCsum) {
    flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    if (l4 + csumOffset + 2 > p.length) throw invalidArgument('the L4 header is truncated');
    writeU16(p, l4 + csumOffset, foldSum(addrSum + protocol + (p.length - l4)));
  }
  const csumStart = options.csumStart ?? (needsCsum ? l4 : 0);
  const csumOff = options.csumOffset ?? (needsCsum ? csumOffset : 0);
  const hdrLen = options.hdrLen ?? l4 + l4HeaderLen;
  checkField(csumStart, 0xffff, 'csumStart');
  checkField(csumOff, 0xffff, 'csumOffset');
  checkField(hdrLen, 0xffff, 'hdrLen');
  writeVirtioNetHdr(out, 0, flags, gsoType, hdrLen, gsoSize, csumStart, csumOff);
  return out;
}
