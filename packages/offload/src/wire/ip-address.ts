/**
 * Text forms of IP addresses: parsing dotted-quad IPv4 and RFC 4291 IPv6 into
 * bytes, and formatting bytes back (RFC 5952 canonical IPv6). Used by the packet
 * builders and the wire views' string getters; not on any hot path.
 */
import { invalidArgument } from '../error-codes.js';

/** Parses `a.b.c.d` into 4 bytes; throws ERR_TUN_INVALID_ARGUMENT otherwise. */
export function parseIpv4(text: string): Uint8Array {
  const out = new Uint8Array(4);
  if (!parseIpv4Into(text, out, 0)) throw invalidArgument(`not an IPv4 address: ${JSON.stringify(text)}`);
  return out;
}

function parseIpv4Into(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return false;
    const v = Number(p);
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

/** Parses an IPv6 address (with `::` and an optional trailing dotted quad) into 16 bytes. */
export function parseIpv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  if (!parseIpv6Into(text, out)) throw invalidArgument(`not an IPv6 address: ${JSON.stringify(text)}`);
  return out;
}

function parseIpv6Into(text: string, out: Uint8Array): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const words: number[] = [];
  const parseGroup = (g: string, last: boolean): boolean => {
    if (last && g.includes('.')) {
      const v4 = new Uint8Array(4);
      if (!parseIpv4Into(g, v4, 0)) return false;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      return true;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
    words.push(parseInt(g, 16));
    return true;
  };
  for (let i = 0; i < head.length; i++) {
    if (!parseGroup(head[i], halves.length === 1 && i === head.length - 1)) return false;
  }
  const headWords = words.length;
  for (let i = 0; i < tail.length; i++) if (!parseGroup(tail[i], i === tail.length - 1)) return false;
  const tailWords = words.length - headWords;
  if (halves.length === 1 ? words.length !== 8 : words.length > 7) return false;
  for (let i = 0; i < headWords; i++) {
    out[2 * i] = words[i] >>> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  for (let i = 0; i < tailWords; i++) {
    const w = words[headWords + i];
    const at = 2 * (8 - tailWords + i);
    out[at] = w >>> 8;
    out[at + 1] = w & 0xff;
  }
  return true;
}

/** Parses either address family: IPv6 when the text contains `:`. */
export function parseIpAddress(text: string): Uint8Array {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** Formats 4 bytes at `offset` as `a.b.c.d`. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Formats 16 bytes at `offset` in RFC 5952 canonical form (longest zero run, length >= 2, becomes `::`). */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}
