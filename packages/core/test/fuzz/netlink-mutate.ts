/**
 * Mutations of kernel datagrams for the netlinkReply target, aimed at what the
 * decoders read: nlmsg_len and rta_len set to 0/1/3/4/huge/odd or one off, cuts at
 * every header field and end, attributes wrapped in deep nests (lengths of every
 * enclosing attribute and of the message fixed up, so the nest is believed),
 * attribute payloads resized (an address of 5 bytes, a name without its NUL),
 * messages duplicated, dropped or taken from other replies, types, flags, family
 * fields and the echoed request length of NLMSG_ERROR rewritten; plus testkit's
 * generic byte mutations on header fields and plain random bytes.
 */
import { concat, INTERESTING_U16, mutateBytes, type Prng } from '@tunpipe/testkit';
import { HOST_LITTLE_ENDIAN } from '../../src/netlink/message.js';
import { align, layoutOf, type AttrSpan, type Layout } from './netlink-layout.js';
import type { Reply } from './seeds.js';

/** nlmsg_len values on the edges parseMessages checks (and past them). */
const LENGTHS_U32 = [0, 1, 3, 4, 15, 16, 17, 19, 20, 0x7fff_ffff, 0x8000_0000, 0xffff_ff00, 0xffff_fffc, 0xffff_fffd, 0xffff_ffff, 0x1_0000];
/** rta_len values on the edges Attributes.parse checks. */
const LENGTHS_U16 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x7fff, 0x8000, 0xfffc, 0xffff];
/** Message types the decoders and the socket loop dispatch on (<linux/netlink.h>, <linux/rtnetlink.h>). */
const MESSAGE_TYPES = [1, 2, 3, 4, 16, 17, 18, 20, 21, 24, 25, 0, 15, 0xffff];
/** Flag bits that change how a reply is read: NLM_F_MULTI, DUMP_INTR, CAPPED, ACK_TLVS. */
const FLAG_BITS = [0x2, 0x10, 0x100, 0x200];
/** Attribute types the decoders look up (IFLA_*, IFA_*, RTA_*, NLMSGERR_ATTR_*; one number often means several). */
const ATTR_TYPES = [1, 2, 3, 4, 5, 6, 13, 15, 16, 18, 31, 32, 0, 0x3fff];
/** NLA_F_NESTED, NLA_F_NET_BYTEORDER: flag bits the decoders must mask off. */
const ATTR_FLAGS = [0, 0, 0x8000, 0x4000, 0xc000];

function u16(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(at, HOST_LITTLE_ENDIAN);
}

function setU16(b: Uint8Array, at: number, v: number): void {
  if (at >= 0 && at + 2 <= b.length) new DataView(b.buffer, b.byteOffset, b.byteLength).setUint16(at, v & 0xffff, HOST_LITTLE_ENDIAN);
}

function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, HOST_LITTLE_ENDIAN);
}

function setU32(b: Uint8Array, at: number, v: number): void {
  if (at >= 0 && at + 4 <= b.length) new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v >>> 0, HOST_LITTLE_ENDIAN);
}

/**
 * Replaces the bytes an attribute occupies (padding included) with `region` and
 * moves the length of every enclosing attribute and of its message by the
 * difference. Undefined when an enclosing rta_len would overflow.
 */
function replaceAttribute(b: Uint8Array, layout: Layout, a: AttrSpan, region: Uint8Array): Uint8Array | undefined {
  const m = layout.messages[a.message]!;
  const oldEnd = Math.min(a.at + align(a.len), m.start + m.len, b.length);
  const delta = region.length - (oldEnd - a.at);
  for (const p of a.parents) if (u16(b, p) + delta > 0xffff || u16(b, p) + delta < 4) return undefined;
  const out = concat(b.subarray(0, a.at), region, b.subarray(oldEnd));
  for (const p of a.parents) setU16(out, p, u16(b, p) + delta);
  setU32(out, m.start, m.len + delta);
  return out;
}

