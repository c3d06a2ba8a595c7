/**
 * GRO for the write path of an offload-enabled TUN fd: consecutive segments of
 * the same flow in a batch are coalesced into one superpacket with a GSO
 * virtio_net_hdr, so the kernel takes them in one write. The rules are those of
 * wireguard-go's offload_linux.go (themselves modelled on the kernel's GRO and
 * its selftests), restated here:
 *
 * - candidates: IPv4 without options, IPv6 without extension headers (see
 *   gro-candidate.ts); IP length fields must match the packet; no fragments;
 * - TCP: flags exactly ACK or ACK|PSH, payload not empty; flow = addresses,
 *   ports and ACK number; equal TCP header length and option bytes; equal IPv4
 *   ToS, TTL and DF (the ID is ignored) or IPv6 traffic class, flow label and
 *   hop limit;
 * - in-sequence append (seq = item end) or prepend (seq + len = item start):
 *   every segment but the last has the group's gso_size, a shorter segment ends
 *   the group, nothing follows a PSH, a PSH packet is never prepended;
 * - UDP (only with `udp: true`, the device accepted USO): only appended to the
 *   newest item of its flow, so datagrams are never reordered; at most
 *   {@link UDP_GRO_MAX_SEGMENTS} per superpacket (the kernel's check in
 *   virtio_net_hdr_to_skb); the UDP length field must match;
 * - packets whose checksums (IPv4 header, TCP/UDP with pseudo-header) are
 *   invalid are never merged, a zero (absent) UDP checksum counts as invalid;
 *   only packets the caller vouches for (`checksumsValid`, e.g. segments its
 *   own split just checksummed) skip the verification, and then their payload
 *   is copied natively instead of summed on the way;
 * - a coalesced packet never exceeds 65535 bytes of IP, nor its buffer.
 *
 * Coalesced packets get {NEEDS_CSUM, TCPV4/TCPV6/UDP_L4, hdr_len, gso_size,
 * csum_start, csum_offset}, fixed IP lengths (and IPv4 header checksum, UDP
 * length) and the folded pseudo-header sum in the L4 checksum field; every other
 * returned packet gets a zeroed header.
 *
 * Unlike wireguard-go, a prepend moves bytes inside the first packet's buffer
 * instead of swapping entries of `bufs`: the caller's array is never reordered.
 */
import { checkOffset } from './argument-checks.js';
import { foldSum, ipv4AddressSum, ipv6AddressSum, sumRange } from './checksum.js';
import { copyAndSum, copyBytes } from './copy-checksum.js';
import { invalidArgument } from './error-codes.js';
import { GroCandidate, groCandidate } from './gro-candidate.js';
import type { GroTable } from './gro-table.js';
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VIRTIO_NET_HDR_LEN,
  writeVirtioNetHdr,
} from './virtio-net-hdr.js';
import { readI32, readU16, writeU16 } from './wire/big-endian.js';
import { IpProtocol } from './wire/ip-protocol.js';
import { Ipv4Field, Ipv4Flag, IPV4_HEADER_LEN, writeIpv4HeaderChecksum } from './wire/ipv4.js';
import { Ipv6Field, IPV6_HEADER_LEN } from './wire/ipv6.js';
import { TCP_HEADER_LEN, TcpField, TcpFlag } from './wire/tcp.js';
import { UDP_HEADER_LEN, UdpField } from './wire/udp.js';

/** Options of {@link handleGro}; hoist the object out of hot loops. */
export interface GroOptions {
  /** Coalesce TCP (the device accepted TSO4/TSO6). Default true. */
  tcp?: boolean;
  /** Coalesce UDP (the device accepted USO4/USO6). Default false. */
  udp?: boolean;
  /**
   * Per packet (indexed like `bufs`): non-zero when the caller knows that the
   * packet's IPv4 header checksum and L4 checksum are valid because it computed
   * them itself (a split of its own, the kernel's CHECKSUM_UNNECESSARY); GRO
   * then skips verifying them. Packets from anywhere else must read 0 (or lie
   * past the array's end): their checksums are verified, and a bad one is never
   * merged. Default: every packet is verified.
   */
  checksumsValid?: ArrayLike<number> | undefined;
}

/** Lengths of the packets in `bufs`, updated in place for coalesced packets. */
export type PacketLengths = Int32Array | number[];

/**
 * Most datagrams per UDP_L4 superpacket: UDP_MAX_SEGMENTS of kernels before
 * 6.9 (64; later kernels allow 128). virtio_net_hdr_to_skb rejects more.
 */
