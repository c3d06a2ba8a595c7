/**
 * Byte-level mutations for fuzzers: bit flips, boundary values (anywhere or in
 * the header fields a caller names), inserts, deletes, truncation, extension,
 * splices from other inputs, runs and self-copies; plus hex helpers for seed
 * files and failure reports.
 */
import type { Prng } from './fuzz-prng.js';

/** Values that sit on boundaries the parsers check. */
export const INTERESTING_U8 = [0, 1, 2, 4, 5, 6, 0x0f, 0x10, 0x11, 0x20, 0x2c, 0x3a, 0x40, 0x45, 0x46, 0x4f, 0x50, 0x60, 0x7f, 0x80, 0xf0, 0xfe, 0xff];
/** 16-bit boundary values. */
export const INTERESTING_U16 = [0, 1, 2, 6, 7, 8, 10, 16, 19, 20, 28, 39, 40, 48, 59, 60, 0x7f, 0x80, 0xff, 0x100, 536, 1280, 1448, 1500, 0x7fff, 0x8000, 0xfffe, 0xffff];

/**
 * A mutated copy of `b` (possibly of another length). `others` are spliced from;
 * `fields` are byte offsets (from `base`) of header fields worth hitting.
 */
export function mutateBytes(rng: Prng, b: Uint8Array, others: readonly Uint8Array[] = [], base = 0, fields: readonly number[] = [0, 1, 2, 3]): Uint8Array {
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
        const at = base + rng.pick(fields);
        if (at < len) out[at] = rng.pick(INTERESTING_U8);
        break;
      }
      case 3: {
        // interesting u16, either byte order, in a header field or anywhere
        const at = rng.chance(0.7) ? base + rng.pick(fields) : rng.int(len);
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
