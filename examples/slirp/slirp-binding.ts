/**
 * A koffi binding to libslirp (Debian's libslirp0, 4.7): the user-mode TCP/IP
 * stack QEMU uses for `-netdev user`. Only what the example drives is bound:
 * creating a stack, feeding it guest frames, its poll protocol, its timers and
 * guest forwards to a unix socket.
 *
 * Layouts and prototypes follow libslirp 4.7's `<slirp/libslirp.h>` (SlirpCb and
 * SlirpConfig version 4). Each thread that imports this module loads its own
 * koffi types; pointers are BigInts in koffi 3.
 */
import koffi from 'koffi';
import { TunError } from '@tunpipe/core';

/** The soname Debian's libslirp0 installs. */
export const LIBSLIRP_SONAME = 'libslirp.so.0';

/** What to tell a user whose machine lacks libslirp. */
export const LIBSLIRP_INSTALL_HINT = 'libslirp0 is not installed: run `apt-get install libslirp0` (Debian/Ubuntu) or install your distribution\'s libslirp';

// ---- constants, <slirp/libslirp.h> ---------------------------------------------

/** Event bits of SlirpAddPollCb / SlirpGetREventsCb (`enum { SLIRP_POLL_IN = 1 << 0, ... }`). */
export const SLIRP_POLL_IN = 1 << 0;
/** Writable. */
export const SLIRP_POLL_OUT = 1 << 1;
/** Urgent data. */
export const SLIRP_POLL_PRI = 1 << 2;
/** Error. */
export const SLIRP_POLL_ERR = 1 << 3;
/** Hang-up. */
export const SLIRP_POLL_HUP = 1 << 4;

/** `enum SlirpTimerId`: the only timer libslirp 4.7 creates (IPv6 router advertisements). */
export const SLIRP_TIMER_RA = 0;

/** The SlirpConfig version this binding fills (fields up to `disable_dhcp`). */
export const SLIRP_CONFIG_VERSION = 4;

// poll(2) bits, <asm-generic/poll.h>: they are NOT the SLIRP_POLL_* values.
const POLLIN = 0x001;
const POLLPRI = 0x002;
const POLLOUT = 0x004;
const POLLERR = 0x008;
const POLLHUP = 0x010;

/** Translates SLIRP_POLL_* bits to poll(2) `events` bits. */
export function slirpToPollEvents(slirp: number): number {
  return (
    (slirp & SLIRP_POLL_IN ? POLLIN : 0) |
    (slirp & SLIRP_POLL_OUT ? POLLOUT : 0) |
    (slirp & SLIRP_POLL_PRI ? POLLPRI : 0) |
    (slirp & SLIRP_POLL_ERR ? POLLERR : 0) |
    (slirp & SLIRP_POLL_HUP ? POLLHUP : 0)
  );
}

/** Translates poll(2) `revents` bits back to SLIRP_POLL_* bits. */
export function pollToSlirpEvents(revents: number): number {
  return (
    (revents & POLLIN ? SLIRP_POLL_IN : 0) |
    (revents & POLLOUT ? SLIRP_POLL_OUT : 0) |
    (revents & POLLPRI ? SLIRP_POLL_PRI : 0) |
    (revents & POLLERR ? SLIRP_POLL_ERR : 0) |
    (revents & POLLHUP ? SLIRP_POLL_HUP : 0)
  );
}

// ---- types -----------------------------------------------------------------------