export const UDP_GRO_MAX_SEGMENTS = 64;
/** Largest coalesced IP packet (the IPv4 total length field's limit, applied to both families). */
export const GRO_MAX_PACKET = 0xffff;

// Outcomes of one packet.
const NOOP = 0;
const INSERTED = 1;
const COALESCED = 2;
// How a packet can join an item.
const CANNOT = 0;
const APPEND = 1;
const PREPEND = 2;
// Outcomes of a coalesce attempt.
const SUCCESS = 0;
const NO_ROOM = 1;
const ITEM_INVALID = 2;
const PACKET_INVALID = 3;

const ACK_PSH = TcpFlag.ACK | TcpFlag.PSH;

/**
 * Coalesces the packets `bufs[i][offset, offset + lengths[i])` where it can,
 * writes a virtio_net_hdr at `offset - 10` of every packet to write, updates
 * `lengths` of coalesced packets, and returns the indices to write, in order of
 * first appearance. `bufs[i].length` is the capacity a packet may grow to.
 *
 * The returned array is `table.written`, reused (refilled) by the next call
 * with the same table: nothing is allocated per call. Throws
 * ERR_TUN_INVALID_ARGUMENT, before touching anything, when `offset` is not an
 * integer >= 10, `lengths` is shorter than `bufs`, or a packet does not fit its
 * buffer.
 */
export function handleGro(
  bufs: readonly Uint8Array[],
  lengths: PacketLengths,
  offset: number,
  table: GroTable,
  options?: GroOptions,
): number[] {
  checkOffset(offset, 'handleGro');
  if (offset < VIRTIO_NET_HDR_LEN) throw invalidArgument(`handleGro: offset ${offset} leaves no room for the ${VIRTIO_NET_HDR_LEN}-byte virtio_net_hdr`);
  const count = bufs.length;
  if (lengths.length < count) throw invalidArgument(`handleGro: ${lengths.length} lengths for ${count} packets`);
  for (let i = 0; i < count; i++) {
    const len = lengths[i];
    if (!(Number.isInteger(len) && len >= 0 && offset + len <= bufs[i].length)) {
      throw invalidArgument(`handleGro: packet ${i} (${len} bytes at offset ${offset}) does not fit its ${bufs[i].length}-byte buffer`);
    }
  }
  const tcp = options?.tcp ?? true;
  const udp = options?.udp ?? false;

  table.reset(count);
  table.checksumsValid = options?.checksumsValid;
  for (let i = 0; i < count; i++) {
    const kind = groCandidate(bufs[i], offset, lengths[i], tcp, udp);
    let result = NOOP;
    if (kind === GroCandidate.TCP4 || kind === GroCandidate.TCP6) {
      result = tcpGro(bufs, lengths, offset, i, table, kind);
    } else if (kind === GroCandidate.UDP4 || kind === GroCandidate.UDP6) {
      result = udpGro(bufs, lengths, offset, i, table, kind);
    }
    if (result === COALESCED) table.merged[i] = 1;
  }

  const written = table.written;
  let n = 0;
  for (let i = 0; i < count; i++) {
    if (table.merged[i] === 1) continue;
    written[n++] = i;
    const item = table.itemOfBuf[i];
    if (item >= 0 && table.itemMerged[item] > 0) {
      finishItem(bufs[i], offset, table, item, lengths, i);
    } else {
      writeVirtioNetHdr(bufs[i], offset - VIRTIO_NET_HDR_LEN, 0, 0, 0, 0, 0, 0);
    }
  }
  written.length = n;
  table.checksumsValid = undefined; // the caller's array is not kept
  return written;
}

/** True when the caller vouched for the checksums of packet `i` (GroOptions.checksumsValid). */
function knownValid(table: GroTable, i: number): boolean {
  const v = table.checksumsValid;
  return v !== undefined && i < v.length && v[i] !== 0;
}

/** True when the IP headers of two packets (same version) agree on everything GRO must preserve. */
function ipHeadersMatch(a: Uint8Array, b: Uint8Array, o: number, isV6: boolean): boolean {
  if (isV6) {
    // Version, traffic class and flow label (the first word), and hop limit.
    return (
      a[o] === b[o] &&
      a[o + 1] === b[o + 1] &&
      a[o + 2] === b[o + 2] &&
      a[o + 3] === b[o + 3] &&
      a[o + Ipv6Field.HOP_LIMIT] === b[o + Ipv6Field.HOP_LIMIT]
    );
  }
  return (
    a[o + Ipv4Field.TOS] === b[o + Ipv4Field.TOS] &&
    a[o + Ipv4Field.FLAGS_FRAGMENT] >> 5 === b[o + Ipv4Field.FLAGS_FRAGMENT] >> 5 && // reserved, DF, MF
    a[o + Ipv4Field.TTL] === b[o + Ipv4Field.TTL]
  );
}

