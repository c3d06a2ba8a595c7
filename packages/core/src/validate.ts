/**
 * Input validation for DeviceBuilder and Device: every value a user hands in is
 * checked here, before any system call, and rejected with a stable code from
 * `error-codes.ts`. Each validator returns the normalized value (canonical address
 * text, prefix length, MAC bytes) so callers never re-parse.
 *
 * Address syntax itself is `address.ts`'s job; this module adds the device rules
 * (the kernel's interface-name rules, MTU bounds, unicast MACs, option fit).
 */
import { TunError } from '@tunpipe/offload';
import {
  parseIPv4, parseIPv6, parseCidr, checkPrefix, netmaskToPrefix, formatIPv4, formatIPv6, parseMac,
  isUnicastMac, MAC_LENGTH, type Cidr,
} from './address.js';
import { IFNAMSIZ } from './constants.js';

/** Smallest MTU the kernel accepts for an IPv4 device (RFC 791's 68). */
export const MIN_MTU = 68;
/** Largest MTU of a TUN/TAP device. */
export const MAX_MTU = 65535;
/** Largest MTU of a TAP device: 65535 minus the 14-byte Ethernet header (`ip -d link` maxmtu). */
export const MAX_TAP_MTU = 65521;
/** Smallest MTU at which the kernel keeps IPv6 enabled on a link (RFC 8200). */
export const MIN_IPV6_MTU = 1280;
/** Largest uid/gid: (uid_t)-1 is "no id" and the kernel refuses it. */
export const MAX_ID = 0xfffffffe;
/** Largest tx queue length (IFLA_TXQLEN is a u32). */
export const MAX_TX_QUEUE_LEN = 0xffffffff;

/** Device layer: `l3` is TUN (IP packets), `l2` is TAP (Ethernet frames). */
export type Layer = 'l3' | 'l2';

/** A MAC address as a string `xx:xx:xx:xx:xx:xx` or 6 bytes. */
export type MacInput = string | Uint8Array;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function fail(code: `ERR_TUN_${string}`, message: string): never {
  throw new TunError(code, message);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return `(${typeof value})`;
}

function isWhitespace(c: number): boolean {
  // C isspace(): space, \t \n \v \f \r
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * An interface name as the kernel accepts it (`dev_valid_name` plus the template
 * rule of `dev_alloc_name`, net/core/dev.c): 1..15 bytes of UTF-8, not `.` or `..`,
 * no `/`, `:`, whitespace or NUL, and at most one `%`, which must be `%d` (the
 * kernel replaces it with the first free number: `tun%d` -> `tun0`). The kernel
 * checks the UTF-8 bytes, and its isspace() (lib/ctype.c) is also true for 0xa0,
 * a byte in the UTF-8 of U+00A0, `à`, `Ġ`...: those names are refused too, as are
 * lone surrogates (no UTF-8: the device would get U+FFFD in their place).
 */
export function validateName(name: unknown): string {
  if (typeof name !== 'string') fail('ERR_TUN_INVALID_NAME', `interface name must be a string, got ${show(name)}`);
  if (name.length === 0) fail('ERR_TUN_INVALID_NAME', 'interface name is empty');
  const encoded = utf8.encode(name);
  const bytes = encoded.length;
  if (bytes >= IFNAMSIZ) fail('ERR_TUN_INVALID_NAME', `interface name ${show(name)} is ${bytes} bytes; the limit is ${IFNAMSIZ - 1}`);
  if (name === '.' || name === '..') fail('ERR_TUN_INVALID_NAME', `interface name cannot be ${show(name)}`);
  if (utf8Decoder.decode(encoded) !== name) fail('ERR_TUN_INVALID_NAME', `interface name ${show(name)} has a lone surrogate (no UTF-8 for it)`);
  if (encoded.includes(0xa0)) fail('ERR_TUN_INVALID_NAME', `interface name ${show(name)}: its UTF-8 holds byte 0xa0, which the kernel takes for a space`);
  let percent = -1;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f || c === 0x3a || c === 0 || isWhitespace(c)) {
      fail('ERR_TUN_INVALID_NAME', `interface name ${show(name)} contains ${show(name[i])} (no '/', ':', whitespace or NUL)`);
    }
    if (c === 0x25) {
      if (percent >= 0 || name.charCodeAt(i + 1) !== 0x64) {
        fail('ERR_TUN_INVALID_NAME', `interface name ${show(name)}: the only template allowed is one '%d'`);
      }
      percent = i;
    }
  }
  return name;
}

/** True when a (valid) name is a template the kernel completes (`tun%d`). */
export function isNameTemplate(name: string): boolean {
  return name.includes('%d');
}

/** An IPv4 address in canonical dotted-quad form. */
export function validateIPv4(address: unknown): string {
  return formatIPv4(parseIPv4(address as string));
}

/** An IPv6 address in canonical (RFC 5952) form. */
export function validateIPv6(address: unknown): string {
  return formatIPv6(parseIPv6(address as string));
}

/** An address of either family: its canonical text and family. */
export function validateIp(address: unknown): { address: string; family: 4 | 6 } {
  if (typeof address === 'string' && address.includes(':')) return { address: validateIPv6(address), family: 6 };
  return { address: validateIPv4(address), family: 4 };
}

