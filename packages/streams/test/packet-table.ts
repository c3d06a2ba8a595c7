/**
 * Test support: a table of packets built with @tunpipe/offload's builders (the
 * benchmarking range 198.18.0.0/15 and fd00::/8 only), well formed and malformed.
 */
import {
  buildEthernetFrame,
  buildIcmpPacket,
  buildIpPacket,
  buildTcpPacket,
  buildUdpPacket,
  IpProtocol,
} from '@tunpipe/offload';

const A4 = '198.18.0.1';
const B4 = '198.18.0.2';
const A6 = 'fd00::1';
const B6 = 'fd00::2';

/** A well-formed packet and what a parser must see in it. */
export interface PacketRow {
  name: string;
  bytes: Uint8Array;
  ipVersion: 4 | 6;
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  key: string;
}

/** Well-formed IP packets, one per row. */
export function goodPackets(): PacketRow[] {
  return [
    {
      name: 'tcp4',
      bytes: buildTcpPacket({ src: A4, dst: B4, srcPort: 40000, dstPort: 80, payload: 100 }),
      ipVersion: 4, protocol: IpProtocol.TCP, srcPort: 40000, dstPort: 80, key: `6|${A4}|40000|${B4}|80`,
    },
    {
      name: 'tcp4 reply',
      bytes: buildTcpPacket({ src: B4, dst: A4, srcPort: 80, dstPort: 40000, payload: 10 }),
      ipVersion: 4, protocol: IpProtocol.TCP, srcPort: 80, dstPort: 40000, key: `6|${B4}|80|${A4}|40000`,
    },
    {
      name: 'tcp6',
      bytes: buildTcpPacket({ src: A6, dst: B6, srcPort: 40001, dstPort: 443 }),
      ipVersion: 6, protocol: IpProtocol.TCP, srcPort: 40001, dstPort: 443, key: `6|${A6}|40001|${B6}|443`,
    },
    {
      name: 'udp4',
      bytes: buildUdpPacket({ src: A4, dst: B4, srcPort: 5353, dstPort: 53, payload: 30 }),
      ipVersion: 4, protocol: IpProtocol.UDP, srcPort: 5353, dstPort: 53, key: `17|${A4}|5353|${B4}|53`,
    },
    {
      name: 'udp6 after a hop-by-hop header',
      bytes: buildUdpPacket({ src: A6, dst: B6, srcPort: 1000, dstPort: 2000, payload: 8, extensionHeaders: [{ type: IpProtocol.HOPOPTS }] }),
      ipVersion: 6, protocol: IpProtocol.UDP, srcPort: 1000, dstPort: 2000, key: `17|${A6}|1000|${B6}|2000`,
    },
    {
      name: 'icmp4 echo request',
      bytes: buildIcmpPacket({ src: A4, dst: B4, identifier: 4711, sequence: 1, payload: 56 }),
      ipVersion: 4, protocol: IpProtocol.ICMP, key: `1|${A4}|4711|${B4}|4711`,
    },
    {
      name: 'icmp4 echo reply',
      bytes: buildIcmpPacket({ src: B4, dst: A4, type: 0, identifier: 4711, sequence: 1, payload: 56 }),
      ipVersion: 4, protocol: IpProtocol.ICMP, key: `1|${B4}|4711|${A4}|4711`,
    },
    {
      name: 'icmp4 destination unreachable',
      bytes: buildIcmpPacket({ src: B4, dst: A4, type: 3, code: 1, payload: 28 }),
      ipVersion: 4, protocol: IpProtocol.ICMP, key: `1|${B4}|0|${A4}|0`,
    },
    {
      name: 'icmp6 echo request',
      bytes: buildIcmpPacket({ src: A6, dst: B6, identifier: 99, sequence: 7, payload: 16 }),
      ipVersion: 6, protocol: IpProtocol.ICMPV6, key: `58|${A6}|99|${B6}|99`,
    },
    {
      name: 'gre4',
      bytes: buildIpPacket({ src: A4, dst: B4, protocol: IpProtocol.GRE, payload: new Uint8Array(12) }),
      ipVersion: 4, protocol: IpProtocol.GRE, key: `47|${A4}|0|${B4}|0`,
    },
    {
      name: 'udp4 later fragment (no transport header)',
      bytes: buildIpPacket({ src: A4, dst: B4, protocol: IpProtocol.UDP, fragmentOffset: 1480, payload: new Uint8Array(3) }),
      ipVersion: 4, protocol: IpProtocol.UDP, key: `17|${A4}|0|${B4}|0`,
    },
  ];
}

/** Packets the parser must reject, one per row. */
export function malformedPackets(): Array<[string, Uint8Array]> {
  const tcp = buildTcpPacket({ src: A4, dst: B4, srcPort: 1, dstPort: 2 });
  const badDataOffset = tcp.slice();
  badDataOffset[20 + 12] = 0x40; // data offset 16 bytes
  const udp = buildUdpPacket({ src: A4, dst: B4, srcPort: 1, dstPort: 2, payload: 4 });
  const udpLengthPastEnd = udp.slice();
  udpLengthPastEnd[20 + 5] = 200;
  const v4TotalPastEnd = udp.slice();
  v4TotalPastEnd[3] = 200;
  const shortIcmp = buildIpPacket({ src: A4, dst: B4, protocol: IpProtocol.ICMP, payload: new Uint8Array(4) });
  const v6 = buildUdpPacket({ src: A6, dst: B6, srcPort: 1, dstPort: 2, extensionHeaders: [{ type: IpProtocol.HOPOPTS }] });
  const v6ExtPastEnd = v6.slice();
  v6ExtPastEnd[41] = 30; // hop-by-hop length 248 bytes
  return [
    ['empty', new Uint8Array(0)],
    ['one byte', new Uint8Array([0x45])],
    ['version 0', new Uint8Array(40)],
    ['IPv4 header cut at 19 bytes', tcp.subarray(0, 19)],
    ['IPv4 total length past the end', v4TotalPastEnd],
    ['TCP data offset below 20', badDataOffset],
    ['TCP header cut short', tcp.subarray(0, 30).map((b, i) => (i === 3 ? 30 : b))],
    ['UDP length past the end', udpLengthPastEnd],
    ['ICMP shorter than its header', shortIcmp],
    ['IPv6 header cut at 39 bytes', v6.subarray(0, 39)],
    ['IPv6 extension header past the end', v6ExtPastEnd],
  ];
}

/** An Ethernet frame around an IP packet, and an ARP frame. */
export function ethernetFrames(ip: Uint8Array): { ipFrame: Uint8Array; arpFrame: Uint8Array } {
  const src = '02:00:00:00:00:01';
  const dst = '02:00:00:00:00:02';
  return {
    ipFrame: buildEthernetFrame({ src, dst, payload: ip }),
    arpFrame: buildEthernetFrame({ src, dst, etherType: 0x0806, payload: new Uint8Array(28) }),
  };
}
