/**
 * The byte stream a soak TCP transfer carries: xorshift32 words (little endian)
 * from a seed, so the receiving side can regenerate and compare every byte
 * without the sender shipping a digest.
 *
 * ```
 * transfer = header (12 bytes) | pattern bytes (length)
 * header   = magic u32 BE 'SOAK' | seed u32 BE | length u32 BE
 * ```
 */

/** 'SOAK' in ASCII, first word of a transfer header. */
export const TRANSFER_MAGIC = 0x534f414b;

/** Bytes of the transfer header. */
export const TRANSFER_HEADER_LEN = 12;

/** Position in the pattern of one seed: fills buffers with it or checks buffers against it. */
export class PatternStream {
  private state: number;
  private word = 0;
  private left = 0;

  /** The pattern of `seed` from its first byte. */
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  private nextByte(): number {
    if (this.left === 0) {
      let s = this.state;
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      this.state = s >>> 0;
      this.word = this.state;
      this.left = 4;
    }
    const b = this.word & 0xff;
    this.word >>>= 8;
    this.left--;
    return b;
  }

  /** Writes the next `buf.length` pattern bytes into `buf`. */
  fill(buf: Uint8Array): void {
    for (let i = 0; i < buf.length; i++) buf[i] = this.nextByte();
  }

  /** Compares `buf` with the next pattern bytes; the index of the first difference, or -1. */
  check(buf: Uint8Array): number {
    for (let i = 0; i < buf.length; i++) if (buf[i] !== this.nextByte()) return i;
    return -1;
  }
}

/** The 12-byte header announcing a transfer of `length` pattern bytes of `seed`. */
export function transferHeader(seed: number, length: number): Uint8Array {
  const h = new Uint8Array(TRANSFER_HEADER_LEN);
  const v = new DataView(h.buffer);
  v.setUint32(0, TRANSFER_MAGIC);
  v.setUint32(4, seed >>> 0);
  v.setUint32(8, length >>> 0);
  return h;
}