/** An IPv4 prefix length: an integer 0..32, or a contiguous netmask string (`255.255.255.0` -> 24). */
export function validateIPv4Prefix(prefixOrNetmask: unknown): number {
  if (typeof prefixOrNetmask === 'string') return netmaskToPrefix(prefixOrNetmask);
  return checkPrefix(prefixOrNetmask as number, 4);
}

/** An IPv6 prefix length, an integer 0..128. */
export function validateIPv6Prefix(prefix: unknown): number {
  return checkPrefix(prefix as number, 6);
}

/** An MTU, an integer 68..65535. */
export function validateMtu(mtu: unknown): number {
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) {
    fail('ERR_TUN_INVALID_MTU', `MTU must be an integer ${MIN_MTU}..${MAX_MTU}, got ${show(mtu)}`);
  }
  return mtu;
}

/** An MTU for a device of `layer`: 68..65535 on TUN, 68..65521 on TAP. */
export function validateLayerMtu(mtu: unknown, layer: Layer): number {
  const valid = validateMtu(mtu);
  if (layer === 'l2' && valid > MAX_TAP_MTU) {
    fail('ERR_TUN_INVALID_MTU', `a TAP device's MTU is at most ${MAX_TAP_MTU} (65535 minus the Ethernet header), got ${valid}`);
  }
  return valid;
}

/** A unicast MAC address (`xx:xx:xx:xx:xx:xx` or 6 bytes), as a fresh 6-byte array. */
export function validateMac(mac: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (mac instanceof Uint8Array) {
    if (mac.length !== MAC_LENGTH) fail('ERR_TUN_INVALID_MAC', `MAC address must be ${MAC_LENGTH} bytes, got ${mac.length}`);
    bytes = new Uint8Array(mac);
  } else {
    bytes = parseMac(mac as string);
  }
  if (!isUnicastMac(bytes)) {
    fail('ERR_TUN_INVALID_MAC', `MAC address ${show(mac)} is multicast or all zeros; a device needs a unicast address`);
  }
  return bytes;
}

/** An integer 0..`max`, else ERR_TUN_INVALID_ARGUMENT naming `what` (and `unit`, e.g. ' (bytes)'). */
function integerUpTo(value: unknown, what: string, max: number, unit = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    fail('ERR_TUN_INVALID_ARGUMENT', `${what} must be an integer 0..${max}${unit}, got ${show(value)}`);
  }
  return value;
}

/** A tx queue length, an integer 0..2^32-1. */
export function validateTxQueueLen(length: unknown): number {
  return integerUpTo(length, 'txQueueLen', MAX_TX_QUEUE_LEN);
}

/** A uid or gid, an integer 0..2^32-2. */
export function validateId(id: unknown, what: 'uid' | 'gid'): number {
  return integerUpTo(id, what, MAX_ID);
}

/** A byte count, an integer 0..`max`. */
export function validateByteCount(value: unknown, what: string, max: number): number {
  return integerUpTo(value, what, max, ' (bytes)');
}

/** A boolean option (no truthy/falsy guessing). */
export function validateBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') fail('ERR_TUN_INVALID_ARGUMENT', `${what} must be a boolean, got ${show(value)}`);
  return value;
}

/** `'l3'` (TUN) or `'l2'` (TAP). */
export function validateLayer(layer: unknown): Layer {
  if (layer !== 'l3' && layer !== 'l2') fail('ERR_TUN_INVALID_OPTION', `layer must be 'l3' (TUN) or 'l2' (TAP), got ${show(layer)}`);
  return layer;
}

/** A route destination `address/prefix` of either family. */
export function validateCidr(cidr: unknown): Cidr {
  return parseCidr(cidr as string);
}

/** A file descriptor number: an integer 0..2^31-1. */
export function validateFd(fd: unknown): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    fail('ERR_TUN_INVALID_FD', `fd must be a non-negative integer, got ${show(fd)}`);
  }
  return fd;
}

/** A packet buffer: a non-empty Uint8Array (any backing store, SharedArrayBuffer included). */
export function validateBuffer(buf: unknown, what: string): Uint8Array {
  if (!(buf instanceof Uint8Array)) fail('ERR_TUN_INVALID_ARGUMENT', `${what} must be a Uint8Array, got ${show(buf)}`);
  if (buf.length === 0) fail('ERR_TUN_INVALID_ARGUMENT', `${what} is empty`);
  return buf;
}

/** A timeout in milliseconds: a finite number >= 0 (undefined = wait forever). */
export function validateTimeout(timeout: unknown): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
    fail('ERR_TUN_INVALID_ARGUMENT', `timeout must be a finite number of milliseconds >= 0, got ${show(timeout)}`);
  }
  return timeout;
}

/** An AbortSignal or undefined. */
export function validateSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) fail('ERR_TUN_INVALID_ARGUMENT', `signal must be an AbortSignal, got ${show(signal)}`);
  return signal;
}

/**
 * A network namespace for `moveToNetns`: an open namespace fd, or a name/path
 * string (resolved like `ip netns`: a bare name is /var/run/netns/NAME, anything
 * with a `/` a path; see `netnsPath`).
 */
export function validateNetnsTarget(target: unknown): string | number {
  if (typeof target === 'number') return validateFd(target);
  if (typeof target !== 'string' || target.length === 0 || target.includes('\0') || target === '.' || target === '..') {
    fail('ERR_TUN_INVALID_ARGUMENT', `netns must be a name, a path or an fd, got ${show(target)}`);
  }
  return target;
}