/** An attribute with `payload`, padded to 4 bytes. */
function attribute(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(align(4 + payload.length));
  setU16(out, 0, 4 + payload.length);
  setU16(out, 2, type);
  out.set(payload, 4);
  return out;
}

/** A payload on the edge of what some decoder reads (sizes 0..17, names without a NUL, invalid UTF-8). */
function oddPayload(rng: Prng, old: Uint8Array): Uint8Array {
  switch (rng.int(5)) {
    case 0:
      return rng.bytes(rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17]));
    case 1:
      return old.subarray(0, rng.int(old.length + 1));
    case 2:
      return concat(old, rng.bytes(rng.range(1, 6)));
    case 3:
      return old.filter((x) => x !== 0); // a string without its NUL
    default:
      return Uint8Array.of(0x74, 0x70, 0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80, 0); // invalid UTF-8, a lone surrogate's bytes
  }
}

/** Applies one mutation to `b`; returns the new bytes (or `b` unchanged when it did not apply). */
function mutateOnce(rng: Prng, b: Uint8Array, replies: readonly Reply[]): Uint8Array {
  const layout = layoutOf(b);
  const m = layout.messages.length > 0 ? rng.pick(layout.messages) : undefined;
  const a = layout.attrs.length > 0 ? rng.pick(layout.attrs) : undefined;
  const out = b.slice();
  switch (rng.int(14)) {
    case 0: {
      // nlmsg_len on an edge, one off, or odd
      if (!m) break;
      const rest = b.length - m.start;
      setU32(out, m.start, rng.chance(0.5) ? rng.pick(LENGTHS_U32) : rng.pick([m.len - 1, m.len + 1, m.len - 4, m.len + 4, rest, rest + 1, m.len | 1, rng.int(rest + 8)]));
      return out;
    }
    case 1: {
      // rta_len on an edge, one off, or up to the end of the message
      if (!a) break;
      const m2 = layout.messages[a.message]!;
      const left = m2.start + m2.len - a.at;
      setU16(out, a.at, rng.chance(0.5) ? rng.pick(LENGTHS_U16) : rng.pick([a.len - 1, a.len + 1, a.len + 4, a.len - 4, left, left + 1, left - 1, a.len | 1]));
      return out;
    }
    case 2: // truncation at an interesting offset
      return layout.cuts.length > 0 ? b.slice(0, rng.pick(layout.cuts)) : b.slice(0, rng.int(b.length + 1));
    case 3: {
      // deep nesting: wrap an attribute in k enclosing headers
      if (!a || a.len < 4 || a.at + a.len > b.length) break;
      const inner = b.subarray(a.at, a.at + align(a.len)).slice();
      const k = Math.min(rng.pick([1, 2, 3, 8, 64, 1000, 8000]), Math.floor((0xffff - inner.length) / 4));
      const type = rng.pick([a.type, 18 | 0x8000, 18, rng.pick(ATTR_TYPES)]); // 18: IFLA_LINKINFO, which decodeLink descends into
      const region = new Uint8Array(4 * k + inner.length);
      for (let i = 0; i < k; i++) {
        setU16(region, 4 * i, region.length - 4 * i);
        setU16(region, 4 * i + 2, type);
      }
      region.set(inner, 4 * k);
      return replaceAttribute(b, layout, a, region) ?? b;
    }
    case 4: {
      // an attribute payload resized (lengths fixed up)
      if (!a || a.len < 4 || a.at + a.len > b.length) break;
      return replaceAttribute(b, layout, a, attribute(a.type, oddPayload(rng, b.subarray(a.at + 4, a.at + a.len)))) ?? b;
    }
    case 5: {
      // a message repeated, dropped, or one from another reply inserted
      if (!m || m.len < 16 || m.start + m.len > b.length) break;
      const whole = b.subarray(m.start, Math.min(b.length, m.start + align(m.len)));
      const other = rng.pick(replies).bytes;
      switch (rng.int(3)) {
        case 0:
          return concat(b.subarray(0, m.start), whole, whole, b.subarray(m.start + whole.length));
        case 1:
          return concat(b.subarray(0, m.start), b.subarray(m.start + whole.length));
        default:
          return concat(b.subarray(0, m.start), other, b.subarray(m.start));
      }
    }
    case 6: // nlmsg_type
      if (m) setU16(out, m.start + 4, rng.pick(MESSAGE_TYPES));
      return out;
    case 7: // nlmsg_flags: a bit toggled
      if (m) setU16(out, m.start + 6, m.flags ^ rng.pick(FLAG_BITS));
      return out;
    case 8: // rta_type, with or without the flag bits
      if (a) setU16(out, a.at + 2, rng.pick(ATTR_TYPES) | rng.pick(ATTR_FLAGS));
      return out;
    case 9: {
      // family header fields: family, prefix length / rtm_dst_len, flags
      if (!m) break;
      const p = m.start + 16;
      if (rng.chance(0.5)) out[p] = rng.pick([0, 2, 10, 7, 16, 0xff]) & 0xff;
      else if (p + 1 < out.length) out[p + 1] = rng.pick([0, 1, 8, 24, 31, 32, 33, 64, 127, 128, 129, 200, 255]);
      return out;
    }
    case 10: {
      // NLMSG_ERROR: the echoed request's length, or the error code
      const errors = layout.messages.filter((x) => x.echoed >= 0);
      if (errors.length === 0) break;
      const e = rng.pick(errors);
      // Lengths that wrap to minus the distance back to a boundary earlier in the datagram (32-bit arithmetic).
      const back = layout.cuts.filter((x) => x < e.echoed).map((x) => 2 ** 32 - (e.echoed - x));
      if (back.length > 0 && rng.chance(0.3)) setU32(out, e.echoed, rng.pick(back));
      else if (rng.chance(0.7)) setU32(out, e.echoed, rng.chance(0.6) ? rng.pick(LENGTHS_U32) : rng.pick([u32(b, e.echoed) + 4, u32(b, e.echoed) - 4, u32(b, e.echoed) + 1, e.len - 20, e.len - 19]));
      else setU32(out, e.start + 16, rng.pick([0, 1, -1, -22, -0x8000_0000, 0x7fff_ffff]));
      return out;
    }
    case 11: {
      // generic byte mutations aimed at the header fields of messages and attributes
      const fields = [
        ...layout.messages.flatMap((x) => [x.start, x.start + 1, x.start + 2, x.start + 3, x.start + 4, x.start + 6, x.start + 16, x.start + 17]),
        ...layout.attrs.slice(0, 64).flatMap((x) => [x.at, x.at + 1, x.at + 2, x.at + 3]),
      ];
      return mutateBytes(rng, b, replies.map((r) => r.bytes), 0, fields.length > 0 ? fields : [0, 1, 2, 3]);
    }
    case 12: {
      // a u16 length field set to a value from testkit's list
      const fields = layout.attrs.map((x) => x.at);
      if (fields.length > 0) setU16(out, rng.pick(fields), rng.pick(INTERESTING_U16));
      return out;
    }
    default:
      // two replies back to back (a later one after an unpadded end)
      return concat(b, rng.pick(replies).bytes);
  }
  return b;
}

/** One input for the decoders: a seed datagram (sometimes untouched), mutated, or random bytes. */
export function generateReply(rng: Prng, replies: readonly Reply[]): { bytes: Uint8Array; note: string } {
  const seed = rng.pick(replies);
  if (rng.chance(0.04)) return { bytes: rng.bytes(rng.int(300)), note: 'random bytes' };
  if (rng.chance(0.08)) return { bytes: seed.bytes.slice(), note: seed.what };
  let bytes: Uint8Array = seed.bytes.slice();
  const rounds = rng.range(1, 4);
  for (let r = 0; r < rounds; r++) bytes = mutateOnce(rng, bytes, replies);
  return { bytes, note: `${rounds} mutations of: ${seed.what}` };
}
