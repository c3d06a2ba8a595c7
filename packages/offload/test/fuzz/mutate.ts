/**
 * Mutations for the fuzzers: generic byte-level edits (bit flips, interesting
 * values, inserts, deletes, truncation, splices) and structure-aware edits of
 * the fields the code under test reads (virtio_net_hdr fields, IP lengths and
 * header lengths, TCP data offset, protocol numbers).
 */
import { writeHostU16 } from '../../src/virtio-net-hdr.js';
import type { Prng } from '@tunpipe/testkit';

/** Values that sit on boundaries the parsers check. */
export const INTERESTING_U8 = [0, 1, 2, 4, 5, 6, 0x0f, 0x10, 0x11, 0x20, 0x2c, 0x3a, 0x40, 0x45, 0x46, 0x4f, 0x50, 0x60, 0x7f, 0x80, 0xf0, 0xfe, 0xff];
/** 16-bit boundary values. */
export const INTERESTING_U16 = [0, 1, 2, 6, 7, 8, 10, 16, 19, 20, 28, 39, 40, 48, 59, 60, 0x7f, 0x80, 0xff, 0x100, 536, 1280, 1448, 1500, 0x7fff, 0x8000, 0xfffe, 0xffff];

/** Byte offsets (relative to the IP header) of fields worth targeting. */
const IP_FIELD_OFFSETS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 20, 32, 33, 40, 41, 44, 45, 46, 47, 52, 53, 60, 61];

/** Replaces `b` with a mutated copy (possibly of another length). */
export function mutateBytes(rng: Prng, b: Uint8Array, others: readonly Uint8Array[] = [], base = 0): Uint8Array {
  let out: Uint8Array = b.slice();
  const rounds = rng.range(1, 4);
  for (let r = 0; r < rounds; r++) {
    const len = out.length;
    switch (rng.int(11)) {
      case 0: // bit flip
        if (len > 0) out[rng.int(len)] ^= 1 << rng.int(8);
        break;
      case 1: // interesting byte anywhere
        if (len > 0) out[rng.int(len)] = rng.pick(INTERESTING_U8);
        break;
      case 2: {
        // interesting byte in a header field
        const at = base + rng.pick(IP_FIELD_OFFSETS);
        if (at < len) out[at] = rng.pick(INTERESTING_U8);
        break;
      }
      case 3: {
        // interesting u16, either byte order, in a header field or anywhere
        const at = rng.chance(0.7) ? base + rng.pick(IP_FIELD_OFFSETS) : rng.int(len);
        const v = rng.chance(0.3) ? len - base + rng.range(-2, 2) : rng.pick(INTERESTING_U16);
        if (at + 1 < len) {
          const hi = (v >>> 8) & 0xff;
          const lo = v & 0xff;
          if (rng.chance(0.5)) [out[at], out[at + 1]] = [hi, lo];
          else [out[at], out[at + 1]] = [lo, hi];
        }
        break;
      }
      case 4: {
        // insert random bytes
        const at = rng.int(len + 1);
        const ins = rng.bytes(rng.range(1, 16));
        out = concat(out.subarray(0, at), ins, out.subarray(at));
        break;
      }
      case 5: {
        // delete a range
        if (len > 0) {
          const at = rng.int(len);
          out = concat(out.subarray(0, at), out.subarray(Math.min(len, at + rng.range(1, 64))));
        }
        break;
      }
      case 6: // truncate
        out = out.slice(0, rng.int(len + 1));
        break;
      case 7: // extend with random bytes
        out = concat(out, rng.bytes(rng.range(1, 200)));
        break;
      case 8: {
        // splice the tail of another input
        if (others.length > 0) {
          const o = rng.pick(others);
          const at = rng.int(len + 1);
          out = concat(out.subarray(0, at), o.subarray(rng.int(o.length + 1)));
        }
        break;
      }
      case 9: {
        // overwrite a run with one value
        if (len > 0) {
          const at = rng.int(len);
          out.fill(rng.pick(INTERESTING_U8), at, Math.min(len, at + rng.range(1, 32)));
        }
        break;
      }
      default: {
        // copy a chunk of itself elsewhere
        if (len > 2) {
          const from = rng.int(len);
          const to = rng.int(len);
          const n = Math.min(rng.range(1, 64), len - from, len - to);
          out.copyWithin(to, from, from + n);
        }
      }
    }
  }
  return out;
}

/** Rewrites some virtio_net_hdr fields of a read (host byte order) with values related to the packet. */
export function mutateVirtioHeader(rng: Prng, read: Uint8Array): Uint8Array {
  const out = read.slice();
  if (out.length < 10) return out;
  const packetLen = out.length - 10;
  const u16 = (at: number, v: number) => writeHostU16(out, at, v);
  const n = rng.range(1, 3);
  for (let k = 0; k < n; k++) {
    switch (rng.int(6)) {
      case 0:
        out[0] = rng.pick([0, 1, 2, 3, 0xff]);
        break;
      case 1:
        out[1] = rng.pick([0, 1, 2, 3, 4, 5, 6, 0x80, 0x81, 0x84, 0x85, 0xff]);
        break;
      case 2:
        u16(2, rng.chance(0.5) ? rng.int(packetLen + 2) : rng.pick(INTERESTING_U16));
        break;
      case 3:
        u16(4, rng.chance(0.5) ? rng.range(0, packetLen + 2) : rng.pick(INTERESTING_U16));
        break;
      case 4:
        u16(6, rng.chance(0.5) ? rng.int(packetLen + 2) : rng.pick(INTERESTING_U16));
        break;
      default:
        u16(8, rng.chance(0.5) ? rng.pick([0, 2, 6, 16, 17, packetLen]) : rng.pick(INTERESTING_U16));
    }
  }
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Hex of bytes (for seed files and failure reports). */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Bytes of a hex string. */
export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}
