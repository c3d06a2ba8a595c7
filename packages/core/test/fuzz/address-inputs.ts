/**
 * Inputs for the addressText target: strings (seeds as saved, seeds with
 * characters inserted, replaced or dropped, splices of two seeds, addresses,
 * CIDRs, netmasks, MACs and names built from random parts, random UTF-16 with lone
 * surrogates, NUL, fullwidth and Arabic-Indic digits, odd whitespace) and
 * non-string values (numbers on every bound the validators check, NaN, infinities,
 * bigints, booleans, null, undefined, symbols, objects that stringify as
 * addresses, boxed strings and numbers, arrays, typed arrays, a Date, a function,
 * an AbortSignal).
 */
import type { Prng } from '@tunpipe/testkit';
import type { AddressSeeds, CoreCorpus } from './seeds.js';

/** Characters an edit plants: the grammars' own, their look-alikes, and what must never pass. */
const EDIT_CHARS = [
  '0', '1', '2', '5', '9', 'a', 'f', 'F', 'g', 'x', 'e', ':', ':', '.', '.', '/', '%', 'd', '-', '+', '[', ']',
  ' ', '\t', '\n', '\v', '\0', '\u00a0', '\u0085', '\u2003', '\u3000', '\ufeff',
  '１', '０', '٣', '۴', '：', '。', '．', 'à', 'ü', '€', '\ufffd', '\ud800', '\udc00', '\ud83d\ude00',
];

/** Every number bound a core validator checks, and the values around it. */
const NUMBERS = [
  0, -0, 1, -1, 4, 8, 15, 16, 24, 31, 32, 33, 63, 64, 65, 67, 68, 69, 127, 128, 129, 255, 256, 1279, 1280, 1500, 9000,
  65520, 65521, 65522, 65534, 65535, 65536, 0x7fff_fffe, 0x7fff_ffff, 0x8000_0000, 0xffff_fffd, 0xffff_fffe, 0xffff_ffff, 2 ** 32,
  2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 0.5, 24.5, 32.000001, 68.5, 1e21, -1e21, Number.NaN, Infinity, -Infinity,
  Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, Number.EPSILON,
];

/** A random string: printable ASCII, any UTF-16 unit (lone surrogates too), or the edit alphabet. */
function randomText(rng: Prng): string {
  const n = rng.int(24);
  let s = '';
  const kind = rng.int(3);
  for (let i = 0; i < n; i++) {
    if (kind === 0) s += String.fromCharCode(0x20 + rng.int(0x5f));
    else if (kind === 1) s += String.fromCharCode(rng.int(0x10000));
    else s += rng.pick(EDIT_CHARS);
  }
  return s;
}

/** `s` with one to three characters inserted, replaced or dropped, a slice repeated, or its case flipped. */
function edit(rng: Prng, s: string): string {
  const edits = rng.range(1, 3);
  for (let k = 0; k < edits; k++) {
    const at = rng.int(s.length + 1);
    switch (rng.int(5)) {
      case 0:
        s = s.slice(0, at) + rng.pick(EDIT_CHARS) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + rng.pick(EDIT_CHARS) + s.slice(at + 1);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1);
        break;
      case 3: {
        const end = Math.min(s.length, at + rng.range(1, 6));
        s = s.slice(0, end) + s.slice(at, end) + s.slice(end);
        break;
      }
      default:
        s = rng.chance(0.5) ? s.toUpperCase() : s.toLowerCase();
    }
  }
  return s;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** A decimal octet, sometimes out of range or with a leading zero. */
function octet(rng: Prng): string {
  const v = rng.chance(0.9) ? rng.int(256) : rng.range(256, 1000);
  return rng.chance(0.05) ? `0${v}` : String(v);
}