/** `typedef ssize_t (*SlirpWriteCb)(const void *buf, size_t len, void *opaque);` */
export const SlirpWriteCb = koffi.proto('intptr_t SlirpWriteCb(void *buf, size_t len, void *opaque)');
/** `typedef void (*SlirpTimerCb)(void *opaque);` */
export const SlirpTimerCb = koffi.proto('void SlirpTimerCb(void *opaque)');
/** `typedef int (*SlirpAddPollCb)(int fd, int events, void *opaque);` */
export const SlirpAddPollCb = koffi.proto('int SlirpAddPollCb(int fd, int events, void *opaque)');
/** `typedef int (*SlirpGetREventsCb)(int idx, void *opaque);` */
export const SlirpGetREventsCb = koffi.proto('int SlirpGetREventsCb(int idx, void *opaque)');
/** SlirpCb.guest_error: `void (*)(const char *msg, void *opaque)`. */
export const SlirpGuestErrorCb = koffi.proto('void SlirpGuestErrorCb(const char *msg, void *opaque)');
/** SlirpCb.clock_get_ns: `int64_t (*)(void *opaque)`, nanoseconds of a monotonic clock. */
export const SlirpClockCb = koffi.proto('int64_t SlirpClockCb(void *opaque)');
/** SlirpCb.timer_new: `void *(*)(SlirpTimerCb cb, void *cb_opaque, void *opaque)`. */
export const SlirpTimerNewCb = koffi.proto('void *SlirpTimerNewCb(void *cb, void *cb_opaque, void *opaque)');
/** SlirpCb.timer_free: `void (*)(void *timer, void *opaque)`. */
export const SlirpTimerFreeCb = koffi.proto('void SlirpTimerFreeCb(void *timer, void *opaque)');
/** SlirpCb.timer_mod: `void (*)(void *timer, int64_t expire_time_ms, void *opaque)`. */
export const SlirpTimerModCb = koffi.proto('void SlirpTimerModCb(void *timer, int64_t expire_time, void *opaque)');
/** SlirpCb.register_poll_fd / unregister_poll_fd: `void (*)(int fd, void *opaque)`. */
export const SlirpPollFdCb = koffi.proto('void SlirpPollFdCb(int fd, void *opaque)');
/** SlirpCb.notify: `void (*)(void *opaque)`. */
export const SlirpNotifyCb = koffi.proto('void SlirpNotifyCb(void *opaque)');
/** SlirpCb.init_completed (version 4): `void (*)(Slirp *slirp, void *opaque)`. */
export const SlirpInitCompletedCb = koffi.proto('void SlirpInitCompletedCb(void *slirp, void *opaque)');
/** SlirpCb.timer_new_opaque (version 4): `void *(*)(SlirpTimerId id, void *cb_opaque, void *opaque)`. */
export const SlirpTimerNewOpaqueCb = koffi.proto('void *SlirpTimerNewOpaqueCb(int id, void *cb_opaque, void *opaque)');

/**
 * `typedef struct SlirpCb`, <slirp/libslirp.h> (4.7): eleven function pointers,
 * 88 bytes; the last two exist from SlirpConfig version 4 on.
 */
export const SlirpCbType = koffi.struct('SlirpCb', {
  send_packet: koffi.pointer(SlirpWriteCb),
  guest_error: koffi.pointer(SlirpGuestErrorCb),
  clock_get_ns: koffi.pointer(SlirpClockCb),
  timer_new: koffi.pointer(SlirpTimerNewCb),
  timer_free: koffi.pointer(SlirpTimerFreeCb),
  timer_mod: koffi.pointer(SlirpTimerModCb),
  register_poll_fd: koffi.pointer(SlirpPollFdCb),
  unregister_poll_fd: koffi.pointer(SlirpPollFdCb),
  notify: koffi.pointer(SlirpNotifyCb),
  init_completed: koffi.pointer(SlirpInitCompletedCb),
  timer_new_opaque: koffi.pointer(SlirpTimerNewOpaqueCb),
});

/**
 * `typedef struct SlirpConfig`, <slirp/libslirp.h> (4.7), version 4: 184 bytes.
 * `struct in_addr` is one network-order uint32; `struct in6_addr` is modelled as
 * uint32[4] so that it gets its 4-byte alignment.
 *
 * ```
 *   0 version u32        4 restricted int      8 in_enabled bool
 *  12 vnetwork          16 vnetmask           20 vhost            (in_addr)
 *  24 in6_enabled bool  28 vprefix_addr6[16]  44 vprefix_len u8   48 vhost6[16]
 *  64 vhostname*        72 tftp_server_name*  80 tftp_path*       88 bootfile*
 *  96 vdhcp_start      100 vnameserver       104 vnameserver6[16]
 * 120 vdnssearch**     128 vdomainname*      136 if_mtu size_t   144 if_mru size_t
 * 152 disable_host_loopback bool  153 enable_emu bool              (version 1 ends)
 * 160 outbound_addr*   168 outbound_addr6*                         (version 2)
 * 176 disable_dns bool                                             (version 3)
 * 177 disable_dhcp bool                                            (version 4)  -> 184
 * ```
 */