/** Checks the IP length field(s) against `len`; rejects IPv4 fragments. */
function ipLengthsValid(b: Uint8Array, o: number, len: number, isV6: boolean): boolean {
  if (len > GRO_MAX_PACKET) return false;
  if (isV6) return readU16(b, o + Ipv6Field.PAYLOAD_LENGTH) === len - IPV6_HEADER_LEN;
  if (readU16(b, o + Ipv4Field.TOTAL_LENGTH) !== len) return false;
  return (readU16(b, o + Ipv4Field.FLAGS_FRAGMENT) & (Ipv4Flag.MORE_FRAGMENTS | Ipv4Flag.FRAGMENT_OFFSET_MASK)) === 0;
}

/**
 * True when the packet's IPv4 header checksum (if IPv4) and its L4 checksum
 * verify. `l4Sum` is the folded sum of the L4 bytes (header and payload).
 */
function checksumsValid(b: Uint8Array, o: number, len: number, isV6: boolean, protocol: number, l4Sum: number): boolean {
  const iph = isV6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN;
  if (!isV6 && sumRange(b, o, o + IPV4_HEADER_LEN) !== 0xffff) return false;
  if (protocol === IpProtocol.UDP && readU16(b, o + iph + UdpField.CHECKSUM) === 0) return false;
  const addrSum = isV6 ? ipv6AddressSum(b, o) : ipv4AddressSum(b, o);
  return foldSum(addrSum + protocol + (len - iph) + l4Sum) === 0xffff;
}

/**
 * Copies the payload of `pkt` (`len` bytes, headers `headerLen`, L4 header at
 * `o + iph`) behind the item in `target` (whose length is `itemLen`). Unless
 * `trusted`, sums it while copying and returns false when the packet's checksums
 * are bad: bytes past the item's length belong to no packet yet, so an invalid
 * packet leaves no trace.
 */
function appendPayload(
  pkt: Uint8Array, o: number, iph: number, headerLen: number, len: number,
  target: Uint8Array, itemLen: number, payload: number, isV6: boolean, protocol: number, trusted: boolean,
): boolean {
  if (trusted) {
    copyBytes(pkt, o + headerLen, target, o + itemLen, payload);
    return true;
  }
  const payloadSum = copyAndSum(pkt, o + headerLen, target, o + itemLen, payload);
  const l4Sum = foldSum(sumRange(pkt, o + iph, o + headerLen) + payloadSum);
  return checksumsValid(pkt, o, len, isV6, protocol, l4Sum);
}

/** {@link checksumsValid} over a whole packet. */
function packetValid(b: Uint8Array, o: number, len: number, isV6: boolean, protocol: number): boolean {
  const iph = isV6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN;
  return checksumsValid(b, o, len, isV6, protocol, sumRange(b, o + iph, o + len));
}

function tcpGro(bufs: readonly Uint8Array[], lengths: PacketLengths, o: number, i: number, table: GroTable, kind: number): number {
  const isV6 = kind === GroCandidate.TCP6;
  const pkt = bufs[i];
  const len = lengths[i];
  if (!ipLengthsValid(pkt, o, len, isV6)) return NOOP;
  const iph = isV6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN;
  const tcpAt = o + iph;
  const thl = (pkt[tcpAt + TcpField.DATA_OFFSET] >> 4) * 4;
  if (thl < TCP_HEADER_LEN || iph + thl > len) return NOOP;
  const flags = pkt[tcpAt + TcpField.FLAGS];
  if (flags !== TcpFlag.ACK && flags !== ACK_PSH) return NOOP;
  const psh = flags === ACK_PSH;
  const headerLen = iph + thl;
  const payload = len - headerLen;
  if (payload < 1) return NOOP;
  const seq = readI32(pkt, tcpAt + TcpField.SEQUENCE); // int32: see readI32

  const hash = table.hashKey(kind, pkt, o);
  let flow = table.findFlow(kind, hash, pkt, bufs, o);
  if (flow < 0) {
    flow = table.addFlow(kind, hash, i);
    table.addItem(flow, i, seq, len, payload, headerLen, psh, false);
    return INSERTED;
  }
  // Newest first: in-order traffic matches the tail at once.
  for (let item = table.flowTail[flow]; item >= 0; ) {
    const prev = table.itemPrev[item];
    const mode = tcpJoinMode(bufs, o, table, item, pkt, iph, thl, seq, payload, psh, isV6);
    if (mode !== CANNOT) {
      const r = coalesceTcp(bufs, o, table, item, mode, pkt, len, iph, seq, payload, psh, isV6, knownValid(table, i));
      if (r === SUCCESS) return COALESCED;
      if (r === ITEM_INVALID) table.removeItem(item);
      else if (r === PACKET_INVALID) return NOOP;
    }
    item = prev;
  }
  table.addItem(flow, i, seq, len, payload, headerLen, psh, false);
  return INSERTED;
}

