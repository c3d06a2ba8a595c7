/**
 * Netlink message codec: `struct nlmsghdr` and `struct rtattr` builders and checked
 * parsers. Family headers (ifinfomsg, ifaddrmsg, rtmsg) live beside their users in
 * link.ts, addr.ts and route.ts.
 *
 * Layouts (<linux/netlink.h>, <linux/rtnetlink.h>); every field is in host byte
 * order, every message and attribute starts on a 4-byte boundary (NLMSG_ALIGN,
 * RTA_ALIGN):
 *
 *     struct nlmsghdr (16 bytes)
 *     0               4       6       8               12              16
 *     +---------------+-------+-------+---------------+---------------+
 *     |  nlmsg_len    | type  | flags |  nlmsg_seq    |  nlmsg_pid    |
 *     +---------------+-------+-------+---------------+---------------+
 *     | family header (ifinfomsg 16 / ifaddrmsg 8 / rtmsg 12 bytes)   |
 *     +-------+-------+-----------------------+-------+---------------+
 *     |rta_len|rta_typ| payload (rta_len - 4) | pad to 4 | next rtattr...
 *     +-------+-------+-----------------------+-------+---------------+
 *
 *     struct nlmsgerr (payload of NLMSG_ERROR)
 *     +-----------+------------------------------+-------------------------------+
 *     | error s32 | request's nlmsghdr (+ payload | extended ack TLVs (rtattr) if |
 *     | 0 = ACK   |  unless NLM_F_CAPPED)         | NLM_F_ACK_TLVS                |
 *     +-----------+------------------------------+-------------------------------+
 *
 * Parsers never trust lengths: a truncated or inconsistent message throws TunError
 * `ERR_TUN_NETLINK_MALFORMED`, never another exception, and always advances.
 */
import { TunError } from '@tunpipe/offload';
import { NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS } from '../constants.js';

/** sizeof(struct nlmsghdr). */
export const NLMSG_HDRLEN = 16;
/** sizeof(struct rtattr). */
export const RTA_HDRLEN = 4;
/** Flag bits in rta_type/nla_type that are not part of the type (NLA_F_NESTED, NLA_F_NET_BYTEORDER). */
const NLA_TYPE_MASK = 0x3fff;
/** Largest rtattr (rta_len is a u16). */
const RTA_MAX_LEN = 0xffff;

/** True when this machine stores integers little-endian (netlink uses host order). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** NLMSG_ALIGN / RTA_ALIGN: rounds up to a multiple of 4. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** A TunError for a message that does not parse. */
export function malformed(what: string): TunError {
  return new TunError('ERR_TUN_NETLINK_MALFORMED', `malformed netlink message: ${what}`);
}

function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Builds one request in a reusable buffer: header, family struct, attributes
 * (nested ones too). `finish()` returns a view of the bytes to send; the next
 * `begin()` overwrites them.
 */
export class MessageBuilder {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private length = 0;

