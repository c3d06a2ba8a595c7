/**
 * `struct ifreq` as a reusable 40-byte view: the argument of the TUN ioctls that
 * take an interface request (TUNSETIFF, TUNGETIFF, TUNSETQUEUE).
 *
 * ```
 * struct ifreq, <linux/if.h> (x86_64 / aarch64: sizeof = 40)
 *  0                  16     18                              40
 *  +------------------+------+-------------------------------+
 *  | ifr_name[16]     |flags | rest of the ifr_ifru union    |
 *  | NUL-terminated   | s16  | (sockaddr, ifmap: 24 bytes)   |
 *  +------------------+------+-------------------------------+
 * ```
 *
 * The TUN ioctls only read and write `ifr_name` and `ifr_flags`. One `Ifreq` is
 * allocated per user and reused: encoding and decoding allocate nothing except the
 * name string returned by `name`.
 */
import { IFNAMSIZ, IFREQ_SIZE } from './constants.js';

/** Byte offsets of the fields of `struct ifreq` that tunpipe uses. */
export const IfreqField = {
  /** `char ifr_name[IFNAMSIZ]`, NUL-terminated. */
  name: 0,
  /** `short ifr_flags` (first member of the `ifr_ifru` union). */
  flags: IFNAMSIZ,
} as const;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A reusable `struct ifreq` buffer with typed accessors for name and flags. */
export class Ifreq {
  /** The 40 bytes handed to ioctl. */
  readonly bytes = new Uint8Array(IFREQ_SIZE);
  /** `ifr_flags` in host byte order, as the kernel reads it. */
  readonly #flags = new Uint16Array(this.bytes.buffer, IfreqField.flags, 1);

  /** Zeroes the whole request (call before reusing it for another ioctl). */
  clear(): this {
    this.bytes.fill(0);
    return this;
  }

  /** The interface name: the bytes of `ifr_name` up to the first NUL. */
  get name(): string {
    const end = this.bytes.indexOf(0, IfreqField.name);
    const stop = end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end;
    return utf8Decoder.decode(this.bytes.subarray(IfreqField.name, stop));
  }

  /**
   * Sets `ifr_name`. The name must already be validated (at most 15 bytes of UTF-8,
   * see `validateName`); a longer one throws RangeError because it is a bug here.
   */
  set name(value: string) {
    const field = this.bytes.subarray(IfreqField.name, IfreqField.name + IFNAMSIZ);
    field.fill(0);
    const { read, written } = utf8.encodeInto(value, field.subarray(0, IFNAMSIZ - 1));
    if (read !== value.length) throw new RangeError(`interface name longer than ${IFNAMSIZ - 1} bytes: ${value}`);
    field[written] = 0;
  }

  /** `ifr_flags` as an unsigned 16-bit value (IFF_TUN, IFF_NO_PI, IFF_VNET_HDR...). */
  get flags(): number {
    return this.#flags[0]!;
  }

  /** Sets `ifr_flags` (the low 16 bits of `value`). */
  set flags(value: number) {
    this.#flags[0] = value & 0xffff;
  }
}
