/**
 * The process's file descriptor table as /proc shows it: what each fd points to
 * (`/proc/<pid>/fd/N`) and its open flags (`/proc/<pid>/fdinfo/N`, `flags:` in
 * octal, where O_CLOEXEC is 02000000 on Linux, <asm-generic/fcntl.h>).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** O_CLOEXEC as fdinfo prints it (octal 02000000). */
export const FDINFO_CLOEXEC = 0o2000000;

/** One open fd. */
export interface FdEntry {
  fd: number;
  /** readlink of /proc/self/fd/N: a path, `socket:[inode]`, `anon_inode:[eventfd]`, `net:[inode]`... */
  target: string;
  /** The `flags:` field of fdinfo. */
  flags: number;
}

/** Every fd of this process that is still open when it is looked at. */
export function fdTable(): Map<number, FdEntry> {
  const table = new Map<number, FdEntry>();
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      const flags = Number.parseInt(/^flags:\s*([0-7]+)$/m.exec(info)?.[1] ?? 'x', 8);
      table.set(fd, { fd, target, flags });
    } catch {
      // closed between readdir and readlink (readdir's own fd, for one)
    }
  }
  return table;
}

/** The fds of `after` that were not open (or pointed elsewhere) in `before`. */
export function newFds(before: Map<number, FdEntry>, after: Map<number, FdEntry>): FdEntry[] {
  return [...after.values()].filter((e) => before.get(e.fd)?.target !== e.target);
}

/** Parses `ls -l /proc/self/fd` output into fd number -> target. */
export function parseLsFd(output: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of output.matchAll(/\s(\d+) -> (.*)$/gm)) out.set(Number(m[1]), m[2]!);
  return out;
}
