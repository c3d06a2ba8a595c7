/**
 * The `netlinkReply` fuzz target: kernel datagrams (seeds/netlink-replies.json,
 * mutated by netlink-mutate.ts) through every rtnetlink reply decoder of core:
 * parseMessages, Attributes (every getter, nests followed), linkIndexOf,
 * decodeLink, addressIndexOf, decodeAddress, decodeRoute, parseErrorReply. Each
 * decoder runs on every message, whatever its type; the iteration counts as
 * refused when a decoder the socket loop would dispatch to (by nlmsg_type)
 * refused it.
 *
 * Invariants:
 * - nothing escapes but TunError ERR_TUN_NETLINK_MALFORMED;
 * - every step advances: the watchdog would report a spin on a zero-length
 *   message or attribute;
 * - decoding reads only `buf[0, length)`: the same bytes placed in another
 *   buffer, among other surrounding bytes (also inside the view, past `length`),
 *   decode to the same result, refusals for the same reason; and each message
 *   decodes the same on its own, copied among random bytes (so no decoder reads
 *   its neighbours);
 * - the input is not written to;
 * - messages lie in order inside `length`; attribute payloads inside their
 *   region; the integer getters agree with the bytes;
 * - decoded values are what they claim: ifindex an s32, counters u32, MACs
 *   `xx:xx:xx:xx:xx:xx`, addresses canonical text of their family, prefixes within
 *   the family's bounds, route destinations CIDRs that parse back, no NUL in any
 *   decoded string.
 */
import { isDeepStrictEqual } from 'node:util';
import { isTunError } from '@tunpipe/offload';
import { invariant, FuzzInvariantError, deviceFds, type FuzzTarget, type Prng } from '@tunpipe/testkit';
import { formatCidr, formatIp, maxPrefix, parseCidr, parseIp, parseMac, formatMac } from '../../src/address.js';
import { NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_ERROR, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE } from '../../src/constants.js';
import { addressIndexOf, decodeAddress, type AddressInfo } from '../../src/netlink/addr.js';
import { decodeLink, linkIndexOf, type LinkInfo } from '../../src/netlink/link.js';
import { Attributes, HOST_LITTLE_ENDIAN, parseErrorReply, parseMessages, type NetlinkErrorReply, type NetlinkMessage } from '../../src/netlink/message.js';
import { decodeRoute, type RouteEntry } from '../../src/netlink/route.js';
import { familyHeaderLength } from './netlink-layout.js';
import { generateReply } from './netlink-mutate.js';
import type { CoreCorpus } from './seeds.js';

/** The one code a reply decoder may refuse with. */
export const MALFORMED = 'ERR_TUN_NETLINK_MALFORMED';

/** A refusal recorded in a decode result: by whom, and why (its message with the numbers taken out). */
interface Refused {
  refused: string;
  why: string;
}

/** The errors a decode refused with, by decoder name (the first of each), to rethrow one. */
type Refusals = Map<string, unknown>;

/** Runs `fn`; a malformed-reply TunError becomes a recorded refusal, anything else escapes. */
function attempt<T>(what: string, fn: () => T, refusals: Refusals): T | Refused {
  try {
    return fn();
  } catch (e) {
    if (isTunError(e) && e.code === MALFORMED) {
      if (!refusals.has(what)) refusals.set(what, e);
      // Numbers out: a message may name an absolute offset, which differs between placements.
      return { refused: what, why: e.message.replace(/-?\d+/g, 'N') };
    }
    if (isTunError(e)) throw new FuzzInvariantError(`${what} threw ${e.code}, not ${MALFORMED}: ${e.message}`);
    throw e;
  }
}

const refused = (x: unknown): x is Refused => typeof x === 'object' && x !== null && 'refused' in x;

const isU32 = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffff_ffff;
const isS32 = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= -0x8000_0000 && (x as number) <= 0x7fff_ffff;
const isU8 = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xff;
const noNul = (s: unknown): boolean => typeof s === 'string' && !s.includes('\0');
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const OPER_STATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];

/** True when `text` is the canonical text of an address of `family`. */
function canonicalIp(text: unknown, family: 4 | 6): boolean {
  if (typeof text !== 'string') return false;
  try {
    const ip = parseIp(text);
    return ip.family === family && formatIp(family, ip.bytes) === text;
  } catch {
    return false;
  }
}

