/**
 * Kernel constants used by core. Values verified on this machine (DESIGN.md) and
 * in the uapi headers named beside each group.
 */

// <linux/if_tun.h>: ioctl request numbers (_IOW('T', n, int) / _IOR).
export const TUNSETIFF = 0x400454ca;
export const TUNSETPERSIST = 0x400454cb;
export const TUNSETOWNER = 0x400454cc;
export const TUNSETGROUP = 0x400454ce;
export const TUNGETFEATURES = 0x800454cf;
export const TUNSETOFFLOAD = 0x400454d0;
export const TUNGETIFF = 0x800454d2;
export const TUNSETVNETHDRSZ = 0x400454d8;
export const TUNSETQUEUE = 0x400454d9;

// <linux/if_tun.h>: ifr_flags for TUNSETIFF / TUNSETQUEUE.
export const IFF_TUN = 0x0001;
export const IFF_TAP = 0x0002;
export const IFF_NAPI = 0x0010;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_ATTACH_QUEUE = 0x0200;
export const IFF_DETACH_QUEUE = 0x0400;
export const IFF_PERSIST = 0x0800;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;

// <linux/if_tun.h>: TUNSETOFFLOAD bits.
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
export const TUN_F_TSO_ECN = 0x08;
export const TUN_F_UFO = 0x10;
export const TUN_F_USO4 = 0x20;
export const TUN_F_USO6 = 0x40;

// <linux/if.h>: interface flags.
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;

/** IFNAMSIZ from <linux/if.h>: 16 including the terminating NUL. */
export const IFNAMSIZ = 16;
/** sizeof(struct ifreq) on 64-bit Linux: 16-byte name + 24-byte union. */
export const IFREQ_SIZE = 40;

// <asm-generic/fcntl.h>, <sys/eventfd.h>, <poll.h>, <sched.h>
export const O_RDWR = 0x2;
export const O_NONBLOCK = 0x800;
export const O_CLOEXEC = 0x80000;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
export const EFD_NONBLOCK = 0x800;
export const EFD_CLOEXEC = 0x80000;
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
export const CLONE_NEWNET = 0x40000000;

// <asm-generic/errno-base.h>, <asm-generic/errno.h>
export const EINTR = 4;
export const EAGAIN = 11;
export const EBADFD = 77;
export const ENOBUFS = 105;

// <linux/if_tun.h>: more TUN ioctls and flags used by the device layer.
export const TUNGETVNETHDRSZ = 0x800454d7;
export const IFF_NO_CARRIER = 0x0040;
export const IFF_ONE_QUEUE = 0x2000;
export const IFF_TUN_EXCL = 0x8000;
/** Path of the TUN/TAP clone device. */
export const TUN_CLONE_PATH = '/dev/net/tun';
/** sizeof(struct virtio_net_hdr), <linux/virtio_net.h>: the default vnet header size. */
export const VIRTIO_NET_HDR_LEN = 10;
/** sizeof(struct tun_pi), <linux/if_tun.h>: flags u16 + proto be16, before each packet without IFF_NO_PI. */
export const TUN_PI_LEN = 4;

// <asm-generic/errno-base.h>, <asm-generic/errno.h>: more errno values the device layer tells apart.
export const EPERM = 1;
export const ENOENT = 2;
export const EBADF = 9;
export const EBUSY = 16;
export const ENODEV = 19;
export const EINVAL = 22;
export const EIO = 5;
export const ENXIO = 6;

// <linux/if_tun.h>: TUNGETDEVNETNS = _IO('T', 227), returns an fd of the device's network namespace (Linux >= 5.2).
export const TUNGETDEVNETNS = 0x54e3;
// <asm-generic/fcntl.h>
export const O_RDONLY = 0x0;