export const SlirpConfigType = koffi.struct('SlirpConfig', {
  version: 'uint32_t',
  restricted: 'int',
  in_enabled: 'bool',
  vnetwork: 'uint32_t',
  vnetmask: 'uint32_t',
  vhost: 'uint32_t',
  in6_enabled: 'bool',
  vprefix_addr6: koffi.array('uint32_t', 4),
  vprefix_len: 'uint8_t',
  vhost6: koffi.array('uint32_t', 4),
  vhostname: 'void *',
  tftp_server_name: 'void *',
  tftp_path: 'void *',
  bootfile: 'void *',
  vdhcp_start: 'uint32_t',
  vnameserver: 'uint32_t',
  vnameserver6: koffi.array('uint32_t', 4),
  vdnssearch: 'void *',
  vdomainname: 'void *',
  if_mtu: 'size_t',
  if_mru: 'size_t',
  disable_host_loopback: 'bool',
  enable_emu: 'bool',
  outbound_addr: 'void *',
  outbound_addr6: 'void *',
  disable_dns: 'bool',
  disable_dhcp: 'bool',
});

/** The JavaScript shape of a SlirpConfig (addresses already as `inAddr()` values). */
export interface SlirpConfigValue {
  version: number;
  restricted: number;
  in_enabled: boolean;
  vnetwork: number;
  vnetmask: number;
  vhost: number;
  in6_enabled: boolean;
  vprefix_addr6: number[];
  vprefix_len: number;
  vhost6: number[];
  vhostname: null;
  tftp_server_name: null;
  tftp_path: null;
  bootfile: null;
  vdhcp_start: number;
  vnameserver: number;
  vnameserver6: number[];
  vdnssearch: null;
  vdomainname: null;
  if_mtu: number;
  if_mru: number;
  disable_host_loopback: boolean;
  enable_emu: boolean;
  outbound_addr: null;
  outbound_addr6: null;
  disable_dns: boolean;
  disable_dhcp: boolean;
}

/** The JavaScript shape of a SlirpCb: registered callback pointers (koffi BigInts). */
export type SlirpCbValue = Record<
  | 'send_packet' | 'guest_error' | 'clock_get_ns' | 'timer_new' | 'timer_free' | 'timer_mod'
  | 'register_poll_fd' | 'unregister_poll_fd' | 'notify' | 'init_completed' | 'timer_new_opaque',
  bigint
>;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const scratch = new DataView(new ArrayBuffer(4));

/**
 * The `struct in_addr` value of a dotted quad: the uint32 whose bytes in this
 * machine's memory are the address in network order (what `inet_aton` stores).
 */
export function inAddr(text: string): number {
  const m = IPV4.exec(text);
  const parts = m?.slice(1).map(Number);
  if (!parts || parts.some((p) => p > 255)) throw new TunError('ERR_TUN_INVALID_OPTION', `not an IPv4 address: ${text}`);
  parts.forEach((p, i) => scratch.setUint8(i, p));
  return scratch.getUint32(0, true); // x86-64 and arm64 Linux: little-endian memory
}

/** The 4-byte `struct in_addr` buffer of a dotted quad, for `struct in_addr *` parameters. */
export function inAddrBytes(text: string): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, inAddr(text), true);
  return out;
}