function checkLink(l: LinkInfo): void {
  invariant(isS32(l.ifindex) && isU32(l.flags) && isU32(l.mtu) && isU32(l.txQueueLen), `link numbers ${JSON.stringify(l)}`);
  invariant(isU32(l.numTxQueues) && isU32(l.numRxQueues), 'link queue counts');
  invariant(noNul(l.name), `link name ${JSON.stringify(l.name)}`);
  for (const mac of [l.mac, l.broadcastMac]) invariant(mac === null || (MAC.test(mac) && formatMac(parseMac(mac)) === mac), `link MAC ${mac}`);
  const unknown = /^UNKNOWN\((\d+)\)$/.exec(l.operState);
  invariant(OPER_STATES.includes(l.operState) || (unknown !== null && Number(unknown[1]) >= OPER_STATES.length && Number(unknown[1]) <= 255), `operState ${l.operState}`);
  invariant(l.kind === null || noNul(l.kind), 'link kind');
}

function checkAddress(a: AddressInfo): void {
  invariant(a.family === 4 || a.family === 6, `address family ${a.family}`);
  invariant(canonicalIp(a.address, a.family), `address ${a.address} is not canonical IPv${a.family}`);
  invariant(a.peer === undefined || canonicalIp(a.peer, a.family), `peer ${a.peer}`);
  invariant(a.broadcast === undefined || (a.family === 4 && canonicalIp(a.broadcast, 4)), `broadcast ${a.broadcast}`);
  invariant(Number.isInteger(a.prefix) && a.prefix >= 0 && a.prefix <= maxPrefix(a.family), `IPv${a.family} address ${a.address} with prefix ${a.prefix}`);
}

function checkRoute(r: RouteEntry): void {
  invariant(r.family === 4 || r.family === 6, `route family ${r.family}`);
  let cidr;
  try {
    cidr = parseCidr(r.destination);
  } catch {
    throw new FuzzInvariantError(`route destination ${r.destination} does not parse`);
  }
  invariant(cidr.family === r.family && formatCidr(cidr.family, cidr.bytes, cidr.prefix) === r.destination, `route destination ${r.destination} not canonical`);
  invariant(r.gateway === undefined || canonicalIp(r.gateway, r.family), `gateway ${r.gateway}`);
  invariant(isU32(r.table) && isU8(r.protocol) && isU8(r.scope) && isU8(r.type) && isU32(r.rtmFlags) && isU32(r.oif), `route numbers ${JSON.stringify(r)}`);
  invariant(r.metric === undefined || isU32(r.metric), 'route metric');
}

/**
 * What <linux/netlink.h> says an NLMSG_ERROR must hold for its ack TLVs to be
 * found: with NLM_F_ACK_TLVS and without NLM_F_CAPPED, the whole echoed request
 * (its nlmsg_len, at least a header) lies inside the message.
 */
function echoFits(buf: Uint8Array, msg: NetlinkMessage): boolean {
  if ((msg.flags & NLM_F_ACK_TLVS) === 0 || (msg.flags & NLM_F_CAPPED) !== 0 || msg.end - msg.payload < 4 + 16) return true;
  const echoedLen = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(msg.payload + 4, HOST_LITTLE_ENDIAN);
  return echoedLen >= 16 && msg.payload + 4 + Math.ceil(echoedLen / 4) * 4 <= msg.end;
}

function checkErrorReply(e: NetlinkErrorReply): void {
  invariant(isS32(e.error), `error ${e.error}`);
  invariant(e.message === undefined || (noNul(e.message) && e.message !== ''), 'ext ack message');
  invariant(e.offset === undefined || isU32(e.offset), 'ext ack offset');
}

/** Attributes visited per decode at most, and nesting levels followed (the decoders themselves go one level down). */
const WALK_BUDGET = 4000;
const WALK_DEPTH = 48;

