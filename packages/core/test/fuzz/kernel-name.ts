/**
 * Which interface names the kernel takes, modelled on its own code, as an oracle
 * for validateName: the bytes TUNSETIFF / IFLA_IFNAME carry are the name's UTF-8,
 * and net/core/dev.c accepts them when
 * - dev_valid_name(): 1..15 bytes (IFNAMSIZ 16 with the NUL), not `.` or `..`, no
 *   `/`, `:`, or byte for which the kernel's isspace() is true; lib/ctype.c marks
 *   \t \n \v \f \r, space AND 0xa0 (Latin-1 NBSP) as space, so a name whose UTF-8
 *   holds an 0xa0 byte (NBSP U+00A0, `à` U+00E0, `Ġ` U+0120...) is refused with
 *   EINVAL (checked by hand with `ip tuntap add` in a private namespace);
 * - __dev_alloc_name() for a template: the first `%` is followed by `d` and no other
 *   `%` comes after it.
 * A string that is not well-formed UTF-16 (a lone surrogate) has no UTF-8: the
 * encoder would send U+FFFD instead, another name than the one given; and a NUL
 * would end the C string early. Neither is a name the kernel can be asked for.
 */

/** Bytes the kernel's isspace() is true for (lib/ctype.c, _S). */
const KERNEL_SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]);
/** IFNAMSIZ, <linux/if.h>. */
const IFNAMSIZ = 16;

const encoder = new TextEncoder();

/** True when the kernel would create or rename a link to exactly `name`. */
export function kernelAcceptsName(name: string): boolean {
  const bytes = encoder.encode(name);
  if (Buffer.from(bytes).toString('utf8') !== name) return false; // a lone surrogate became U+FFFD (Buffer keeps a BOM, TextDecoder would drop it)
  if (bytes.length === 0 || bytes.length >= IFNAMSIZ || name === '.' || name === '..') return false;
  for (const c of bytes) if (c === 0 || c === 0x2f || c === 0x3a || KERNEL_SPACE.has(c)) return false;
  const percent = bytes.indexOf(0x25);
  return percent < 0 || (bytes[percent + 1] === 0x64 && bytes.indexOf(0x25, percent + 2) < 0);
}