/** An address-like string built from parts. */
function built(rng: Prng): string {
  switch (rng.int(6)) {
    case 0: // IPv4: usually four parts
      return Array.from({ length: rng.chance(0.85) ? 4 : rng.range(1, 6) }, () => octet(rng)).join('.');
    case 1: {
      // IPv6: groups of 0..5 hex digits, `::` somewhere (sometimes twice), maybe a dotted tail
      const n = rng.chance(0.8) ? rng.range(1, 8) : rng.range(0, 10);
      const groups = Array.from({ length: n }, () => {
        const width = rng.chance(0.9) ? rng.range(1, 4) : rng.pick([0, 5]);
        return width === 0 ? '' : hex(rng.int(16 ** Math.min(width, 4)), width);
      });
      if (rng.chance(0.2)) groups.push(Array.from({ length: 4 }, () => octet(rng)).join('.'));
      if (rng.chance(0.6)) groups.splice(rng.int(groups.length + 1), 0, '');
      if (rng.chance(0.05)) groups.splice(rng.int(groups.length + 1), 0, '');
      let text = groups.join(':');
      if (text.startsWith(':') && !text.startsWith('::')) text = `:${text}`;
      if (text.endsWith(':') && !text.endsWith('::')) text = `${text}:`;
      return rng.chance(0.2) ? text.toUpperCase() : text;
    }
    case 2: {
      // CIDR: an address of either family, a prefix text on or near the bounds
      const prefix = rng.pick(['0', '1', '8', '24', '32', '33', '64', '128', '129', '01', '024', '+8', '-1', '', ' 8', '8 ', '1000', '0x10', '１']);
      return `${rng.chance(0.5) ? built4(rng) : `fd00:${hex(rng.int(0x10000), 1)}::${hex(rng.int(0x10000), 1)}`}/${prefix}`;
    }
    case 3: {
      // netmask: contiguous, or with one bit flipped
      const prefix = rng.int(33);
      let mask = prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
      if (rng.chance(0.3)) mask = (mask ^ (1 << rng.int(32))) >>> 0;
      return [mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff].join('.');
    }
    case 4: {
      // MAC: six octets, sometimes five or seven, `:` or another separator, one-digit octets
      const n = rng.chance(0.85) ? 6 : rng.pick([5, 7]);
      const sep = rng.chance(0.85) ? ':' : rng.pick(['-', '.', '', '::', ' ']);
      const text = Array.from({ length: n }, () => (rng.chance(0.95) ? hex(rng.int(256), 2) : hex(rng.int(16), 1))).join(sep);
      return rng.chance(0.2) ? text.toUpperCase() : text;
    }
    default: {
      // interface name: 0..17 characters, templates, separators, spaces, multi-byte characters
      const n = rng.range(0, 17);
      let s = '';
      for (let i = 0; i < n; i++) s += rng.chance(0.7) ? String.fromCharCode(0x61 + rng.int(26)) : rng.pick(['-', '%d', '%', '/', ':', '.', ' ', 'ü', 'à', '€', '\u00a0', '\ud800', '0']);
      return s;
    }
  }
}

function built4(rng: Prng): string {
  return `198.${rng.pick(['18', '19', '018', '256'])}.${rng.int(256)}.${rng.int(256)}`;
}

/** One string input. */
export function generateText(rng: Prng, corpus: CoreCorpus): string {
  const kinds = Object.keys(corpus.text) as (keyof AddressSeeds)[];
  const seeds = corpus.text[rng.pick(kinds)];
  const r = rng.int(100);
  if (r < 15) return rng.pick(seeds);
  if (r < 55) return edit(rng, rng.pick(seeds));
  if (r < 63) {
    const a = rng.pick(corpus.allText);
    const b = rng.pick(corpus.allText);
    return a.slice(0, rng.int(a.length + 1)) + b.slice(rng.int(b.length + 1));
  }
  if (r < 90) return rng.chance(0.8) ? built(rng) : edit(rng, built(rng));
  return randomText(rng);
}

/** One number on or near a validator's bound. */
export function generateNumber(rng: Prng): number {
  const r = rng.int(10);
  if (r < 6) return rng.pick(NUMBERS);
  if (r < 8) return rng.pick(NUMBERS) + rng.range(-2, 2);
  return rng.chance(0.5) ? rng.int(70_000) : (rng.next() / 0x1_0000) * (rng.chance(0.5) ? 1 : -1);
}

/** A 6-byte (or not) MAC as bytes: unicast, multicast, all zeros, or the wrong length. */
function macBytes(rng: Prng): Uint8Array {
  const b = Uint8Array.from({ length: rng.chance(0.8) ? 6 : rng.pick([0, 5, 7]) }, () => rng.int(256));
  if (b.length > 0 && rng.chance(0.5)) b[0]! &= 0xfe;
  if (rng.chance(0.1)) b.fill(0);
  return b;
}

/** One value of any type (a string about half of the time). */
export function generateValue(rng: Prng, corpus: CoreCorpus): unknown {
  const r = rng.int(24);
  if (r < 10) return generateText(rng, corpus);
  if (r < 15) return generateNumber(rng);
  switch (r) {
    case 15:
      return rng.pick([0n, 24n, -1n, 2n ** 64n]);
    case 16:
      return rng.pick([true, false, null, undefined]);
    case 17:
      return rng.pick([Symbol('x'), Symbol.iterator]);
    case 18: {
      const text = rng.pick(corpus.allText);
      return rng.pick<unknown>([{ toString: () => text }, new String(text), [text], { valueOf: () => 24 }, new Number(24)]);
    }
    case 19:
      return rng.pick<unknown>([{}, [], [198, 18, 0, 1], Object.create(null) as object, new Date(0), () => 0]);
    case 20:
    case 21: {
      const b = macBytes(rng);
      return rng.pick<unknown>([b, Buffer.from(b), new Uint8Array(new SharedArrayBuffer(b.length)).fill(2), new Uint16Array(3), b.buffer]);
    }
    case 22:
      return rng.pick(['l2', 'l3', 'L2', 'l4', '', 'tun', 'tap']);
    default:
      return rng.chance(0.5) ? new AbortController().signal : rng.pick(['.', '..', '/var/run/netns/tp-x', 'tp-x', 'a\0b']);
  }
}
