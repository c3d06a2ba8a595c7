/**
 * Mutations for the fuzzers: generic byte-level edits (bit flips, interesting
 * values, inserts, deletes, truncation, splices) and structure-aware edits of
 * the fields the code under test reads (virtio_net_hdr fields, IP lengths and
 * header lengths, TCP data offset, protocol numbers).
 */
import { writeHostU16 } from '../../src/virtio-net-hdr.js';
import { INTERESTING_U16, mutateBytes as mutateAnyBytes, type Prng } from '@tunpipe/testkit';

export { INTERESTING_U8, INTERESTING_U16, concat, toHex, fromHex } from '@tunpipe/testkit';

/** Byte offsets (relative to the IP header) of fields worth targeting. */
const IP_FIELD_OFFSETS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 20, 32, 33, 40, 41, 44, 45, 46, 47, 52, 53, 60, 61];

/** A mutated copy of `b` aimed at IP header fields (from `base`), splicing from `others`. */
export function mutateBytes(rng: Prng, b: Uint8Array, others: readonly Uint8Array[] = [], base = 0): Uint8Array {
  return mutateAnyBytes(rng, b, others, base, IP_FIELD_OFFSETS);
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

