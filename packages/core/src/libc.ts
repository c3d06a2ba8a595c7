/**
 * libc bindings through koffi: the only way tunpipe talks to the kernel.
 *
 * Rules (DESIGN.md):
 * - Buffers passed as `void *` are typed arrays (also SharedArrayBuffer-backed):
 *   koffi hands the kernel their memory directly, no copy.
 * - Never use koffi's `.async` calls or `fs.read` on a TUN fd: they occupy libuv's
 *   four threadpool threads. Waiting happens in `poll()` on our own threads.
 * - ioctl is declared twice: variadic for general use, and fixed-signature aliases
 *   (`ioctlPtr`, `ioctlInt`) for paths that run often.
 * - errno is read with `koffi.errno()` right after a call returns -1.
 *
 * Each thread (main or worker) that imports this module gets its own koffi
 * instance and function objects; fds are process-wide.
 */
import koffi from 'koffi';
import { TunError, type TunErrorCode } from '@tunpipe/offload';

const libc = koffi.load('libc.so.6');

/** Raw libc functions. Every function returns -1 and sets errno on failure. */
export const sys = {
  open: libc.func('int open(const char *path, int flags, int mode)') as (path: string, flags: number, mode: number) => number,
  close: libc.func('int close(int fd)') as (fd: number) => number,
  read: libc.func('long read(int fd, void *buf, unsigned long count)') as (fd: number, buf: ArrayBufferView, count: number) => number,
  write: libc.func('long write(int fd, const void *buf, unsigned long count)') as (fd: number, buf: ArrayBufferView, count: number) => number,
  /** General ioctl: pass the extra argument with its type, e.g. `ioctl(fd, req, 'int', 1)`. */
  ioctl: libc.func('int ioctl(int fd, unsigned long request, ...)') as (fd: number, request: number, ...typedArgs: unknown[]) => number,
  /** ioctl whose argument is a pointer to a buffer (struct ifreq, unsigned int...). */
  ioctlPtr: libc.func('int ioctl(int fd, unsigned long request, void *arg)') as (fd: number, request: number, arg: ArrayBufferView) => number,
  /** ioctl whose argument is an integer passed by value (TUNSETPERSIST, TUNSETOFFLOAD...). */
  ioctlInt: libc.func('int ioctl(int fd, unsigned long request, unsigned long arg)') as (fd: number, request: number, arg: number) => number,
  fcntl: libc.func('int fcntl(int fd, int cmd, long arg)') as (fd: number, cmd: number, arg: number) => number,
  /** `struct pollfd[]` as a buffer: 8 bytes each (int fd, short events, short revents). */
  poll: libc.func('int poll(void *fds, unsigned long nfds, int timeout)') as (fds: ArrayBufferView, nfds: number, timeoutMs: number) => number,
  eventfd: libc.func('int eventfd(unsigned int initval, int flags)') as (initval: number, flags: number) => number,
  dup: libc.func('int dup(int fd)') as (fd: number) => number,
  socket: libc.func('int socket(int domain, int type, int protocol)') as (domain: number, type: number, protocol: number) => number,
  bind: libc.func('int bind(int fd, const void *addr, uint32_t len)') as (fd: number, addr: ArrayBufferView, len: number) => number,
  getsockname: libc.func('int getsockname(int fd, void *addr, _Inout_ uint32_t *len)') as (fd: number, addr: ArrayBufferView, len: number[]) => number,
  setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)') as (fd: number, level: number, name: number, val: ArrayBufferView, len: number) => number,
  send: libc.func('long send(int fd, const void *buf, unsigned long len, int flags)') as (fd: number, buf: ArrayBufferView, len: number, flags: number) => number,
  recv: libc.func('long recv(int fd, void *buf, unsigned long len, int flags)') as (fd: number, buf: ArrayBufferView, len: number, flags: number) => number,
  sendto: libc.func('long sendto(int fd, const void *buf, unsigned long len, int flags, const void *addr, uint32_t alen)') as (fd: number, buf: ArrayBufferView, len: number, flags: number, addr: ArrayBufferView | null, alen: number) => number,
  ifNameToIndex: libc.func('unsigned int if_nametoindex(const char *name)') as (name: string) => number,
  setns: libc.func('int setns(int fd, int nstype)') as (fd: number, nstype: number) => number,
  gettid: libc.func('int gettid(void)') as () => number,
  getuid: libc.func('uint32_t getuid(void)') as () => number,
  getgid: libc.func('uint32_t getgid(void)') as () => number,
  /** cpu_set_t as a buffer (128 bytes = 1024 CPUs). pid 0 is the calling thread. */
  schedSetaffinity: libc.func('int sched_setaffinity(int pid, unsigned long size, const void *mask)') as (pid: number, size: number, mask: ArrayBufferView) => number,
  schedGetaffinity: libc.func('int sched_getaffinity(int pid, unsigned long size, void *mask)') as (pid: number, size: number, mask: ArrayBufferView) => number,
  /** Supplementary groups of the process (glibc applies it to every thread). `list`: gid_t[size] as a Uint32Array. */
  setgroups: libc.func('int setgroups(unsigned long size, const void *list)') as (size: number, list: ArrayBufferView) => number,
  /** Supplementary groups of the calling thread; `size` 0 returns their count. `list`: gid_t[size] as a Uint32Array. */
  getgroups: libc.func('int getgroups(int size, void *list)') as (size: number, list: ArrayBufferView | null) => number,
  /** Real, effective and saved-set user ids (glibc applies it to every thread); 0xffffffff (-1) leaves one unchanged. */
  setresuid: libc.func('int setresuid(uint32_t ruid, uint32_t euid, uint32_t suid)') as (ruid: number, euid: number, suid: number) => number,
  /** Real, effective and saved-set group ids (glibc applies it to every thread); 0xffffffff (-1) leaves one unchanged. */
  setresgid: libc.func('int setresgid(uint32_t rgid, uint32_t egid, uint32_t sgid)') as (rgid: number, egid: number, sgid: number) => number,
  /** Reads real, effective and saved-set user ids into three 1-element Uint32Arrays. */
  getresuid: libc.func('int getresuid(void *ruid, void *euid, void *suid)') as (ruid: Uint32Array, euid: Uint32Array, suid: Uint32Array) => number,
  /** Reads real, effective and saved-set group ids into three 1-element Uint32Arrays. */
  getresgid: libc.func('int getresgid(void *rgid, void *egid, void *sgid)') as (rgid: Uint32Array, egid: Uint32Array, sgid: Uint32Array) => number,
  /** prctl(2) with its four integer arguments (PR_SET_NO_NEW_PRIVS...). */
  prctl: libc.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)') as (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number,
  /**
   * Gives free memory of every malloc arena back to the kernel (madvise of whole
   * free pages, sbrk of the main arena's top beyond `pad`); 1 if any was released.
   */
  mallocTrim: libc.func('int malloc_trim(unsigned long pad)') as (pad: number) => number,
  /** mallopt(3): sets one of glibc's malloc parameters (M_TRIM_THRESHOLD, M_MMAP_THRESHOLD...); 1 on success, 0 on error. */
  mallopt: libc.func('int mallopt(int param, int value)') as (param: number, value: number) => number,
  /** The C allocator's counters summed over all arenas: struct mallinfo2, <malloc.h> (glibc 2.33+), ten size_t. */
  mallinfo2: libc.func('mallinfo2', koffi.struct({
    arena: 'size_t', ordblks: 'size_t', smblks: 'size_t', hblks: 'size_t', hblkhd: 'size_t',
    usmblks: 'size_t', fsmblks: 'size_t', uordblks: 'size_t', fordblks: 'size_t', keepcost: 'size_t',
  }), []) as () => MallInfo2,
  /** io_uring_setup(2) through syscall(2) (glibc has no wrapper): `params` is a struct io_uring_params buffer; returns the ring fd. */
  ioUringSetup: libc.func('long syscall(long nr, unsigned int entries, void *params)') as (nr: number, entries: number, params: ArrayBufferView) => number,
  /** io_uring_enter(2) through syscall(2), without a signal mask (sig NULL, size 0): returns the number of SQEs submitted. */
  ioUringEnter: libc.func('long syscall(long nr, unsigned int fd, unsigned int toSubmit, unsigned int minComplete, unsigned int flags, void *sig, unsigned long sigsz)') as (nr: number, fd: number, toSubmit: number, minComplete: number, flags: number, sig: null, sigsz: number) => number,
  /** mmap(2) of a file range (the io_uring regions); returns an opaque pointer, MAP_FAILED ((void *)-1) on failure: test with `isMapFailed`. */
  mmap: libc.func('void *mmap(void *addr, unsigned long len, int prot, int flags, int fd, long offset)') as (addr: null, len: number, prot: number, flags: number, fd: number, offset: number) => unknown,
  /** munmap(2) of a pointer `mmap` returned. */
  munmap: libc.func('int munmap(void *addr, unsigned long len)') as (addr: unknown, len: number) => number,
};

