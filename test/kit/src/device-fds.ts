/**
 * The fds of this process that reach the kernel's devices: /dev/net/tun and
 * NETLINK_ROUTE sockets (matched by inode against /proc/self/net/netlink, whose
 * `Eth` column is the netlink protocol). Fuzz targets that only parse or plan
 * (core's parsers, openTun's option check, the CLI's planning) must end a run
 * with as many of them as they began with. Other fds (files a target of another
 * suite writes in a parallel worker) are not counted.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** NETLINK_ROUTE, <linux/netlink.h>. */
const NETLINK_ROUTE = 0;

/** Inodes of this process's NETLINK_ROUTE sockets. */
function routeSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  const lines = readFileSync('/proc/self/net/netlink', 'utf8').trim().split('\n').slice(1);
  for (const line of lines) {
    const cols = line.trim().split(/\s+/);
    if (Number(cols[1]) === NETLINK_ROUTE && cols[9] !== undefined) inodes.add(cols[9]);
  }
  return inodes;
}

/** Count of this process's fds open on /dev/net/tun or on a NETLINK_ROUTE socket. */
export function deviceFds(): number {
  const route = routeSocketInodes();
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed between the listing and the readlink
    }
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    if (target === '/dev/net/tun' || (socket !== null && route.has(socket[1]!))) n++;
  }
  return n;
}