  /** A builder whose messages may be at most `capacity` bytes. */
  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
    this.view = viewOf(this.buf);
  }

  /** Starts a message: writes its nlmsghdr (length filled in by `finish`). */
  begin(type: number, flags: number, seq: number): this {
    this.buf.fill(0);
    this.length = NLMSG_HDRLEN;
    this.view.setUint16(4, type, HOST_LITTLE_ENDIAN);
    this.view.setUint16(6, flags, HOST_LITTLE_ENDIAN);
    this.view.setUint32(8, seq >>> 0, HOST_LITTLE_ENDIAN);
    return this;
  }

  /** Reserves `size` zeroed bytes (a family header) and returns their offset. */
  reserve(size: number): number {
    const offset = this.length;
    this.grow(align4(size));
    return offset;
  }

  /** Writes a u8 at an offset returned by `reserve`. */
  setU8(offset: number, value: number): this {
    this.view.setUint8(offset, value);
    return this;
  }

  /** Writes a host-order u16 at an offset returned by `reserve`. */
  setU16(offset: number, value: number): this {
    this.view.setUint16(offset, value, HOST_LITTLE_ENDIAN);
    return this;
  }

  /** Writes a host-order u32 at an offset returned by `reserve`. */
  setU32(offset: number, value: number): this {
    this.view.setUint32(offset, value >>> 0, HOST_LITTLE_ENDIAN);
    return this;
  }

  /** Writes a host-order s32 at an offset returned by `reserve`. */
  setI32(offset: number, value: number): this {
    this.view.setInt32(offset, value, HOST_LITTLE_ENDIAN);
    return this;
  }

  /** Appends an attribute carrying `data`. */
  attr(type: number, data: Uint8Array): this {
    const at = this.attrHeader(type, data.length);
    this.buf.set(data, at + RTA_HDRLEN);
    return this;
  }

  /** Appends a u8 attribute. */
  attrU8(type: number, value: number): this {
    const at = this.attrHeader(type, 1);
    this.view.setUint8(at + RTA_HDRLEN, value);
    return this;
  }

  /** Appends a host-order u32 attribute. */
  attrU32(type: number, value: number): this {
    const at = this.attrHeader(type, 4);
    this.view.setUint32(at + RTA_HDRLEN, value >>> 0, HOST_LITTLE_ENDIAN);
    return this;
  }

  /** Appends a NUL-terminated string attribute (UTF-8). */
  attrString(type: number, value: string): this {
    const bytes = new TextEncoder().encode(value);
    const at = this.attrHeader(type, bytes.length + 1);
    this.buf.set(bytes, at + RTA_HDRLEN); // the NUL is already there: begin() zeroed the buffer
    return this;
  }

  /** Opens a nested attribute; close it with `endNested(token)`. */
  beginNested(type: number): number {
    return this.attrHeader(type, 0);
  }

  /** Closes a nested attribute opened by `beginNested`, fixing its length. */
  endNested(token: number): this {
    const len = this.length - token;
    if (len > RTA_MAX_LEN) throw malformed(`nested attribute of ${len} bytes`);
    this.view.setUint16(token, len, HOST_LITTLE_ENDIAN);
    return this;
  }

  /** Finishes the message (writes nlmsg_len) and returns a view of its bytes. */
  finish(): Uint8Array {
    this.view.setUint32(0, this.length, HOST_LITTLE_ENDIAN);
    return this.buf.subarray(0, this.length);
  }

  private attrHeader(type: number, payload: number): number {
    const len = RTA_HDRLEN + payload;
    if (len > RTA_MAX_LEN) throw malformed(`attribute of ${len} bytes`);
    const at = this.length;
    this.grow(align4(len));
    this.view.setUint16(at, len, HOST_LITTLE_ENDIAN);
    this.view.setUint16(at + 2, type, HOST_LITTLE_ENDIAN);
    return at;
  }

  private grow(by: number): void {
    if (this.length + by > this.buf.length) {
      throw new TunError('ERR_TUN_NETLINK', `netlink request longer than ${this.buf.length} bytes`);
    }
    this.length += by;
  }
}

/** One message found in a received datagram: its header fields and where its payload lies. */
export interface NetlinkMessage {
  /** nlmsg_type. */
  type: number;
  /** nlmsg_flags. */
  flags: number;
  /** nlmsg_seq. */
  seq: number;
  /** nlmsg_pid. */
  pid: number;
  /** Offset of the message (its nlmsghdr) in the buffer. */
  start: number;
  /** Offset of the payload (just past the nlmsghdr). */
  payload: number;
  /** Offset just past the message (start + nlmsg_len). */
  end: number;
}

/**
 * Splits `buf[0, length)` into messages. Throws ERR_TUN_NETLINK_MALFORMED when a
 * header is truncated, nlmsg_len is shorter than a header, or it runs past the data.
 */
export function parseMessages(buf: Uint8Array, length: number = buf.length): NetlinkMessage[] {
  if (length > buf.length || length < 0) throw malformed(`length ${length} outside a ${buf.length}-byte buffer`);
  const view = viewOf(buf);
  const out: NetlinkMessage[] = [];
  let at = 0;
  while (at < length) {
    if (length - at < NLMSG_HDRLEN) throw malformed(`${length - at} trailing bytes, shorter than a header`);
    const len = view.getUint32(at, HOST_LITTLE_ENDIAN);
    if (len < NLMSG_HDRLEN) throw malformed(`nlmsg_len ${len} shorter than a header`);
    if (len > length - at) throw malformed(`nlmsg_len ${len} runs past the ${length - at} bytes left`);
    out.push({
      type: view.getUint16(at + 4, HOST_LITTLE_ENDIAN),
      flags: view.getUint16(at + 6, HOST_LITTLE_ENDIAN),
      seq: view.getUint32(at + 8, HOST_LITTLE_ENDIAN),
      pid: view.getUint32(at + 12, HOST_LITTLE_ENDIAN),
      start: at,
      payload: at + NLMSG_HDRLEN,
      end: at + len,
    });
    at += align4(len); // may step past `length` when the last message is unpadded
  }
  return out;
}

/**
 * The attributes of a region (`struct rtattr` list), by type. Parsing checks every
 * length; getters then check that the attribute has the size they read.
 */
export class Attributes {
  private readonly spans = new Map<number, { start: number; end: number }>();

  private constructor(
    private readonly buf: Uint8Array,
    private readonly view: DataView,
  ) {}

