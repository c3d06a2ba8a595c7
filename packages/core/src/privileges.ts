/**
 * `dropPrivileges`: give up root (or CAP_NET_ADMIN) for good once the devices are
 * open, the way a daemon that binds a low port then runs as `nobody`.
 *
 * An open TUN fd keeps working without any privilege: the kernel checks
 * CAP_NET_ADMIN (or the device's owner/group) when the fd is attached with
 * TUNSETIFF, never on read/write. So a program can build its devices, start its
 * queue workers, and then drop to an unprivileged user:
 *
 *     const dev = new DeviceBuilder().name('tp0').ipv4('198.18.0.1', 24).build();
 *     const set = await openQueues({ devices: [...] });
 *     dropPrivileges({ uid: 65534, gid: 65534 });   // nobody:nogroup, no groups
 *
 * The switch happens in the order that cannot strand privileges:
 *
 *     setgroups(groups)        needs CAP_SETGID, so before the gid changes
 *     setresgid(g, g, g)       needs CAP_SETGID, so before the uid changes
 *     setresuid(u, u, u)       real, effective AND saved: no way back via seteuid
 *     prctl(NO_NEW_PRIVS)      no setuid binary / file capability can grant it back
 *
 * glibc applies each id change to every thread of the process (it signals each
 * thread to make the same system call: the `SIGSETXID` broadcast), so Node's
 * worker threads, libuv's threadpool, device poll threads and linux-mq queue
 * workers all switch too. Afterwards everything is verified from the kernel's
 * point of view: getresuid/getresgid/getgroups, then the Uid/Gid and capability
 * lines of every thread in /proc/self/task, then an attempt to become root again
 * (which must fail). There is deliberately no option to keep capabilities.
 * (Node's `process.setgroups/setgid/setuid` can reach the same ids, but nothing
 * enforces the order, sets no_new_privs or checks the result on every thread.)
 *
 * What keeps working afterwards: packet I/O on the fds already open (Device
 * send/recv, queue workers). What stops working: creating or attaching devices
 * (EPERM, unless the device's owner/group allows the new uid), configuration
 * through rtnetlink (addresses, MTU, link state: EPERM), `cloneQueue`,
 * `moveToNetns`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { TunError } from '@tunpipe/offload';
import { sys, osError } from './libc.js';
import { PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS } from './constants.js';
import { validateBoolean, validateId } from './validate.js';

/** What `dropPrivileges` switches the process to. */
export interface DropPrivilegesOptions {
  /** The user to become: real, effective and saved-set uid alike. */
  uid: number;
  /** The primary group to become: real, effective and saved-set gid alike. */
  gid: number;
  /** Supplementary groups afterwards. Default `[]`: none (root's groups must not survive the drop). */
  groups?: readonly number[];
  /** Set no_new_privs (PR_SET_NO_NEW_PRIVS): a later execve cannot gain privileges (setuid binaries, file capabilities). Default true. */
  noNewPrivileges?: boolean;
}

/** Real, effective and saved-set ids, as getresuid/getresgid report them. */
export interface IdTriple {
  /** Real id. */
  real: number;
  /** Effective id (what permission checks use). */
  effective: number;
  /** Saved-set id (what seteuid could switch back to). */
  saved: number;
}

/** The credentials of the process as the kernel reports them. */
export interface ProcessCredentials {
  /** User ids. */
  uid: IdTriple;
  /** Group ids. */
  gid: IdTriple;
  /** Supplementary groups, ascending. */
  groups: number[];
  /** True when no_new_privs is set. */
  noNewPrivileges: boolean;
}

/** The kernel's limit on supplementary groups (NGROUPS_MAX, <linux/limits.h>). */
const NGROUPS_MAX = 65536;
/** Where each thread's credentials can be read. */
const TASK_DIR = '/proc/self/task';

/** Reads the process's real/effective/saved uids and gids, supplementary groups and no_new_privs. */
export function processCredentials(): ProcessCredentials {
  const r = new Uint32Array(1);
  const e = new Uint32Array(1);
  const s = new Uint32Array(1);
  if (sys.getresuid(r, e, s) < 0) throw osError('ERR_TUN_PRIVILEGES', 'getresuid');
  const uid = { real: r[0]!, effective: e[0]!, saved: s[0]! };
  if (sys.getresgid(r, e, s) < 0) throw osError('ERR_TUN_PRIVILEGES', 'getresgid');
  const gid = { real: r[0]!, effective: e[0]!, saved: s[0]! };
  const nnp = sys.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (nnp < 0) throw osError('ERR_TUN_PRIVILEGES', 'prctl(PR_GET_NO_NEW_PRIVS)');
  return { uid, gid, groups: supplementaryGroups(), noNewPrivileges: nnp === 1 };
}

/**
 * Switches the whole process (every thread) to `uid`/`gid` with only `groups` as
 * supplementary groups, for good, and verifies it; returns the new credentials.
 * Needs CAP_SETUID and CAP_SETGID (root). Throws `ERR_TUN_INVALID_ARGUMENT` for
 * bad ids (nothing changed), `ERR_TUN_PRIVILEGES` with errno/syscall when the
 * kernel refuses a step or the verification finds a way back. A failure after the
 * first step leaves the process partly switched: treat it as fatal and exit.
 */