/** Every getter of every attribute in `[start, end)`, nests followed; a summary to compare. */
function walkAttributes(buf: Uint8Array, start: number, end: number, refusals: Refusals, budget: { left: number }, depth = 0): unknown {
  return attempt('Attributes.parse', () => {
    const attrs = Attributes.parse(buf, start, end);
    const summary: unknown[] = [];
    for (const type of attrs.types().sort((x, y) => x - y)) {
      if (--budget.left < 0) break;
      invariant(type >= 0 && type <= 0x3fff, `attribute type ${type} keeps its flag bits`);
      const bytes = attrs.bytes(type)!;
      const at = bytes.byteOffset - buf.byteOffset;
      invariant(bytes.buffer === buf.buffer && at >= start + 4 && at + bytes.length <= end, `attribute ${type} payload ${at}..${at + bytes.length} outside ${start}..${end}`);
      invariant(attrs.size(type) === bytes.length && attrs.has(type), `attribute ${type} size`);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      const u8 = attempt('Attributes.u8', () => attrs.u8(type), refusals);
      const u32 = attempt('Attributes.u32', () => attrs.u32(type), refusals);
      const i32 = attempt('Attributes.i32', () => attrs.i32(type), refusals);
      invariant(bytes.length >= 1 ? u8 === bytes[0] : refused(u8), `u8 of ${bytes.length} bytes`);
      invariant(bytes.length >= 4 ? u32 === dv.getUint32(0, HOST_LITTLE_ENDIAN) && i32 === dv.getInt32(0, HOST_LITTLE_ENDIAN) : refused(u32) && refused(i32), `u32/i32 of ${bytes.length} bytes`);
      const text = attrs.string(type);
      invariant(noNul(text), 'string attribute holds a NUL');
      const nested = bytes.length >= 4 && budget.left > 0 && depth < WALK_DEPTH ? walkAttributes(buf, at, at + bytes.length, refusals, budget, depth + 1) : undefined;
      summary.push([type, bytes.length, Buffer.from(bytes.subarray(0, 32)).toString('hex'), String(text).slice(0, 32), nested]);
    }
    return summary;
  }, refusals);
}

/** What every decoder made of one message (comparable across placements). */
interface MessageResult {
  header: [number, number, number, number, number];
  link: unknown;
  linkIndex: unknown;
  address: unknown;
  addressIndex: unknown;
  route: unknown;
  error: unknown;
  attributes: unknown;
}

/** The decoders Rtnetlink and NetlinkSocket call for a message type (rtnetlink.ts, netlink-socket.ts). */
function dispatchedTo(type: number): string[] {
  if (type === NLMSG_ERROR) return ['parseErrorReply'];
  if (type === RTM_NEWLINK) return ['decodeLink'];
  if (type === RTM_NEWADDR) return ['addressIndexOf', 'decodeAddress'];
  if (type === RTM_NEWROUTE) return ['decodeRoute'];
  return [];
}

/** Every decoder on one message; checks what they return. `refusals` collects what they refused with. */
function decodeMessage(buf: Uint8Array, msg: NetlinkMessage, refusals: Refusals): MessageResult {
  const link = attempt('decodeLink', () => decodeLink(buf, msg), refusals);
  if (!refused(link)) checkLink(link);
  const linkIndex = attempt('linkIndexOf', () => linkIndexOf(buf, msg), refusals);
  invariant(refused(linkIndex) || isS32(linkIndex), 'linkIndexOf');
  const address = attempt('decodeAddress', () => decodeAddress(buf, msg), refusals);
  if (address !== undefined && !refused(address)) checkAddress(address);
  const addressIndex = attempt('addressIndexOf', () => addressIndexOf(buf, msg), refusals);
  invariant(refused(addressIndex) || isU32(addressIndex), 'addressIndexOf');
  const route = attempt('decodeRoute', () => decodeRoute(buf, msg), refusals);
  if (route !== undefined && !refused(route)) checkRoute(route);
  const error = attempt('parseErrorReply', () => parseErrorReply(buf, msg), refusals);
  if (!refused(error)) {
    checkErrorReply(error);
    invariant(echoFits(buf, msg), 'parseErrorReply accepted an echoed request that runs past its message');
  }
  const family = familyHeaderLength(msg.type);
  const from = msg.payload + (family >= 0 ? family : 0);
  const attributes = from <= msg.end ? walkAttributes(buf, from, msg.end, refusals, { left: WALK_BUDGET }) : 'past the end';
  return { header: [msg.type, msg.flags, msg.seq, msg.pid, msg.end - msg.start], link, linkIndex, address, addressIndex, route, error, attributes };
}

/** A decoded datagram: its messages and what each decoded to, or the refusal of parseMessages. */
type Datagram = { messages: NetlinkMessage[]; results: MessageResult[]; refusal: unknown } | { refused: unknown };

