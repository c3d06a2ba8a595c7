// The input shared by the split and GRO micro-benchmarks: one ~64 KB TCP
// superpacket (44 x 1448 bytes of payload, a 32-byte TCP header with the
// timestamp option) behind a virtio_net_hdr that asks for GSO at 1448 bytes,
// as the kernel hands bulk TCP to an offload TUN reader.
import {
  buildTcpPacket,
  buildVirtioPacket,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
} from '../../packages/offload/dist/src/index.js';

/** Payload bytes per segment (MSS of a 1500-byte MTU with TCP timestamps). */
export const MSS = 1448;
/** Segments in one superpacket (44 x 1448 = 63712 bytes of payload). */
export const SEGMENTS = 44;

const timestamps = Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);

/** Builds the IPv4 (family 4) or IPv6 (6) superpacket: `{ packet, input }` without / with its virtio header. */
export function tcpSuperpacket(family) {
  const v6 = family === 6;
  const packet = buildTcpPacket({
    src: v6 ? '2001:db8::1' : '192.0.2.1',
    dst: v6 ? '2001:db8::2' : '192.0.2.2',
    srcPort: 40000,
    dstPort: 5201,
    seq: 1000,
    ack: 2000,
    tcpOptions: timestamps,
    payload: MSS * SEGMENTS,
  });
  const input = buildVirtioPacket(packet, { gsoType: v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: MSS });
  return { packet, input };
}
