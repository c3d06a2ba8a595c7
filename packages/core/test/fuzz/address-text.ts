/**
 * The `addressText` fuzz target: core's text parsers (address.ts) and the
 * validate* wrappers that take user values (validate.ts), one entry point per
 * iteration, on strings from address-inputs.ts and on values of every other type.
 *
 * Each entry point has a model of what it must accept, written apart from it:
 * glibc's inet_pton for addresses (netmasks: contiguous ones from the top; CIDRs:
 * `address/decimal` without sign or leading zero, within the family), a regular
 * expression for MACs plus the unicast rule, kernel-name.ts for interface names,
 * integer ranges for the numeric validators. The entry point must accept exactly
 * what its model accepts and refuse the rest with the one TunError code the model
 * names; any other exception is a failure. What it accepts must round-trip:
 * format(parse(x)) parses to the same bytes (IPv4 and CIDR text is canonical
 * already, so it comes back unchanged; IPv6 canonical text is a fixed point),
 * parseCidr -> formatCidr -> parseCidr, parseMac -> formatMac (lower case),
 * netmask -> prefix -> netmask. Parsing into a caller's buffer (random capacity
 * and offset, some offsets outside it or not integers) writes only the 4/16/6
 * bytes at `offset` and only when they fit.
 *
 * Every string input is also checked against two outside grammars: glibc's
 * inet_pton (same verdict and same bytes for IPv4 and IPv6), and Node's
 * net.isIPv4 / net.isIPv6, which agree except that Node accepts zone ids
 * (`fe80::1%eth0`, even `::%1`), which are no part of an address the kernel
 * stores: core and inet_pton refuse them (found by running both; no other
 * difference showed up, leading zeros in a dotted quad included: all three refuse
 * them).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { isTunError, type TunError } from '@tunpipe/offload';
import { invariant, FuzzInvariantError, deviceFds, type FuzzTarget, type Prng } from '@tunpipe/testkit';
import {
  checkPrefix,
  formatCidr,
  formatIPv4,
  formatIPv6,
  formatMac,
  ipFamily,
  netmaskToPrefix,
  parseCidr,
  parseIp,
  parseIPv4,
  parseIPv6,
  parseMac,
  prefixToNetmask,
} from '../../src/address.js';
import {
  validateBoolean,
  validateBuffer,
  validateByteCount,
  validateCidr,
  validateFd,
  validateId,
  validateIp,
  validateIPv4,
  validateIPv4Prefix,
  validateIPv6,
  validateIPv6Prefix,
  validateLayer,
  validateLayerMtu,
  validateMac,
  validateMtu,
  validateName,
  validateNetnsTarget,
  validateSignal,
  validateTimeout,
  validateTxQueueLen,
} from '../../src/validate.js';
import { generateNumber, generateText, generateValue } from './address-inputs.js';
import { ptonBytes } from './inet-pton.js';
import { kernelAcceptsName } from './kernel-name.js';
import type { CoreCorpus } from './seeds.js';

const ADDRESS = 'ERR_TUN_INVALID_ADDRESS';
const PREFIX = 'ERR_TUN_INVALID_PREFIX';
const MAC = 'ERR_TUN_INVALID_MAC';
const NAME = 'ERR_TUN_INVALID_NAME';
const MTU = 'ERR_TUN_INVALID_MTU';
const ARGUMENT = 'ERR_TUN_INVALID_ARGUMENT';
const OPTION = 'ERR_TUN_INVALID_OPTION';
const FD = 'ERR_TUN_INVALID_FD';

/** Every code an entry point of this target may refuse with (each entry point has its own subset). */
export const ADDRESS_TEXT_CODES: readonly string[] = [ADDRESS, PREFIX, MAC, NAME, MTU, ARGUMENT, OPTION, FD];

/** What a call did: returned a value, or threw a TunError (anything else propagates). */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: TunError };

function outcome<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (isTunError(e)) return { ok: false, error: e };
    throw e;
  }
}

