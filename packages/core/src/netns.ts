/**
 * Network namespaces for the calling thread: open a namespace file, enter it with
 * setns(2), come back.
 *
 * A network namespace belongs to a thread, not to the process. After
 * `enterNetns(x)` on the main thread, sockets (an `Rtnetlink`), TUN devices and
 * child processes the main thread creates live in `x`, and worker threads started
 * afterwards begin there; libuv's threadpool and workers already running do not
 * move. Objects created inside keep their namespace after the thread leaves it.
 *
 * Names resolve like `ip netns`: a bare name is `/var/run/netns/<name>`; anything
 * with a `/` is a path (`/proc/<pid>/ns/net`, a bind mount...).
 */
import { TunError } from '@tunpipe/offload';
import { check, errno, osError, sys } from './libc.js';
import { CLONE_NEWNET, O_CLOEXEC, O_RDONLY } from './constants.js';

/** Where `ip netns add` mounts named namespaces. */
export const NETNS_RUN_DIR = '/var/run/netns';
/** The calling thread's own network namespace. */
const THREAD_NETNS = '/proc/thread-self/ns/net';

/** The namespace file a name or path stands for. */
export function netnsPath(nameOrPath: string): string {
  if (typeof nameOrPath !== 'string' || nameOrPath === '' || nameOrPath.includes('\0')) {
    throw new TunError('ERR_TUN_NETNS', `invalid network namespace: ${JSON.stringify(nameOrPath)}`);
  }
  if (nameOrPath.includes('/')) return nameOrPath;
  if (nameOrPath === '.' || nameOrPath === '..') {
    throw new TunError('ERR_TUN_NETNS', `invalid network namespace name: ${JSON.stringify(nameOrPath)}`);
  }
  return `${NETNS_RUN_DIR}/${nameOrPath}`;
}

/**
 * Opens a network namespace (a name under /var/run/netns, or a path) read-only and
 * close-on-exec, for `setns` or `Rtnetlink.moveToNetns`. The caller closes the fd.
 */
export function openNetnsFd(nameOrPath: string): number {
  const path = netnsPath(nameOrPath);
  return check(sys.open(path, O_RDONLY | O_CLOEXEC, 0), 'ERR_TUN_NETNS', 'open', path);
}

/** A thread's stay in a namespace: `exit()` (or disposing it) moves the thread back. */
export class NetnsEntry implements Disposable {
  private saved: number;

  /** @internal use `enterNetns`. */
  constructor(saved: number) {
    this.saved = saved;
  }

  /** True until `exit()` ran. */
  get active(): boolean {
    return this.saved >= 0;
  }

  /** Moves the calling thread back to the namespace it was in before. Idempotent. */
  exit(): void {
    if (this.saved < 0) return;
    const fd = this.saved;
    this.saved = -1;
    const ret = sys.setns(fd, CLONE_NEWNET);
    const err = errno();
    sys.close(fd);
    if (ret < 0) throw osError('ERR_TUN_NETNS', 'setns', 'returning to the previous network namespace', err);
  }

  /** Same as `exit()`. */
  [Symbol.dispose](): void {
    this.exit();
  }
}

/**
 * Moves the calling thread into a network namespace: a name under /var/run/netns,
 * a path, or an open namespace fd (not closed here). Dispose the result (or call
 * `exit()`) to move back:
 *
 *     { using _ = enterNetns('tp-demo'); rtnl = Rtnetlink.open(); }
 *
 * Errors carry code `ERR_TUN_NETNS` (ENOENT: no such namespace; EPERM: no
 * CAP_SYS_ADMIN; EINVAL: not a network namespace).
 */
export function enterNetns(target: string | number): NetnsEntry {
  const saved = check(sys.open(THREAD_NETNS, O_RDONLY | O_CLOEXEC, 0), 'ERR_TUN_NETNS', 'open', THREAD_NETNS);
  let fd = -1;
  try {
    if (typeof target === 'number') {
      if (!Number.isInteger(target) || target < 0) throw new TunError('ERR_TUN_NETNS', `invalid namespace fd: ${target}`);
      fd = target;
    } else {
      fd = openNetnsFd(target);
    }
    check(sys.setns(fd, CLONE_NEWNET), 'ERR_TUN_NETNS', 'setns', typeof target === 'number' ? `fd ${target}` : netnsPath(target));
  } catch (e) {
    sys.close(saved);
    throw e;
  } finally {
    if (typeof target !== 'number' && fd >= 0) sys.close(fd);
  }
  return new NetnsEntry(saved);
}