/** The whole datagram `buf[0, length)`; `refusal` is the first refusal of a dispatched decoder. */
function decodeDatagram(buf: Uint8Array, length: number): Datagram {
  let messages: NetlinkMessage[];
  try {
    messages = parseMessages(buf, length);
  } catch (e) {
    if (isTunError(e) && e.code === MALFORMED) return { refused: e };
    if (isTunError(e)) throw new FuzzInvariantError(`parseMessages threw ${e.code}, not ${MALFORMED}`);
    throw e;
  }
  let expect = 0;
  for (const m of messages) {
    invariant(m.start === expect && m.payload === m.start + 16 && m.end - m.start >= 16 && m.end <= length, `message ${m.start}..${m.end} out of place (expected at ${expect}, length ${length})`);
    expect = m.start + Math.ceil((m.end - m.start) / 4) * 4;
  }
  invariant(expect >= length, `parseMessages stopped at ${expect} of ${length}`);
  let refusal: unknown;
  const results = messages.map((m) => {
    const refusals: Refusals = new Map();
    const r = decodeMessage(buf, m, refusals);
    for (const name of dispatchedTo(m.type)) if (refusal === undefined && refusals.has(name)) refusal = refusals.get(name);
    return r;
  });
  return { messages, results, refusal };
}

/** Summary of a decode for comparing placements (a refusal as its message). */
function comparable(d: Datagram): unknown {
  return 'refused' in d ? { refused: (d.refused as Error).message } : d.results;
}

/** A view of `bytes` at `pad` in a fresh ArrayBuffer whose other bytes repeat `fill`, `slack` of them inside the view. */
function placed(bytes: Uint8Array, pad: number, slack: number, fill: Uint8Array): Uint8Array {
  const backing = new Uint8Array(pad + bytes.length + slack + 16);
  for (let i = 0; i < backing.length; i += fill.length) backing.set(fill.subarray(0, backing.length - i), i);
  backing.set(bytes, pad);
  return backing.subarray(pad, pad + bytes.length + slack);
}

/** The `length` handed to parseMessages: mostly the datagram's, sometimes shorter, past the buffer, or negative. */
function lengthFor(rng: Prng, n: number, slack: number): number {
  if (rng.chance(0.85)) return n;
  return rng.pick([rng.int(n + 1), n + slack + 1, n + slack + 4, -1, -16]);
}

let before: number | undefined;

/** The target. */
export const netlinkReplyTarget: FuzzTarget<CoreCorpus> = {
  name: 'netlinkReply',
  codes: [MALFORMED],
  run(rng, corpus, input) {
    before ??= deviceFds();
    const { bytes, note } = generateReply(rng, corpus.replies);
    const slack = rng.chance(0.5) ? 0 : rng.range(1, 24);
    const length = lengthFor(rng, bytes.length, slack);
    input.bytes = bytes;
    input.note = `${note}; length ${length}, slack ${slack}`;

    // Two placements: other surrounding bytes, another offset into the ArrayBuffer,
    // and in the second, other bytes past `length` when it cuts the datagram short.
    const other = bytes.slice();
    if (length >= 0 && length < other.length) other.set(rng.bytes(other.length - length), length);
    const a = placed(bytes, rng.int(40), slack, new Uint8Array(1));
    const b = placed(other, rng.int(40), slack, rng.bytes(64).map((x) => x | 0x80));
    const first = decodeDatagram(a, length);
    const second = decodeDatagram(b, length);
    invariant(isDeepStrictEqual(comparable(first), comparable(second)), 'the result depends on bytes outside buf[0, length)');
    invariant(Buffer.from(a.subarray(0, bytes.length)).equals(bytes) && Buffer.from(b.subarray(0, other.length)).equals(other), 'a decoder wrote to its input');

    if ('refused' in first) throw first.refused;
    // Each message alone, among random bytes: the same result as in place.
    for (const [i, m] of first.messages.entries()) {
      const own = bytes.subarray(m.start, m.end);
      const alone = placed(own, rng.int(24), rng.int(8), rng.bytes(32));
      const r = decodeMessage(alone, { ...m, start: 0, payload: 16, end: own.length }, new Map());
      invariant(isDeepStrictEqual(r, first.results[i]), `message ${i} (type ${m.type}) decodes differently on its own: something reads outside ${m.start}..${m.end}`);
    }
    if (first.refusal !== undefined) throw first.refusal;
  },
  finish() {
    if (before !== undefined) invariant(deviceFds() === before, 'a TUN or NETLINK_ROUTE fd was opened by the run');
  },
};