/** errno of the last failed call on this thread. */
export function errno(): number {
  return koffi.errno();
}

/** A TunError for a failed system call, reading errno now. */
export function osError(code: TunErrorCode, syscall: string, message?: string, err: number = koffi.errno()): TunError {
  const detail = message === undefined ? '' : `${message}: `;
  return new TunError(code, `${detail}${syscall} failed (${errnoText(err)})`, { errno: err, syscall });
}

function errnoText(err: number): string {
  const e = new TunError('ERR_TUN_OS', '', { errno: err });
  return e.sysCode ?? `errno ${err}`;
}

/** Throws osError when `ret < 0`; returns `ret` otherwise. */
export function check(ret: number, code: TunErrorCode, syscall: string, message?: string): number {
  if (ret < 0) throw osError(code, syscall, message);
  return ret;
}

/**
 * struct mallinfo2, <malloc.h>: `arena` bytes from sbrk plus the mmap'd heaps of
 * the other arenas, `hblkhd` bytes in chunks mmap'd on their own, `uordblks`
 * bytes in use, `fordblks` bytes free but kept, `keepcost` trimmable top.
 */
export interface MallInfo2 {
  arena: number; ordblks: number; smblks: number; hblks: number; hblkhd: number;
  usmblks: number; fsmblks: number; uordblks: number; fordblks: number; keepcost: number;
}

/**
 * The address of a typed array's first byte (its backing store plus its offset),
 * for kernel structures that carry pointers (an io_uring SQE's `addr`). Stable for
 * the life of a SharedArrayBuffer (its memory never moves); an ordinary
 * ArrayBuffer's memory may move only when it is detached or resized.
 */
export function addressOf(view: ArrayBufferView): number {
  return Number(koffi.address(view));
}

/** `true` when `mmap` returned MAP_FAILED ((void *)-1) or NULL. */
export function isMapFailed(ptr: unknown): boolean {
  if (ptr === null) return true;
  return koffi.address(ptr) === 0xffffffffffffffffn;
}

/** An ArrayBuffer over `len` bytes of memory at `ptr` (no copy): valid until that memory is unmapped. */
export function viewOf(ptr: unknown, len: number): ArrayBuffer {
  return koffi.view(ptr, len);
}
