/**
 * Superpackets for the read-path tests, and the segments a correct split must
 * produce, both made with the packet builders: the expected segments are built
 * independently (each a fresh packet with its own checksums), never derived from
 * the split under test.
 */
import {
  buildTcpPacket,
  buildUdpPacket,
  buildVirtioPacket,
  TcpFlag,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  type IpHeaderOptions,
  type VirtioPacketOptions,
} from '../../src/index.js';

/** Documentation addresses (RFC 5737, RFC 3849): never configured anywhere. */
export const ADDRESSES = {
  4: { src: '192.0.2.1', dst: '198.51.100.2' },
  6: { src: '2001:db8::1', dst: '2001:db8:ffff::2' },
} as const;

/** Everything that describes one superpacket. */
export interface SuperpacketSpec {
  family: 4 | 6;
  protocol: 'tcp' | 'udp';
  payload: Uint8Array;
  gsoSize: number;
  /** Extra IP-layer options (id, ttl, tos, df, extension headers...). */
  ip?: Partial<IpHeaderOptions>;
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  tcpOptions?: Uint8Array;
}

function ipOptions(spec: SuperpacketSpec, id?: number): IpHeaderOptions {
  return { ...ADDRESSES[spec.family], ...spec.ip, ...(id === undefined ? {} : { id }) };
}

/** The superpacket as an ordinary (oversized) IP packet with full checksums. */
export function superpacket(spec: SuperpacketSpec): Uint8Array {
  return packetWith(spec, spec.payload, spec.ip?.id ?? 0, spec.seq ?? 0, spec.flags ?? TcpFlag.ACK);
}

function packetWith(spec: SuperpacketSpec, payload: Uint8Array, id: number, seq: number, flags: number): Uint8Array {
  const common = { srcPort: spec.srcPort ?? 40000, dstPort: spec.dstPort ?? 5201, payload };
  if (spec.protocol === 'udp') return buildUdpPacket({ ...ipOptions(spec, id), ...common });
  return buildTcpPacket({
    ...ipOptions(spec, id),
    ...common,
    seq,
    ack: spec.ack ?? 0x5000,
    flags,
    tcpOptions: spec.tcpOptions,
  });
}

/** The gso_type the kernel would report for `spec`. */
export function gsoTypeOf(spec: SuperpacketSpec): number {
  if (spec.protocol === 'udp') return VIRTIO_NET_HDR_GSO_UDP_L4;
  return spec.family === 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
}

/** What one read from an offload TUN fd would return for `spec`: virtio header + superpacket. */
export function virtioRead(spec: SuperpacketSpec, options: VirtioPacketOptions = {}): Uint8Array {
  return buildVirtioPacket(superpacket(spec), { gsoType: gsoTypeOf(spec), gsoSize: spec.gsoSize, ...options });
}

/** The segments a correct split of `spec` yields, each built from scratch. */
export function expectedSegments(spec: SuperpacketSpec): Uint8Array[] {
  const out: Uint8Array[] = [];
  const count = Math.max(1, Math.ceil(spec.payload.length / spec.gsoSize));
  const flags = spec.flags ?? TcpFlag.ACK;
  for (let i = 0; i < count; i++) {
    let f = flags;
    if (i !== count - 1) f &= ~(TcpFlag.FIN | TcpFlag.PSH);
    if (i !== 0) f &= ~TcpFlag.CWR;
    const id = spec.family === 4 ? ((spec.ip?.id ?? 0) + i) & 0xffff : 0;
    const seq = ((spec.seq ?? 0) + i * spec.gsoSize) % 2 ** 32;
    out.push(packetWith(spec, spec.payload.subarray(i * spec.gsoSize, (i + 1) * spec.gsoSize), id, seq, f));
  }
  return out;
}