// ---- rtnetlink (src/netlink/) -------------------------------------------------------
// <bits/socket.h>, <linux/socket.h>: families, socket types, options, recv flags.
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0x80000;
export const SOL_SOCKET = 1;
/** SO_RCVTIMEO_OLD, <asm-generic/socket.h>: struct timeval {long sec; long usec} on 64-bit. */
export const SO_RCVTIMEO = 20;
export const SOL_NETLINK = 270;
export const MSG_PEEK = 0x2;
export const MSG_TRUNC = 0x20;

// <linux/netlink.h>
export const NETLINK_ROUTE = 0;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

// <linux/rtnetlink.h>: message types.
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

// <linux/if_link.h>: link attributes (IFLA_*) and IFLA_LINKINFO's nested ones.
export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_TXQLEN = 13;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_NET_NS_FD = 28;
export const IFLA_NUM_TX_QUEUES = 31;
export const IFLA_NUM_RX_QUEUES = 32;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;

// <linux/if_addr.h>: address attributes and flags.
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_FLAGS = 8;
export const IFA_F_NODAD = 0x02;

// <linux/rtnetlink.h>: route attributes, tables, protocols, scopes, types.
export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;
export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_COMPAT = 252;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
export const RTPROT_UNSPEC = 0;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;
export const RTN_UNSPEC = 0;
export const RTN_UNICAST = 1;

// <asm-generic/errno.h>: errno values rtnetlink callers tell apart.
export const EEXIST = 17;
export const ENETUNREACH = 101;
export const EADDRNOTAVAIL = 99;
export const ESRCH = 3;

// <linux/prctl.h>: no_new_privs (execve can no longer grant privileges: setuid bits, file capabilities).
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_GET_NO_NEW_PRIVS = 39;

// ---- io_uring (src/io-uring.ts) -----------------------------------------------------
// <asm/unistd_64.h> (x86_64 and every architecture on the generic table since 5.1)
export const SYS_io_uring_setup = 425;
export const SYS_io_uring_enter = 426;
// <linux/io_uring.h>: mmap offsets of the three regions of a ring fd.
export const IORING_OFF_SQ_RING = 0;
export const IORING_OFF_CQ_RING = 0x8000000;
export const IORING_OFF_SQES = 0x10000000;
// <linux/io_uring.h>: io_uring_params.flags
export const IORING_SETUP_CLAMP = 1 << 4;
export const IORING_SETUP_SUBMIT_ALL = 1 << 7;
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
// <linux/io_uring.h>: io_uring_params.features
export const IORING_FEAT_SINGLE_MMAP = 1 << 0;
export const IORING_FEAT_NODROP = 1 << 1;
export const IORING_FEAT_RW_CUR_POS = 1 << 3;
// <linux/io_uring.h>: io_uring_enter flags
export const IORING_ENTER_GETEVENTS = 1 << 0;
// <linux/io_uring.h>: enum io_uring_op
export const IORING_OP_NOP = 0;
export const IORING_OP_READ = 22;
// <linux/io_uring.h>: io_uring_sqe.flags
export const IOSQE_IO_LINK = 1 << 2;
// <sys/mman.h>, <asm-generic/mman-common.h>, <asm-generic/mman.h>
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_POPULATE = 0x8000;
// <asm-generic/errno.h>: io_uring's refusals and a cancelled link.
export const ENOSYS = 38;
export const ECANCELED = 125;
// <linux/fs.h>: per-I/O flag, io_uring_sqe.rw_flags: fail with EAGAIN instead of waiting.
export const RWF_NOWAIT = 0x8;

// mallopt(3) parameters, <malloc.h> (glibc).
/** Bytes of free memory at the top of an arena above which free() gives it back to the kernel. */
export const M_TRIM_THRESHOLD = -1;
/** Allocations at least this large get their own mmap (and go back to the kernel on free). */
export const M_MMAP_THRESHOLD = -3;
/** Largest M_MMAP_THRESHOLD glibc accepts on 64-bit: HEAP_MAX_SIZE / 2 (malloc/arena.c). */
export const MMAP_THRESHOLD_MAX = 32 << 20;
