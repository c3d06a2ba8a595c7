/**
 * glibc's inet_pton(3) as an outside oracle for the address parsers: the bytes the
 * C library makes of a string, or null when it refuses it. A string holding a NUL
 * is refused here without asking (C would only see the part before the NUL).
 * Bound through koffi directly, not through core's libc.ts, so that the oracle
 * shares nothing with the code under test.
 */
import koffi from 'koffi';

/** AF_INET, AF_INET6 (<bits/socket.h>). */
const AF = { 4: 2, 6: 10 } as const;

const libc = koffi.load('libc.so.6');
const inetPton = libc.func('int inet_pton(int af, const char *src, _Out_ uint8_t *dst)') as (af: number, src: string, dst: Uint8Array) => number;

/** The 4 or 16 bytes glibc's inet_pton makes of `text` for `family`, or null when it refuses it. */
export function ptonBytes(family: 4 | 6, text: string): Uint8Array | null {
  if (text.includes('\0')) return null;
  const out = new Uint8Array(16);
  return inetPton(AF[family], text, out) === 1 ? out.slice(0, family === 4 ? 4 : 16) : null;
}
