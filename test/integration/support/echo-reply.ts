/**
 * Turns an IPv4 ICMP echo request into its echo reply in place: the tests' stand-in
 * for a userspace network stack behind a TUN device, shared by the fixtures that
 * answer `ping` from the main thread and from a linux-mq queue worker.
 */
import { internetChecksum } from '@tunpipe/offload';

// IPv4 header, RFC 791 / <netinet/ip.h>: ver_ihl @0, protocol @9, saddr @12, daddr @16.
// ICMP header, RFC 792 / <linux/icmp.h>: type @0, code @1, checksum @2.
const ICMP = 1;
const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;

/** The echo request's identifier and sequence, and the addresses it travelled between. */
export interface EchoAnswer {
  /** Source address of the request (dotted quad). */
  from: string;
  /** Destination address of the request. */
  to: string;
  /** ICMP sequence number. */
  seq: number;
}

/**
 * If `packet[offset..offset+length)` is an IPv4 ICMP echo request, rewrites it into
 * the reply (addresses swapped, type 0, ICMP checksum recomputed; the IPv4 header
 * checksum is unchanged by the swap) and returns what it answered; otherwise null.
 */
export function answerEchoRequest(packet: Uint8Array, offset: number, length: number): EchoAnswer | null {
  if (length < 28 || packet[offset]! >> 4 !== 4) return null;
  const ihl = (packet[offset]! & 0x0f) * 4;
  if (ihl < 20 || length < ihl + 8 || packet[offset + 9] !== ICMP) return null;
  const icmp = offset + ihl;
  if (packet[icmp] !== ECHO_REQUEST || packet[icmp + 1] !== 0) return null;
  const quad = (at: number): string => Array.from(packet.subarray(at, at + 4)).join('.');
  const answer = { from: quad(offset + 12), to: quad(offset + 16), seq: (packet[icmp + 6]! << 8) | packet[icmp + 7]! };
  for (let k = 0; k < 4; k++) {
    const a = packet[offset + 12 + k]!;
    packet[offset + 12 + k] = packet[offset + 16 + k]!;
    packet[offset + 16 + k] = a;
  }
  packet[icmp] = ECHO_REPLY;
  packet[icmp + 2] = 0;
  packet[icmp + 3] = 0;
  const sum = internetChecksum(packet, icmp, offset + length);
  packet[icmp + 2] = sum >> 8;
  packet[icmp + 3] = sum & 0xff;
  return answer;
}