/** The libslirp functions the example calls, bound in this thread. */
export interface LibSlirp {
  /** `const char *slirp_version_string(void)`. */
  versionString(): string;
  /** `Slirp *slirp_new(const SlirpConfig *cfg, const SlirpCb *callbacks, void *opaque)`; 0n on failure. */
  newStack(cfg: SlirpConfigValue, callbacks: SlirpCbValue, opaque: null): bigint | null;
  /** `void slirp_cleanup(Slirp *slirp)`. */
  cleanup(slirp: bigint): void;
  /** `void slirp_input(Slirp *slirp, const uint8_t *pkt, int pkt_len)`: one guest frame into the stack. */
  input(slirp: bigint, frame: Uint8Array, length: number): void;
  /** `void slirp_pollfds_fill(Slirp *, uint32_t *timeout, SlirpAddPollCb, void *)`; `timeout` in ms, in/out. */
  pollfdsFill(slirp: bigint, timeoutMs: Uint32Array, addPoll: bigint, opaque: null): void;
  /** `void slirp_pollfds_poll(Slirp *, int select_error, SlirpGetREventsCb, void *)`. */
  pollfdsPoll(slirp: bigint, selectError: number, getRevents: bigint, opaque: null): void;
  /** `void slirp_handle_timer(Slirp *, SlirpTimerId id, void *cb_opaque)` (4.7). */
  handleTimer(slirp: bigint, id: number, cbOpaque: bigint | null): void;
  /** `int slirp_add_unix(Slirp *, const char *unixsock, struct in_addr *guest_addr, int guest_port)`; 0 on success. */
  addUnix(slirp: bigint, unixPath: string, guestAddr: Uint8Array, guestPort: number): number;
  /** Calls a `SlirpTimerCb` function pointer handed to `timer_new`. */
  callTimer(cb: bigint, cbOpaque: bigint | null): void;
}

const bound = new Map<string, LibSlirp>();

/**
 * Loads libslirp in this thread and binds its functions (once per path). Throws
 * `ERR_TUN_SLIRP_MISSING` (with the install hint) when the library is absent.
 */
export function loadLibSlirp(path: string = LIBSLIRP_SONAME): LibSlirp {
  const cached = bound.get(path);
  if (cached) return cached;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(path);
  } catch (err) {
    throw new TunError('ERR_TUN_SLIRP_MISSING', `cannot load ${path}: ${LIBSLIRP_INSTALL_HINT}`, { cause: err });
  }
  const version = lib.func('const char *slirp_version_string(void)');
  const slirpNew = lib.func('void *slirp_new(const SlirpConfig *cfg, const SlirpCb *callbacks, void *opaque)');
  const cleanup = lib.func('void slirp_cleanup(void *slirp)');
  const input = lib.func('void slirp_input(void *slirp, const void *pkt, int pkt_len)');
  const fill = lib.func('void slirp_pollfds_fill(void *slirp, void *timeout, SlirpAddPollCb *add_poll, void *opaque)');
  const poll = lib.func('void slirp_pollfds_poll(void *slirp, int select_error, SlirpGetREventsCb *get_revents, void *opaque)');
  const handleTimer = lib.func('void slirp_handle_timer(void *slirp, int id, void *cb_opaque)');
  const addUnix = lib.func('int slirp_add_unix(void *slirp, const char *unixsock, const void *guest_addr, int guest_port)');
  const api: LibSlirp = {
    versionString: () => version() as string,
    newStack: (cfg, callbacks, opaque) => slirpNew(cfg, callbacks, opaque) as bigint | null,
    cleanup: (slirp) => cleanup(slirp),
    input: (slirp, frame, length) => input(slirp, frame, length),
    pollfdsFill: (slirp, timeoutMs, addPoll, opaque) => fill(slirp, timeoutMs, addPoll, opaque),
    pollfdsPoll: (slirp, selectError, getRevents, opaque) => poll(slirp, selectError, getRevents, opaque),
    handleTimer: (slirp, id, cbOpaque) => handleTimer(slirp, id, cbOpaque),
    addUnix: (slirp, unixPath, guestAddr, guestPort) => addUnix(slirp, unixPath, guestAddr, guestPort) as number,
    callTimer: (cb, cbOpaque) => koffi.call(cb, SlirpTimerCb, cbOpaque),
  };
  bound.set(path, api);
  return api;
}

/** Returns null when libslirp can be loaded, else what to tell the user. */
export function libSlirpMissing(path: string = LIBSLIRP_SONAME): string | null {
  try {
    loadLibSlirp(path);
    return null;
  } catch (err) {
    return err instanceof TunError ? err.message : String(err);
  }
}