  /** Parses the rtattrs in `buf[start, end)`; throws ERR_TUN_NETLINK_MALFORMED on bad lengths. */
  static parse(buf: Uint8Array, start: number, end: number): Attributes {
    if (start < 0 || end > buf.length || start > end) throw malformed(`attribute region ${start}..${end}`);
    const attrs = new Attributes(buf, viewOf(buf));
    let at = start;
    while (end - at >= RTA_HDRLEN) {
      const len = attrs.view.getUint16(at, HOST_LITTLE_ENDIAN);
      const type = attrs.view.getUint16(at + 2, HOST_LITTLE_ENDIAN) & NLA_TYPE_MASK;
      if (len < RTA_HDRLEN) throw malformed(`rta_len ${len} shorter than a header`);
      if (len > end - at) throw malformed(`rta_len ${len} runs past the ${end - at} bytes left`);
      attrs.spans.set(type, { start: at + RTA_HDRLEN, end: at + len });
      at += align4(len);
    }
    // Fewer than 4 bytes left over can only be padding of the last attribute.
    return attrs;
  }

  /** True when the attribute is present. */
  has(type: number): boolean {
    return this.spans.has(type);
  }

  /** Attribute types present, in no particular order. */
  types(): number[] {
    return [...this.spans.keys()];
  }

  /** Payload of the attribute (a view into the received buffer), or undefined. */
  bytes(type: number): Uint8Array | undefined {
    const s = this.spans.get(type);
    return s === undefined ? undefined : this.buf.subarray(s.start, s.end);
  }

  /** Payload length of the attribute, or -1 when absent. */
  size(type: number): number {
    const s = this.spans.get(type);
    return s === undefined ? -1 : s.end - s.start;
  }

  /** A u8 attribute, or undefined; throws ERR_TUN_NETLINK_MALFORMED when too short. */
  u8(type: number): number | undefined {
    const s = this.sized(type, 1);
    return s === undefined ? undefined : this.view.getUint8(s);
  }

  /** A host-order u32 attribute, or undefined; throws ERR_TUN_NETLINK_MALFORMED when too short. */
  u32(type: number): number | undefined {
    const s = this.sized(type, 4);
    return s === undefined ? undefined : this.view.getUint32(s, HOST_LITTLE_ENDIAN);
  }

  /** A host-order s32 attribute, or undefined; throws ERR_TUN_NETLINK_MALFORMED when too short. */
  i32(type: number): number | undefined {
    const s = this.sized(type, 4);
    return s === undefined ? undefined : this.view.getInt32(s, HOST_LITTLE_ENDIAN);
  }

  /** A string attribute (up to its first NUL, UTF-8), or undefined. */
  string(type: number): string | undefined {
    const b = this.bytes(type);
    if (b === undefined) return undefined;
    const nul = b.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? b : b.subarray(0, nul));
  }

  /** The attributes nested in this one, or undefined when absent. */
  nested(type: number): Attributes | undefined {
    const s = this.spans.get(type);
    return s === undefined ? undefined : Attributes.parse(this.buf, s.start, s.end);
  }

  private sized(type: number, need: number): number | undefined {
    const s = this.spans.get(type);
    if (s === undefined) return undefined;
    if (s.end - s.start < need) throw malformed(`attribute ${type} has ${s.end - s.start} bytes, needs ${need}`);
    return s.start;
  }
}

/** The content of an NLMSG_ERROR message: an ACK (`error` 0) or a failure (`error` = -errno). */
export interface NetlinkErrorReply {
  /** 0 for an acknowledgement, otherwise a negative errno. */
  error: number;
  /** The kernel's extended-ack message (NLMSGERR_ATTR_MSG), when it sent one. */
  message?: string;
  /** Offset of the offending attribute in the request (NLMSGERR_ATTR_OFFS), when sent. */
  offset?: number;
}

/** Decodes the payload of an NLMSG_ERROR message (`struct nlmsgerr` plus ack TLVs). */
export function parseErrorReply(buf: Uint8Array, msg: NetlinkMessage): NetlinkErrorReply {
  if (msg.end - msg.payload < 4) throw malformed('NLMSG_ERROR without its error code');
  const view = viewOf(buf);
  const reply: NetlinkErrorReply = { error: view.getInt32(msg.payload, HOST_LITTLE_ENDIAN) };
  if ((msg.flags & NLM_F_ACK_TLVS) === 0) return reply;
  // TLVs follow the echoed request: its header only (CAPPED) or the whole request.
  const echoed = msg.payload + 4;
  if (msg.end - echoed < NLMSG_HDRLEN) throw malformed('NLMSG_ERROR with TLVs but no echoed header');
  const echoedLen = (msg.flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : view.getUint32(echoed, HOST_LITTLE_ENDIAN);
  // Bounded before aligning: align4 works on 32-bit integers, so 2^32 - d would step d bytes back.
  const tlvs = echoedLen <= msg.end - echoed ? echoed + align4(echoedLen) : Infinity;
  if (echoedLen < NLMSG_HDRLEN || tlvs > msg.end) throw malformed('NLMSG_ERROR echoed request runs past the message');
  const attrs = Attributes.parse(buf, tlvs, msg.end);
  const text = attrs.string(NLMSGERR_ATTR_MSG);
  if (text !== undefined && text !== '') reply.message = text;
  const offset = attrs.u32(NLMSGERR_ATTR_OFFS);
  if (offset !== undefined) reply.offset = offset;
  return reply;
}
