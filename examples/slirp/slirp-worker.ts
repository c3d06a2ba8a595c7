/**
 * The thread that runs libslirp. libslirp is single-threaded and wants its owner
 * to sleep in poll() on the sockets it lists, so it gets a thread of its own:
 *
 * ```
 *            ┌──────────────── slirp worker ─────────────────┐
 * TAP fd ──► │ read frame ─► slirp_input ─► TCP/IP, ARP, NAT │ ─► unix socket (forward)
 * TAP fd ◄── │ write  ◄──── send_packet ◄──┘                  │ ◄─ proxy in the main thread
 * eventfd ─► │ poll([tap, eventfd, slirp's sockets], timers)  │
 *            └────────────────────────────────────────────────┘
 * ```
 *
 * The main thread (SlirpStack) writes the eventfd to stop it. Counters live in a
 * SharedArrayBuffer the main thread reads at any time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import koffi, { type TypeObject } from 'koffi';
import { errno, sys, TunError } from '@tunpipe/core';
import {
  SLIRP_CONFIG_VERSION,
  SlirpAddPollCb,
  SlirpClockCb,
  SlirpGetREventsCb,
  SlirpGuestErrorCb,
  SlirpInitCompletedCb,
  SlirpNotifyCb,
  SlirpPollFdCb,
  SlirpTimerFreeCb,
  SlirpTimerModCb,
  SlirpTimerNewCb,
  SlirpTimerNewOpaqueCb,
  SlirpWriteCb,
  inAddr,
  inAddrBytes,
  loadLibSlirp,
  pollToSlirpEvents,
  slirpToPollEvents,
  type SlirpCbValue,
  type SlirpConfigValue,
} from './slirp-binding.js';
import { STAT, type SlirpWorkerData, type SlirpWorkerMessage } from './slirp-worker-protocol.js';

const EINTR = 4;
const EAGAIN = 11;
const POLLIN = 0x001;
const POLLERR = 0x008;
const POLLHUP = 0x010;
const POLLNVAL = 0x020;
/** Frames read from the TAP device per wake-up before slirp's sockets get a turn. */
const FRAMES_PER_TURN = 256;
/** Longest sleep when neither slirp nor a timer asks for an earlier wake-up (ms). */
const MAX_SLEEP_MS = 1000;

const data = workerData as SlirpWorkerData;
const port = parentPort!;
const stats = new Float64Array(data.stats);

function post(message: SlirpWorkerMessage): void {
  port.postMessage(message);
}

// ---- struct pollfd array, <poll.h>: { int fd; short events; short revents; } = 8 bytes --------

let pollCapacity = 64;
let pollBytes = new Uint8Array(pollCapacity * 8);
let pollFd = new Int32Array(pollBytes.buffer);
let pollShort = new Int16Array(pollBytes.buffer);
let pollCount = 0;

function addPollFd(fd: number, events: number): number {
  if (pollCount === pollCapacity) {
    pollCapacity *= 2;
    const bigger = new Uint8Array(pollCapacity * 8);
    bigger.set(pollBytes);
    pollBytes = bigger;
    pollFd = new Int32Array(bigger.buffer);
    pollShort = new Int16Array(bigger.buffer);
  }
  const i = pollCount++;
  pollFd[i * 2] = fd;
  pollShort[i * 4 + 2] = events;
  pollShort[i * 4 + 3] = 0;
  return i;
}

function revents(i: number): number {
  return pollShort[i * 4 + 3]!;
}

// ---- timers: slirp keeps our handle as an opaque pointer and hands it back ---------------------

interface Timer {
  /** SlirpTimerId for timer_new_opaque timers; -1 for timer_new ones. */
  id: number;
  /** SlirpTimerCb of a timer_new timer. */
  cb: bigint | null;
  cbOpaque: bigint | null;
  /** Expiry in ms of the clock_get_ns clock; Infinity when not armed. */
  expireMs: number;
}

const timers = new Map<bigint, Timer>();
let nextTimerHandle = 0x1000n; // never NULL; slirp never dereferences it

function newTimer(id: number, cb: bigint | null, cbOpaque: bigint | null): bigint {
  const handle = nextTimerHandle;
  nextTimerHandle += 0x10n;
  timers.set(handle, { id, cb, cbOpaque, expireMs: Infinity });
  return handle;
}

function nowMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

// ---- the stack -------------------------------------------------------------------------------

const lib = loadLibSlirp(data.libraryPath);
const frame = new Uint8Array(65_536);
let slirp: bigint | null = null;
let stopping = false;

function sendPacket(buf: bigint, len: number | bigint, _opaque: unknown): number {
  const length = Number(len);
  const n = sys.write(data.tapFd, buf as unknown as ArrayBufferView, length);
  if (n < 0) {
    stats[STAT.writeErrors]!++;
    return -errno();
  }
  stats[STAT.framesToGuest]!++;
  stats[STAT.bytesToGuest]! += n;
  return n;
}

const callbacks: bigint[] = [];
function register(fn: (...args: never[]) => unknown, proto: TypeObject): bigint {
  const ptr = koffi.register(fn, koffi.pointer(proto));
  callbacks.push(ptr);
  return ptr;
}