export function dropPrivileges(options: DropPrivilegesOptions): ProcessCredentials {
  if (typeof options !== 'object' || options === null) {
    throw new TunError('ERR_TUN_INVALID_ARGUMENT', 'dropPrivileges needs an options object { uid, gid }');
  }
  const uid = validateId(options.uid, 'uid');
  const gid = validateId(options.gid, 'gid');
  const groups = validateGroups(options.groups ?? []);
  const noNewPrivileges = options.noNewPrivileges === undefined ? true : validateBoolean(options.noNewPrivileges, 'noNewPrivileges');

  const list = Uint32Array.from(groups);
  if (sys.setgroups(list.length, list) < 0) throw osError('ERR_TUN_PRIVILEGES', 'setgroups', 'cannot set the supplementary groups');
  if (sys.setresgid(gid, gid, gid) < 0) throw osError('ERR_TUN_PRIVILEGES', 'setresgid', `cannot switch to gid ${gid}`);
  if (sys.setresuid(uid, uid, uid) < 0) throw osError('ERR_TUN_PRIVILEGES', 'setresuid', `cannot switch to uid ${uid}`);
  if (noNewPrivileges && sys.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    throw osError('ERR_TUN_PRIVILEGES', 'prctl(PR_SET_NO_NEW_PRIVS)');
  }
  return verifyDropped(uid, gid, groups, noNewPrivileges);
}

/** Checks from the kernel's side that the drop took, on every thread, and cannot be undone. */
function verifyDropped(uid: number, gid: number, groups: number[], noNewPrivileges: boolean): ProcessCredentials {
  const now = processCredentials();
  const same = (t: IdTriple, id: number): boolean => t.real === id && t.effective === id && t.saved === id;
  if (!same(now.uid, uid) || !same(now.gid, gid)) {
    throw new TunError('ERR_TUN_PRIVILEGES', `ids after the drop are uid ${show(now.uid)} gid ${show(now.gid)}, wanted ${uid} and ${gid}`);
  }
  if (now.groups.join() !== groups.join()) {
    throw new TunError('ERR_TUN_PRIVILEGES', `supplementary groups after the drop are [${now.groups.join()}], wanted [${groups.join()}]`);
  }
  if (noNewPrivileges && !now.noNewPrivileges) throw new TunError('ERR_TUN_PRIVILEGES', 'no_new_privs did not stick');
  for (const task of threadCredentials()) {
    if (task.uid.some((id) => id !== uid) || task.gid.some((id) => id !== gid)) {
      throw new TunError('ERR_TUN_PRIVILEGES', `thread ${task.tid} kept other ids (Uid ${task.uid.join(' ')}, Gid ${task.gid.join(' ')})`);
    }
    if (uid !== 0 && (task.capPrm !== 0n || task.capEff !== 0n || task.capAmb !== 0n)) {
      throw new TunError('ERR_TUN_PRIVILEGES', `thread ${task.tid} kept capabilities (CapPrm ${task.capPrm.toString(16)}, CapEff ${task.capEff.toString(16)})`);
    }
  }
  // The way back must be closed: becoming root again has to fail.
  if (uid !== 0 && sys.setresuid(0, 0, 0) === 0) {
    throw new TunError('ERR_TUN_PRIVILEGES', 'setresuid(0, 0, 0) succeeded after the drop');
  }
  if (uid !== 0 && gid !== 0 && sys.setresgid(0, 0, 0) === 0) {
    throw new TunError('ERR_TUN_PRIVILEGES', 'setresgid(0, 0, 0) succeeded after the drop');
  }
  return now;
}

/** One thread's ids and capability sets, from /proc/self/task/<tid>/status. */
interface ThreadCredentials {
  tid: number;
  /** Real, effective, saved, filesystem uid. */
  uid: number[];
  /** Real, effective, saved, filesystem gid. */
  gid: number[];
  capPrm: bigint;
  capEff: bigint;
  capAmb: bigint;
}

/** The credentials of every thread of the process (threads that exit meanwhile are skipped). */
function threadCredentials(): ThreadCredentials[] {
  const out: ThreadCredentials[] = [];
  for (const name of readdirSync(TASK_DIR)) {
    let status: string;
    try {
      status = readFileSync(`${TASK_DIR}/${name}/status`, 'utf8');
    } catch {
      continue; // the thread exited between readdir and read
    }
    const ids = (key: string): number[] => (new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
    const caps = (key: string): bigint => BigInt(`0x${new RegExp(`^${key}:\\s+([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? 'ffffffffffffffff'}`);
    out.push({ tid: Number(name), uid: ids('Uid'), gid: ids('Gid'), capPrm: caps('CapPrm'), capEff: caps('CapEff'), capAmb: caps('CapAmb') });
  }
  return out;
}

/** The calling thread's supplementary groups, ascending. */
function supplementaryGroups(): number[] {
  const n = sys.getgroups(0, null);
  if (n < 0) throw osError('ERR_TUN_PRIVILEGES', 'getgroups');
  const list = new Uint32Array(Math.max(n, 1));
  const got = sys.getgroups(n, list);
  if (got < 0) throw osError('ERR_TUN_PRIVILEGES', 'getgroups');
  return Array.from(list.subarray(0, got)).sort((a, b) => a - b);
}

/** A valid supplementary group list, ascending and without duplicates. */
function validateGroups(groups: unknown): number[] {
  if (!Array.isArray(groups)) throw new TunError('ERR_TUN_INVALID_ARGUMENT', 'groups must be an array of gids');
  if (groups.length > NGROUPS_MAX) throw new TunError('ERR_TUN_INVALID_ARGUMENT', `at most ${NGROUPS_MAX} supplementary groups, got ${groups.length}`);
  const valid = groups.map((g: unknown) => validateId(g, 'gid'));
  return [...new Set(valid)].sort((a, b) => a - b);
}

function show(t: IdTriple): string {
  return `${t.real}/${t.effective}/${t.saved}`;
}
