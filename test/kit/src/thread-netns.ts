/**
 * setns(2) for the calling thread, through testkit's own tiny koffi binding (testkit
 * must not depend on @tunpipe/core, whose tests depend on testkit).
 *
 * Network namespaces belong to threads, not processes: `setns` moves only the thread
 * that calls it. Called from the main thread, sockets and devices the main thread
 * creates afterwards live in the entered namespace, child processes spawned from it
 * and worker threads started afterwards inherit it; libuv's threadpool threads (fs,
 * dns) and workers that already run stay where they were.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
const open = libc.func('int open(const char *path, int flags, int mode)') as (path: string, flags: number, mode: number) => number;
const close = libc.func('int close(int fd)') as (fd: number) => number;
const setns = libc.func('int setns(int fd, int nstype)') as (fd: number, nstype: number) => number;

/** <linux/sched.h> */
const CLONE_NEWNET = 0x40000000;
/** <asm-generic/fcntl.h> */
const O_RDONLY = 0;
const O_CLOEXEC = 0x80000;

/** The calling thread's network namespace, as /proc shows it. */
export const THREAD_NETNS_PATH = '/proc/thread-self/ns/net';

function fail(what: string): never {
  const err = koffi.errno();
  throw new Error(`${what} failed (errno ${err})`);
}

/** Opens a namespace file (e.g. /var/run/netns/<name>) read-only, close-on-exec. */
export function openNamespaceFile(path: string): number {
  const fd = open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) fail(`open(${path})`);
  return fd;
}

/** Closes an fd returned by `openNamespaceFile`. */
export function closeFd(fd: number): void {
  if (close(fd) < 0) fail(`close(${fd})`);
}

/** Moves the calling thread into the network namespace open as `fd`. */
export function setThreadNetns(fd: number): void {
  if (setns(fd, CLONE_NEWNET) < 0) fail('setns(CLONE_NEWNET)');
}

/**
 * Moves the calling thread into the namespace at `path`; the returned function moves
 * it back to where it was and may be called once.
 */
export function enterNamespaceFile(path: string): () => void {
  const saved = openNamespaceFile(THREAD_NETNS_PATH);
  let target: number;
  try {
    target = openNamespaceFile(path);
  } catch (e) {
    closeFd(saved);
    throw e;
  }
  try {
    setThreadNetns(target);
  } catch (e) {
    closeFd(saved);
    throw e;
  } finally {
    closeFd(target);
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    try {
      setThreadNetns(saved);
    } finally {
      closeFd(saved);
    }
  };
}