function tcpJoinMode(
  bufs: readonly Uint8Array[],
  o: number,
  table: GroTable,
  item: number,
  pkt: Uint8Array,
  iph: number,
  thl: number,
  seq: number,
  payload: number,
  psh: boolean,
  isV6: boolean,
): number {
  const target = bufs[table.itemBuf[item]];
  const headerLen = table.itemHeaderLen[item];
  if (headerLen !== iph + thl) return CANNOT;
  for (let k = o + iph + TCP_HEADER_LEN; k < o + headerLen; k++) if (pkt[k] !== target[k]) return CANNOT; // options
  if (!ipHeadersMatch(pkt, target, o, isV6)) return CANNOT;
  const gsoSize = table.itemGsoSize[item];
  const itemPayload = table.itemLen[item] - headerLen;
  const itemSeq = table.itemSeq[item];
  if (seq === ((itemSeq + itemPayload) | 0)) {
    if (table.itemPsh[item] === 1) return CANNOT; // nothing follows a PSH
    if (itemPayload % gsoSize !== 0) return CANNOT; // a short segment already ends the group
    if (payload > gsoSize) return CANNOT; // a larger segment cannot follow a smaller one
    return APPEND;
  }
  if (((seq + payload) | 0) === itemSeq) {
    if (psh) return CANNOT; // PSH only ever on the last segment
    if (payload < gsoSize) return CANNOT; // a smaller segment cannot lead
    if (payload > gsoSize && table.itemMerged[item] > 0) return CANNOT; // would leave several short ones behind
    return PREPEND;
  }
  return CANNOT;
}

function coalesceTcp(
  bufs: readonly Uint8Array[],
  o: number,
  table: GroTable,
  item: number,
  mode: number,
  pkt: Uint8Array,
  len: number,
  iph: number,
  seq: number,
  payload: number,
  psh: boolean,
  isV6: boolean,
  trusted: boolean,
): number {
  const target = bufs[table.itemBuf[item]];
  const headerLen = table.itemHeaderLen[item];
  const itemLen = table.itemLen[item];
  const newLen = itemLen + len - headerLen;
  if (newLen > GRO_MAX_PACKET || o + newLen > target.length) return NO_ROOM;
  if (table.itemMerged[item] === 0 && !knownValid(table, table.itemBuf[item]) && !packetValid(target, o, itemLen, isV6, IpProtocol.TCP)) {
    return ITEM_INVALID;
  }
  if (mode === APPEND) {
    if (!appendPayload(pkt, o, iph, headerLen, len, target, itemLen, payload, isV6, IpProtocol.TCP, trusted)) return PACKET_INVALID;
    if (psh) {
      target[o + iph + TcpField.FLAGS] |= TcpFlag.PSH;
      table.itemPsh[item] = 1;
    }
  } else {
    if (!trusted && !packetValid(pkt, o, len, isV6, IpProtocol.TCP)) return PACKET_INVALID;
    // Shift the item's payload up, then put the new head (headers and payload) in front.
    copyBytes(target, o + headerLen, target, o + len, itemLen - headerLen);
    copyBytes(pkt, o, target, o, len);
    if (table.itemPsh[item] === 1) target[o + iph + TcpField.FLAGS] |= TcpFlag.PSH;
    table.itemSeq[item] = seq;
  }
  table.itemLen[item] = newLen;
  if (payload > table.itemGsoSize[item]) table.itemGsoSize[item] = payload;
  table.itemMerged[item]++;
  return SUCCESS;
}