/** An input as a failure message shows it. */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `${v.constructor.name}[${Buffer.from(v).toString('hex')}]`;
  return v === null ? 'null' : typeof v === 'object' ? `(${Object.prototype.toString.call(v)})` : `(${typeof v})`;
}

/**
 * Holds an outcome against the model's verdict (true: accept; a code: refuse with
 * it). Returns the accepted value; rethrows a refusal that matches, so the runner
 * counts its code.
 */
function judge<T>(name: string, input: unknown, o: Outcome<T>, expected: true | string): T {
  if (o.ok) {
    invariant(expected === true, `${name}(${show(input)}) accepted it; the model refuses it (${expected})`);
    return o.value;
  }
  invariant(expected !== true, `${name}(${show(input)}) refused it with ${o.error.code} (${o.error.message}); the model accepts it`);
  invariant(o.error.code === expected, `${name}(${show(input)}) refused it with ${o.error.code}; the model says ${expected}`);
  throw o.error;
}

const sameBytes = (a: Uint8Array | null, b: Uint8Array | null): boolean => (a === null || b === null ? a === b : Buffer.from(a).equals(Buffer.from(b)));
const intIn = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** The address glibc makes of `s`, whichever family, or null. */
function pton(s: unknown): { family: 4 | 6; bytes: Uint8Array } | null {
  if (typeof s !== 'string') return null;
  const v4 = ptonBytes(4, s);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = ptonBytes(6, s);
  return v6 ? { family: 6, bytes: v6 } : null;
}

/** Prefix length of a contiguous netmask (ones from the top), or -1. */
function contiguousPrefix(mask: Uint8Array): number {
  const bits = [...mask].map((x) => x.toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') < 0 ? 32 : bits.indexOf('0') : -1;
}

/** The verdict for `address/prefix` text, and what it should parse to. */
function cidrModel(v: unknown): { verdict: true | string; family?: 4 | 6; bytes?: Uint8Array; prefix?: number } {
  if (typeof v !== 'string') return { verdict: ADDRESS };
  const slash = v.indexOf('/');
  if (slash < 0) return { verdict: PREFIX };
  const ip = pton(v.slice(0, slash));
  if (!ip) return { verdict: ADDRESS };
  const text = v.slice(slash + 1);
  const prefix = Number(text);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(text) || prefix > (ip.family === 4 ? 32 : 128)) return { verdict: PREFIX };
  return { verdict: true, family: ip.family, bytes: ip.bytes, prefix };
}

/** The bytes of a MAC a model accepts as text, or null. */
function macTextBytes(v: unknown): Uint8Array | null {
  return typeof v === 'string' && /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(v) ? new Uint8Array(Buffer.from(v.replaceAll(':', ''), 'hex')) : null;
}

const isUnicast = (b: Uint8Array): boolean => (b[0]! & 1) === 0 && b.some((x) => x !== 0);

/** Core's verdict on an address as a plain parse: the bytes, or null for ERR_TUN_INVALID_ADDRESS. */
function quietParse(parse: (s: string) => Uint8Array, s: string): Uint8Array | null {
  const o = outcome(() => parse(s));
  if (o.ok) return o.value;
  invariant(o.error.code === ADDRESS, `${parse.name}(${show(s)}) refused with ${o.error.code}`);
  return null;
}