const cb: SlirpCbValue = {
  send_packet: register(sendPacket, SlirpWriteCb),
  guest_error: register((msg: string) => post({ type: 'guest-error', message: msg }), SlirpGuestErrorCb),
  clock_get_ns: register(() => process.hrtime.bigint(), SlirpClockCb),
  timer_new: register((fn: bigint, cbOpaque: bigint | null) => newTimer(-1, fn, cbOpaque), SlirpTimerNewCb),
  timer_free: register((timer: bigint) => void timers.delete(timer), SlirpTimerFreeCb),
  timer_mod: register((timer: bigint, expire: number | bigint) => {
    const t = timers.get(timer);
    if (t) t.expireMs = Number(expire);
  }, SlirpTimerModCb),
  register_poll_fd: register(() => undefined, SlirpPollFdCb),
  unregister_poll_fd: register(() => undefined, SlirpPollFdCb),
  notify: register(() => undefined, SlirpNotifyCb),
  init_completed: register(() => undefined, SlirpInitCompletedCb),
  timer_new_opaque: register((id: number, cbOpaque: bigint | null) => newTimer(id, null, cbOpaque), SlirpTimerNewOpaqueCb),
};
const addPoll = register((fd: number, events: number) => addPollFd(fd, slirpToPollEvents(events)), SlirpAddPollCb);
const getRevents = register((idx: number) => pollToSlirpEvents(revents(idx)), SlirpGetREventsCb);

function config(): SlirpConfigValue {
  const c = data.config;
  return {
    version: SLIRP_CONFIG_VERSION,
    restricted: 1, // always: the guest reaches nothing but the forwards below
    in_enabled: true,
    vnetwork: inAddr(c.network),
    vnetmask: inAddr(c.netmask),
    vhost: inAddr(c.host),
    in6_enabled: false,
    vprefix_addr6: [0, 0, 0, 0],
    vprefix_len: 0,
    vhost6: [0, 0, 0, 0],
    vhostname: null,
    tftp_server_name: null,
    tftp_path: null,
    bootfile: null,
    vdhcp_start: inAddr(c.dhcpStart),
    vnameserver: inAddr(c.nameserver),
    vnameserver6: [0, 0, 0, 0],
    vdnssearch: null,
    vdomainname: null,
    if_mtu: c.mtu,
    if_mru: c.mtu,
    disable_host_loopback: true,
    enable_emu: false,
    outbound_addr: null,
    outbound_addr6: null,
    disable_dns: true,
    disable_dhcp: !c.dhcp,
  };
}

function start(): bigint {
  const s = lib.newStack(config(), cb, null);
  if (s === null || s === 0n) throw new TunError('ERR_TUN_SLIRP_INIT', 'slirp_new failed (invalid configuration?)');
  for (const f of data.forwards) {
    if (lib.addUnix(s, f.unixPath, inAddrBytes(f.guestAddress), f.guestPort) < 0) {
      lib.cleanup(s);
      throw new TunError('ERR_TUN_SLIRP_FORWARD', `slirp_add_unix ${f.guestAddress}:${f.guestPort} -> ${f.unixPath} failed (address taken, or the vhost/nameserver?)`);
    }
  }
  return s;
}

/** Reads up to FRAMES_PER_TURN frames from the TAP device into slirp. Returns false when the device is gone. */
function drainTap(s: bigint): boolean {
  for (let i = 0; i < FRAMES_PER_TURN; i++) {
    const n = sys.read(data.tapFd, frame, frame.length);
    if (n < 0) {
      const e = errno();
      if (e === EAGAIN || e === EINTR) return true;
      return false;
    }
    if (n === 0) return true;
    stats[STAT.framesFromGuest]!++;
    stats[STAT.bytesFromGuest]! += n;
    lib.input(s, frame, n);
  }
  return true;
}

function fireTimers(s: bigint): number {
  const now = nowMs();
  let next = Infinity;
  for (const t of timers.values()) {
    if (t.expireMs <= now) {
      t.expireMs = Infinity;
      if (t.id >= 0) lib.handleTimer(s, t.id, t.cbOpaque);
      else if (t.cb !== null) lib.callTimer(t.cb, t.cbOpaque);
    }
    if (t.expireMs < next) next = t.expireMs;
  }
  return next;
}

function run(s: bigint): string | null {
  const timeout = new Uint32Array(1);
  const wake = new BigUint64Array(1);
  let nextTimer = Infinity;
  while (!stopping) {
    pollCount = 0;
    addPollFd(data.tapFd, POLLIN);
    addPollFd(data.wakeFd, POLLIN);
    timeout[0] = MAX_SLEEP_MS;
    lib.pollfdsFill(s, timeout, addPoll, null);
    const untilTimer = Math.max(0, nextTimer - nowMs());
    const n = sys.poll(pollBytes, pollCount, Math.min(timeout[0]!, untilTimer));
    const failed = n < 0 && errno() !== EINTR;
    if (n <= 0) for (let i = 0; i < pollCount; i++) pollShort[i * 4 + 3] = 0;
    lib.pollfdsPoll(s, failed ? 1 : 0, getRevents, null);
    const tap = revents(0);
    if (tap & POLLIN && !drainTap(s)) return 'the TAP device went away (read failed)';
    if (tap & (POLLERR | POLLHUP | POLLNVAL)) return 'the TAP device went away (poll reported an error)';
    if (revents(1) & POLLIN) {
      sys.read(data.wakeFd, wake, 8);
      stopping = true;
    }
    nextTimer = fireTimers(s);
  }
  return null;
}

try {
  slirp = start();
  post({ type: 'ready', version: lib.versionString() });
  const gone = run(slirp);
  if (gone) post({ type: 'error', code: 'ERR_TUN_DEVICE_GONE', message: gone });
} catch (err) {
  const e = err as TunError;
  post({ type: 'error', code: e.code ?? 'ERR_TUN_SLIRP', message: e.message });
} finally {
  if (slirp !== null) lib.cleanup(slirp);
  for (const ptr of callbacks) koffi.unregister(ptr);
}