function udpGro(bufs: readonly Uint8Array[], lengths: PacketLengths, o: number, i: number, table: GroTable, kind: number): number {
  const isV6 = kind === GroCandidate.UDP6;
  const pkt = bufs[i];
  const len = lengths[i];
  if (!ipLengthsValid(pkt, o, len, isV6)) return NOOP;
  const iph = isV6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN;
  if (readU16(pkt, o + iph + UdpField.LENGTH) !== len - iph) return NOOP;
  const headerLen = iph + UDP_HEADER_LEN;
  const payload = len - headerLen;
  if (payload < 1) return NOOP;

  const hash = table.hashKey(kind, pkt, o);
  let flow = table.findFlow(kind, hash, pkt, bufs, o);
  if (flow < 0) {
    flow = table.addFlow(kind, hash, i);
    table.addItem(flow, i, 0, len, payload, headerLen, false, false);
    return INSERTED;
  }
  // Only the newest item: appending anywhere else would reorder datagrams.
  const item = table.flowTail[flow];
  let badCsum = false;
  if (item >= 0 && udpCanAppend(bufs, o, table, item, pkt, payload, isV6)) {
    const r = coalesceUdp(bufs, o, table, item, pkt, len, iph, payload, isV6, knownValid(table, i));
    if (r === SUCCESS) return COALESCED;
    badCsum = r === PACKET_INVALID;
  }
  table.addItem(flow, i, 0, len, payload, headerLen, false, badCsum);
  return INSERTED;
}

function udpCanAppend(
  bufs: readonly Uint8Array[],
  o: number,
  table: GroTable,
  item: number,
  pkt: Uint8Array,
  payload: number,
  isV6: boolean,
): boolean {
  const target = bufs[table.itemBuf[item]];
  if (!ipHeadersMatch(pkt, target, o, isV6)) return false;
  const gsoSize = table.itemGsoSize[item];
  if ((table.itemLen[item] - table.itemHeaderLen[item]) % gsoSize !== 0) return false; // short datagram ends the group
  if (payload > gsoSize) return false;
  return table.itemMerged[item] + 2 <= UDP_GRO_MAX_SEGMENTS;
}

function coalesceUdp(
  bufs: readonly Uint8Array[],
  o: number,
  table: GroTable,
  item: number,
  pkt: Uint8Array,
  len: number,
  iph: number,
  payload: number,
  isV6: boolean,
  trusted: boolean,
): number {
  const target = bufs[table.itemBuf[item]];
  const headerLen = table.itemHeaderLen[item];
  const itemLen = table.itemLen[item];
  const newLen = itemLen + payload;
  if (newLen > GRO_MAX_PACKET || o + newLen > target.length) return NO_ROOM;
  if (
    table.itemMerged[item] === 0 &&
    (table.itemBadCsum[item] === 1 || (!knownValid(table, table.itemBuf[item]) && !packetValid(target, o, itemLen, isV6, IpProtocol.UDP)))
  ) {
    return ITEM_INVALID;
  }
  if (!appendPayload(pkt, o, iph, headerLen, len, target, itemLen, payload, isV6, IpProtocol.UDP, trusted)) return PACKET_INVALID;
  table.itemLen[item] = newLen;
  table.itemMerged[item]++;
  return SUCCESS;
}

/** Writes the lengths, checksums and GSO header of a coalesced item. */
function finishItem(b: Uint8Array, o: number, table: GroTable, item: number, lengths: PacketLengths, index: number): void {
  const len = table.itemLen[item];
  const isV6 = b[o] >> 4 === 6;
  const iph = isV6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN;
  const isTcp = b[o + (isV6 ? Ipv6Field.NEXT_HEADER : Ipv4Field.PROTOCOL)] === IpProtocol.TCP;
  if (isV6) {
    writeU16(b, o + Ipv6Field.PAYLOAD_LENGTH, len - IPV6_HEADER_LEN);
  } else {
    writeU16(b, o + Ipv4Field.TOTAL_LENGTH, len);
    writeIpv4HeaderChecksum(b, o);
  }
  const l4Len = len - iph;
  const protocol = isTcp ? IpProtocol.TCP : IpProtocol.UDP;
  const csumOffset = isTcp ? TcpField.CHECKSUM : UdpField.CHECKSUM;
  if (!isTcp) writeU16(b, o + iph + UdpField.LENGTH, l4Len);
  const addrSum = isV6 ? ipv6AddressSum(b, o) : ipv4AddressSum(b, o);
  // CHECKSUM_PARTIAL: the folded pseudo-header sum; the kernel completes the rest.
  writeU16(b, o + iph + csumOffset, foldSum(addrSum + protocol + l4Len));
  const gsoType = isTcp ? (isV6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) : VIRTIO_NET_HDR_GSO_UDP_L4;
  writeVirtioNetHdr(
    b,
    o - VIRTIO_NET_HDR_LEN,
    VIRTIO_NET_HDR_F_NEEDS_CSUM,
    gsoType,
    table.itemHeaderLen[item],
    table.itemGsoSize[item],
    iph,
    csumOffset,
  );
  lengths[index] = len;
}