/** Every string against inet_pton and Node's net module (see the header for the one difference). */
function crossCheck(s: string): void {
  const ours4 = quietParse(parseIPv4, s);
  const ours6 = quietParse(parseIPv6, s);
  const p4 = ptonBytes(4, s);
  const p6 = ptonBytes(6, s);
  invariant(sameBytes(ours4, p4), `parseIPv4(${show(s)}) = ${ours4 && formatIPv4(ours4)}, inet_pton says ${p4 && formatIPv4(p4)}`);
  invariant(sameBytes(ours6, p6), `parseIPv6(${show(s)}) = ${ours6 && formatIPv6(ours6)}, inet_pton says ${p6 && formatIPv6(p6)}`);
  invariant(isIPv4(s) === (ours4 !== null), `net.isIPv4(${show(s)}) = ${isIPv4(s)}, parseIPv4 ${ours4 ? 'accepts' : 'refuses'} it`);
  if (isIPv6(s) !== (ours6 !== null)) {
    const zone = s.indexOf('%');
    invariant(ours6 === null && zone > 0 && quietParse(parseIPv6, s.slice(0, zone)) !== null, `net.isIPv6(${show(s)}) = ${isIPv6(s)}, parseIPv6 ${ours6 ? 'accepts' : 'refuses'} it (and no zone id explains it)`);
  }
  const family = ipFamily(s);
  invariant(family === (ours4 ? 4 : ours6 ? 6 : null), `ipFamily(${show(s)}) = ${family}`);
}

/**
 * Parses `text` into a random window of a guarded buffer: capacity 0..24 bytes, an
 * offset usually inside it (sometimes past it, negative, fractional, NaN,
 * infinite, or left out). Accepting requires the `n` bytes to fit at an integer
 * offset and to be `expected`; no byte outside the window may change, and none at
 * all when the window does not fit.
 */
