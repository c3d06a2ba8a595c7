/**
 * A lenient map of a netlink datagram for the mutator: where each message and each
 * attribute (nested ones too) starts, how long each says it is, which attributes
 * enclose it, and the offsets worth cutting at. It stops quietly where the bytes
 * stop making sense, so it works on already-mutated input. Written apart from
 * core's parser (it guesses nesting, core's decoders know it), so a bug shared by
 * both is less likely.
 *
 * Layouts, host byte order:
 *   struct nlmsghdr (16 bytes)  <linux/netlink.h>:    u32 len, u16 type, u16 flags, u32 seq, u32 pid
 *   struct rtattr (4 bytes)     <linux/rtnetlink.h>:  u16 rta_len, u16 rta_type
 *   family headers: struct ifinfomsg 16 <linux/rtnetlink.h>, struct ifaddrmsg 8
 *   <linux/if_addr.h>, struct rtmsg 12 <linux/rtnetlink.h>; NLMSG_ERROR carries
 *   struct nlmsgerr <linux/netlink.h> (s32 error, the request's nlmsghdr, the rest of
 *   the request unless NLM_F_CAPPED), then ack TLVs when NLM_F_ACK_TLVS.
 */
import { NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_ERROR } from '../../src/constants.js';
import { HOST_LITTLE_ENDIAN } from '../../src/netlink/message.js';

/** One message as its header describes it. */
export interface MessageSpan {
  /** Offset of its nlmsghdr. */
  start: number;
  /** nlmsg_len. */
  len: number;
  type: number;
  flags: number;
  /** Offset where its attributes begin (past the family header), or -1 when it has none. */
  attrs: number;
  /** For NLMSG_ERROR: offset of the echoed request's nlmsghdr; else -1. */
  echoed: number;
}

/** One attribute. */
export interface AttrSpan {
  /** Offset of its rtattr header. */
  at: number;
  /** rta_len. */
  len: number;
  /** rta_type with its flag bits. */
  type: number;
  /** Index of its message in `messages`. */
  message: number;
  /** Header offsets of the attributes enclosing it, outermost first. */
  parents: number[];
}

/** The map of one datagram. */
export interface Layout {
  messages: MessageSpan[];
  attrs: AttrSpan[];
  /** Offsets worth truncating at: header fields and the ends of things, each +/- 1. */
  cuts: number[];
}

/** NLMSG_ALIGN / RTA_ALIGN. */
export function align(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** sizeof the family header of a message type (ifinfomsg, ifaddrmsg, rtmsg), or -1 when it has none. */
export function familyHeaderLength(type: number): number {
  if (type >= 16 && type <= 19) return 16; // RTM_{NEW,DEL,GET,SET}LINK: struct ifinfomsg
  if (type >= 20 && type <= 22) return 8; // RTM_{NEW,DEL,GET}ADDR: struct ifaddrmsg
  if (type >= 24 && type <= 26) return 12; // RTM_{NEW,DEL,GET}ROUTE: struct rtmsg
  return -1;
}

const MAX_DEPTH = 12;

/** Maps `b`. */
export function layoutOf(b: Uint8Array): Layout {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Layout = { messages: [], attrs: [], cuts: [] };
  const cut = (...at: number[]): void => {
    for (const x of at) out.cuts.push(x - 1, x, x + 1);
  };

  /** True when `[start, end)` reads as a whole list of attributes. */
  const isList = (start: number, end: number): boolean => {
    let at = start;
    while (end - at >= 4) {
      const len = view.getUint16(at, HOST_LITTLE_ENDIAN);
      if (len < 4 || len > end - at) return false;
      at += align(len);
    }
    return at >= end && end - start >= 4;
  };

  const walk = (start: number, end: number, message: number, parents: number[]): void => {
    let at = start;
    while (end - at >= 4) {
      const len = view.getUint16(at, HOST_LITTLE_ENDIAN);
      out.attrs.push({ at, len, type: view.getUint16(at + 2, HOST_LITTLE_ENDIAN), message, parents });
      cut(at, at + 2, at + 4);
      if (len < 4 || len > end - at) return;
      cut(at + len, at + align(len));
      if (parents.length < MAX_DEPTH && isList(at + 4, at + len)) walk(at + 4, at + len, message, [...parents, at]);
      at += align(len);
    }
  };

  let at = 0;
  while (b.length - at >= 16) {
    const len = view.getUint32(at, HOST_LITTLE_ENDIAN);
    const type = view.getUint16(at + 4, HOST_LITTLE_ENDIAN);
    const flags = view.getUint16(at + 6, HOST_LITTLE_ENDIAN);
    const m: MessageSpan = { start: at, len, type, flags, attrs: -1, echoed: -1 };
    out.messages.push(m);
    cut(at, at + 4, at + 8, at + 16);
    if (len < 16 || len > b.length - at) break;
    const end = at + len;
    cut(end, at + align(len));
    const family = familyHeaderLength(type);
    if (family >= 0) m.attrs = at + 16 + family;
    if (type === NLMSG_ERROR && len >= 36) {
      m.echoed = at + 20;
      cut(at + 20, at + 36);
      if ((flags & NLM_F_ACK_TLVS) !== 0) {
        const echoedLen = (flags & NLM_F_CAPPED) !== 0 ? 16 : view.getUint32(at + 20, HOST_LITTLE_ENDIAN);
        m.attrs = at + 20 + align(echoedLen);
      }
    }
    if (m.attrs >= 0 && m.attrs <= end) {
      cut(m.attrs);
      walk(m.attrs, end, out.messages.length - 1, []);
    }
    at += align(len);
  }
  out.cuts = [...new Set(out.cuts)].filter((x) => x >= 0 && x <= b.length).sort((x, y) => x - y);
  return out;
}
