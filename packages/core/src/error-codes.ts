/**
 * The stable error codes of @tunpipe/core's device layer, in one table. Every
 * error core throws is a `TunError` whose `code` is one of these; errors that come
 * from a failed system call also carry `errno`, `syscall` and `sysCode` (`EBUSY`).
 * Users and tests match on the code, never on the message.
 *
 * Invalid-input codes are thrown by `validate.ts` before any system call, so a
 * rejected build leaves nothing behind. NETLINK..NETNS come from the rtnetlink and
 * netns modules, which every configuration call goes through; PRIVILEGES from
 * `dropPrivileges`.
 */
export const DeviceErrorCode = {
  /** Interface name: empty, longer than 15 bytes of UTF-8, `.`/`..`, contains `/`, `:`, whitespace, NUL, a byte 0xa0 (a space to the kernel) or a lone surrogate, or a `%` other than one `%d`. */
  INVALID_NAME: 'ERR_TUN_INVALID_NAME',
  /** Not an IPv4/IPv6 address of the expected family (or a netmask that is not contiguous). */
  INVALID_ADDRESS: 'ERR_TUN_INVALID_ADDRESS',
  /** Prefix length outside 0..32 (IPv4) or 0..128 (IPv6), or not an integer. */
  INVALID_PREFIX: 'ERR_TUN_INVALID_PREFIX',
  /** MTU outside 68..65535 (IPv6 addresses need at least 1280). */
  INVALID_MTU: 'ERR_TUN_INVALID_MTU',
  /** Not a unicast MAC address `xx:xx:xx:xx:xx:xx` (or 6 bytes). */
  INVALID_MAC: 'ERR_TUN_INVALID_MAC',
  /** An option that does not fit the device: `macAddr` on a TUN (l3) device, an unknown layer. */
  INVALID_OPTION: 'ERR_TUN_INVALID_OPTION',
  /** Any other bad argument: uid/gid, txQueueLen, a non-integer where an integer belongs, a wrong buffer type. */
  INVALID_ARGUMENT: 'ERR_TUN_INVALID_ARGUMENT',
  /** A file descriptor that is not open, or not attached to a TUN/TAP device (`fromFd`, `borrowFd`). */
  INVALID_FD: 'ERR_TUN_INVALID_FD',
  /** `open("/dev/net/tun")` failed: module not loaded (ENOENT, ENODEV) or no permission (EACCES). */
  OPEN: 'ERR_TUN_OPEN',
  /** `ioctl(TUNSETIFF)` failed: name taken by another kind of device or all queues busy (EBUSY), no CAP_NET_ADMIN (EPERM), bad flags (EINVAL). */
  CREATE: 'ERR_TUN_CREATE',
  /** Another TUN ioctl failed (TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP, TUNGETIFF, TUNSETQUEUE...). */
  IOCTL: 'ERR_TUN_IOCTL',
  /** Offload setup failed (TUNSETVNETHDRSZ, or TUNSETOFFLOAD of the required TCP mask). */
  OFFLOAD: 'ERR_TUN_OFFLOAD',
  /** The kernel's TUN driver lacks a feature (TUNGETFEATURES), or the device cannot do it (`cloneQueue` on a single-queue device). */
  NOT_SUPPORTED: 'ERR_TUN_NOT_SUPPORTED',
  /** `read()` on the device failed with something other than EAGAIN. */
  READ: 'ERR_TUN_READ',
  /** `write()` on the device failed with something other than EAGAIN. */
  WRITE: 'ERR_TUN_WRITE',
  /** `send()` found the device's queue full (EAGAIN): drop the packet or retry later. */
  WOULD_BLOCK: 'ERR_TUN_WOULD_BLOCK',
  /** `recv()` saw no packet within its `timeout`. */
  TIMEOUT: 'ERR_TUN_TIMEOUT',
  /** `recv()` was aborted by its signal (`name` is `AbortError`, `cause` is the signal's reason). */
  ABORTED: 'ERR_TUN_ABORTED',
  /** The Device was closed, or gave its fd away with `intoRawFd()`, before or during the call. */
  CLOSED: 'ERR_TUN_CLOSED',
  /** The interface no longer exists (deleted, or its network namespace was): poll reported POLLERR/POLLHUP, read EBADFD. */
  DEVICE_GONE: 'ERR_TUN_DEVICE_GONE',
  /** The readiness (poll) thread of a Device could not start or died. */
  WAITER: 'ERR_TUN_WAITER',
  /** `removeAddress` / `setBroadcast`: the interface has no such address (no IPv4 address at all). */
  NOT_FOUND: 'ERR_TUN_NOT_FOUND',
  /** The kernel refused an rtnetlink request (`Rtnetlink`, every Device configuration call): `sysCode` says why (EEXIST, EADDRNOTAVAIL, ESRCH, EPERM, EBUSY...). */
  NETLINK: 'ERR_TUN_NETLINK',
  /** An rtnetlink reply that does not parse (a kernel/ABI mismatch, never expected). */
  NETLINK_MALFORMED: 'ERR_TUN_NETLINK_MALFORMED',
  /** rtnetlink answered ENODEV: the interface no longer exists in the namespace the Device's netlink socket is in (deleted, or moved away by someone else). */
  NO_DEVICE: 'ERR_TUN_NO_DEVICE',
  /** Opening or entering a network namespace failed (`moveToNetns` with an unknown name, no CAP_SYS_ADMIN for setns). */
  NETNS: 'ERR_TUN_NETNS',
  /** `dropPrivileges` failed: setgroups/setresgid/setresuid refused (EPERM: no CAP_SETUID/CAP_SETGID), or the check afterwards found ids or capabilities left over. */
  PRIVILEGES: 'ERR_TUN_PRIVILEGES',
  /** An io_uring could not be set up or used (`IoUring`): ENOSYS (kernel without it), EPERM (io_uring_disabled, seccomp), ENOMEM; or io_uring_enter failed. */
  IO_URING: 'ERR_TUN_IO_URING',
} as const;

/** One of the device layer's error codes. */
export type DeviceErrorCode = (typeof DeviceErrorCode)[keyof typeof DeviceErrorCode];