function parseInto(rng: Prng, name: string, parse: (t: string, out: Uint8Array, offset?: number) => Uint8Array, n: number, text: unknown, expected: Uint8Array | null, code: string): void {
  const capacity = rng.range(0, 24);
  const guard = 8;
  const size = guard + capacity + guard;
  const backing = new Uint8Array(rng.chance(0.2) ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
  for (let i = 0; i < size; i++) backing[i] = (i * 37 + 11) & 0xff;
  const before = backing.slice();
  const out = rng.chance(0.2) ? Buffer.from(backing.buffer, guard, capacity) : backing.subarray(guard, guard + capacity);
  const offset: number | undefined = rng.chance(0.85) ? rng.int(capacity + 2) : rng.pick([-1, -4, 0.5, 1.5, Number.NaN, Infinity, -Infinity, 2 ** 32, capacity - n + 1, undefined]);
  const at = offset ?? 0;
  const fits = Number.isInteger(at) && at >= 0 && at + n <= capacity;
  const o = outcome(() => (offset === undefined ? parse(text as string, out) : parse(text as string, out, offset)));
  for (let i = 0; i < size; i++) {
    const inWindow = fits && i >= guard + at && i < guard + at + n;
    invariant(inWindow || backing[i] === before[i], `${name}(${show(text)}, out[${capacity}], ${show(offset)}) wrote byte ${i - guard} of out (outside the window)`);
  }
  const value = judge(`${name}(out[${capacity}], offset ${show(offset)})`, text, o, expected !== null && fits ? true : code);
  invariant(value === out, `${name} into a buffer returns that buffer`);
  invariant(sameBytes(out.subarray(at, at + n), expected), `${name} wrote ${Buffer.from(out.subarray(at, at + n)).toString('hex')}`);
}

/** One entry point: how to pick its input, and how to call and judge it. */
interface EntryPoint {
  name: string;
  value(rng: Prng, corpus: CoreCorpus): unknown;
  run(v: unknown, rng: Prng): void;
}

const text = (rng: Prng, corpus: CoreCorpus): unknown => (rng.chance(0.9) ? generateText(rng, corpus) : generateValue(rng, corpus));
const numeric = (rng: Prng, corpus: CoreCorpus): unknown => (rng.chance(0.75) ? generateNumber(rng) : generateValue(rng, corpus));
const anything = (rng: Prng, corpus: CoreCorpus): unknown => generateValue(rng, corpus);

/** A validator of a number range: accepts exactly the integers lo..hi, refuses the rest with `code`. */
function rangeEntry(name: string, fn: (v: unknown) => unknown, lo: number, hi: number, code: string): EntryPoint {
  return {
    name,
    value: numeric,
    run(v) {
      const value = judge(name, v, outcome(() => fn(v)), intIn(v, lo, hi) ? true : code);
      invariant(value === v, `${name} returns its input`);
    },
  };
}

const ENTRY_POINTS: readonly EntryPoint[] = [
  {
    name: 'parseIPv4',
    value: text,
    run(v, rng) {
      const expected = typeof v === 'string' ? ptonBytes(4, v) : null;
      if (rng.chance(0.4)) return parseInto(rng, 'parseIPv4', parseIPv4, 4, v, expected, ADDRESS);
      const b = judge('parseIPv4', v, outcome(() => parseIPv4(v as string)), expected ? true : ADDRESS);
      invariant(sameBytes(b, expected) && formatIPv4(b) === v, `parseIPv4(${show(v)}) does not format back to itself`);
    },
  },
  {
    name: 'parseIPv6',
    value: text,
    run(v, rng) {
      const expected = typeof v === 'string' ? ptonBytes(6, v) : null;
      if (rng.chance(0.4)) return parseInto(rng, 'parseIPv6', parseIPv6, 16, v, expected, ADDRESS);
      const b = judge('parseIPv6', v, outcome(() => parseIPv6(v as string)), expected ? true : ADDRESS);
      const canonical = formatIPv6(b);
      invariant(sameBytes(b, expected) && sameBytes(parseIPv6(canonical), b) && sameBytes(ptonBytes(6, canonical), b), `${show(v)} -> ${canonical} does not parse back`);
      invariant(formatIPv6(parseIPv6(canonical)) === canonical, `canonical ${canonical} is not a fixed point`);
    },
  },
  {
    name: 'parseIp',
    value: text,
    run(v) {
      const expected = pton(v);
      const ip = judge('parseIp', v, outcome(() => parseIp(v as string)), expected ? true : ADDRESS);
      invariant(ip.family === expected!.family && sameBytes(ip.bytes, expected!.bytes), `parseIp(${show(v)}) family/bytes`);
    },
  },
  {
    name: 'ipFamily',
    value: text,
    run(v) {
      const family = ipFamily(v as string);
      invariant(family === (pton(v)?.family ?? null), `ipFamily(${show(v)}) = ${family}`);
    },
  },
  ...(['parseCidr', 'validateCidr'] as const).map((name): EntryPoint => ({
    name,
    value: text,
    run(v) {
      const model = cidrModel(v);
      const c = judge(name, v, outcome(() => (name === 'parseCidr' ? parseCidr(v as string) : validateCidr(v))), model.verdict);
      invariant(c.family === model.family && sameBytes(c.bytes, model.bytes!) && c.prefix === model.prefix, `${name}(${show(v)}) = ${JSON.stringify({ ...c, bytes: [...c.bytes] })}`);
      const formatted = formatCidr(c.family, c.bytes, c.prefix);
      const again = parseCidr(formatted);
      invariant(again.family === c.family && sameBytes(again.bytes, c.bytes) && again.prefix === c.prefix && formatCidr(again.family, again.bytes, again.prefix) === formatted, `${show(v)} -> ${formatted} is not stable`);
      invariant(c.family === 6 || formatted === v, `IPv4 CIDR ${show(v)} formats as ${formatted}`);
    },
  })),
  {
    name: 'parseMac',
    value: text,
    run(v, rng) {
      const expected = macTextBytes(v);
      if (rng.chance(0.4)) return parseInto(rng, 'parseMac', parseMac, 6, v, expected, MAC);
      const b = judge('parseMac', v, outcome(() => parseMac(v as string)), expected ? true : MAC);
      invariant(sameBytes(b, expected) && formatMac(b) === (v as string).toLowerCase(), `parseMac(${show(v)}) -> ${formatMac(b)}`);
    },
  },
  {
    name: 'netmaskToPrefix',
    value: text,
    run(v) {
      const mask = typeof v === 'string' ? ptonBytes(4, v) : null;
      const prefix = mask ? contiguousPrefix(mask) : -1;
      const p = judge('netmaskToPrefix', v, outcome(() => netmaskToPrefix(v as string)), prefix >= 0 ? true : ADDRESS);
      invariant(p === prefix && prefixToNetmask(p) === v, `netmaskToPrefix(${show(v)}) = ${p}`);
    },
  },
  {
    name: 'validateName',
    value: text,
    run(v) {
      const name = judge('validateName', v, outcome(() => validateName(v)), typeof v === 'string' && kernelAcceptsName(v) ? true : NAME);
      invariant(name === v, 'validateName returns its input');
    },
  },
  {
    name: 'validateIPv4',
    value: text,
    run(v) {
      const expected = typeof v === 'string' ? ptonBytes(4, v) : null;
      const canonical = judge('validateIPv4', v, outcome(() => validateIPv4(v)), expected ? true : ADDRESS);
      invariant(canonical === v, `validateIPv4(${show(v)}) = ${canonical}`);
    },
  },
  {
    name: 'validateIPv6',
    value: text,
    run(v) {
      const expected = typeof v === 'string' ? ptonBytes(6, v) : null;
      const canonical = judge('validateIPv6', v, outcome(() => validateIPv6(v)), expected ? true : ADDRESS);
      invariant(canonical === formatIPv6(expected!) && sameBytes(ptonBytes(6, canonical), expected), `validateIPv6(${show(v)}) = ${canonical}`);
    },
  },
  {
    name: 'validateIp',
    value: text,
    run(v) {
      const expected = pton(v);
      const ip = judge('validateIp', v, outcome(() => validateIp(v)), expected ? true : ADDRESS);
      invariant(ip.family === expected!.family && sameBytes(pton(ip.address)!.bytes, expected!.bytes), `validateIp(${show(v)}) = ${JSON.stringify(ip)}`);
    },
  },
  {
    name: 'validateIPv4Prefix',
    value: (rng, corpus) => (rng.chance(0.5) ? generateText(rng, corpus) : numeric(rng, corpus)),
    run(v) {
      let verdict: true | string;
      let expected: unknown = v;
      if (typeof v === 'string') {
        const mask = ptonBytes(4, v);
        expected = mask ? contiguousPrefix(mask) : -1;
        verdict = (expected as number) >= 0 ? true : ADDRESS;
      } else verdict = intIn(v, 0, 32) ? true : PREFIX;
      const p = judge('validateIPv4Prefix', v, outcome(() => validateIPv4Prefix(v)), verdict);
      invariant(p === expected, `validateIPv4Prefix(${show(v)}) = ${p}`);
    },
  },
  rangeEntry('validateIPv6Prefix', validateIPv6Prefix, 0, 128, PREFIX),
  rangeEntry('checkPrefix4', (v) => checkPrefix(v as number, 4), 0, 32, PREFIX),
  rangeEntry('checkPrefix6', (v) => checkPrefix(v as number, 6), 0, 128, PREFIX),
  {
    name: 'prefixToNetmask',
    value: numeric,
    run(v) {
      const mask = judge('prefixToNetmask', v, outcome(() => prefixToNetmask(v as number)), intIn(v, 0, 32) ? true : PREFIX);
      invariant(netmaskToPrefix(mask) === v && contiguousPrefix(ptonBytes(4, mask)!) === v, `prefixToNetmask(${show(v)}) = ${mask}`);
    },
  },
  {
    name: 'validateMac',
    value: (rng, corpus) => (rng.chance(0.6) ? generateText(rng, corpus) : anything(rng, corpus)),
    run(v) {
      const bytes = v instanceof Uint8Array ? (v.length === 6 ? v.slice() : null) : macTextBytes(v);
      const mac = judge('validateMac', v, outcome(() => validateMac(v)), bytes && isUnicast(bytes) ? true : MAC);
      invariant(mac instanceof Uint8Array && mac !== v && (!(v instanceof Uint8Array) || mac.buffer !== v.buffer) && sameBytes(mac, bytes), `validateMac(${show(v)}) returns a fresh copy of the bytes`);
    },
  },
  rangeEntry('validateMtu', validateMtu, 68, 65535, MTU),
  rangeEntry('validateLayerMtu l3', (v) => validateLayerMtu(v, 'l3'), 68, 65535, MTU),
  rangeEntry('validateLayerMtu l2', (v) => validateLayerMtu(v, 'l2'), 68, 65521, MTU),
  rangeEntry('validateTxQueueLen', validateTxQueueLen, 0, 0xffff_ffff, ARGUMENT),
  rangeEntry('validateId', (v) => validateId(v, 'uid'), 0, 0xffff_fffe, ARGUMENT),
  rangeEntry('validateByteCount', (v) => validateByteCount(v, 'bufferSize', 65535), 0, 65535, ARGUMENT),
  rangeEntry('validateFd', validateFd, 0, 0x7fff_ffff, FD),
  {
    name: 'validateBoolean',
    value: anything,
    run(v) {
      invariant(judge('validateBoolean', v, outcome(() => validateBoolean(v, 'persist')), typeof v === 'boolean' ? true : ARGUMENT) === v, 'returns its input');
    },
  },
  {
    name: 'validateLayer',
    value: anything,
    run(v) {
      invariant(judge('validateLayer', v, outcome(() => validateLayer(v)), v === 'l2' || v === 'l3' ? true : OPTION) === v, 'returns its input');
    },
  },
  {
    name: 'validateTimeout',
    value: numeric,
    run(v) {
      const ok = v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0);
      invariant(judge('validateTimeout', v, outcome(() => validateTimeout(v)), ok ? true : ARGUMENT) === v, 'returns its input');
    },
  },
  {
    name: 'validateBuffer',
    value: anything,
    run(v) {
      const ok = v instanceof Uint8Array && v.length > 0;
      invariant(judge('validateBuffer', v, outcome(() => validateBuffer(v, 'packet')), ok ? true : ARGUMENT) === v, 'returns its input');
    },
  },
  {
    name: 'validateSignal',
    value: anything,
    run(v) {
      const ok = v === undefined || v instanceof AbortSignal;
      invariant(judge('validateSignal', v, outcome(() => validateSignal(v)), ok ? true : ARGUMENT) === v, 'returns its input');
    },
  },
  {
    name: 'validateNetnsTarget',
    value: (rng, corpus) => (rng.chance(0.5) ? generateText(rng, corpus) : anything(rng, corpus)),
    run(v) {
      let verdict: true | string;
      if (typeof v === 'number') verdict = intIn(v, 0, 0x7fff_ffff) ? true : FD;
      else verdict = typeof v === 'string' && v !== '' && !v.includes('\0') && v !== '.' && v !== '..' ? true : ARGUMENT;
      invariant(judge('validateNetnsTarget', v, outcome(() => validateNetnsTarget(v)), verdict) === v, 'returns its input');
    },
  },
];

let before: number | undefined;

/** The target. */
export const addressTextTarget: FuzzTarget<CoreCorpus> = {
  name: 'addressText',
  codes: ADDRESS_TEXT_CODES,
  run(rng, corpus, input) {
    before ??= deviceFds();
    const entry = rng.pick(ENTRY_POINTS);
    const v = entry.value(rng, corpus);
    input.note = `${entry.name}(${show(v)})`;
    if (typeof v === 'string') crossCheck(v);
    try {
      entry.run(v, rng);
    } catch (e) {
      if (e instanceof FuzzInvariantError || isTunError(e)) throw e;
      throw new FuzzInvariantError(`${entry.name}(${show(v)}) threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  },
  finish() {
    if (before !== undefined) invariant(deviceFds() === before, 'a TUN or NETLINK_ROUTE fd was opened by the run');
  },
};
