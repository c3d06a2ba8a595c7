/**
 * Every fd tunpipe opens is close-on-exec (issue #8, security): TUN fds (built,
 * cloned queues, queue sets, openTun), the poll thread's eventfd, the queue
 * workers' eventfds, rtnetlink sockets, network-namespace fds. Otherwise any
 * program the application starts would inherit a live device (and could read
 * and write its packets) or a netlink socket of a privileged namespace.
 *
 * Oracles: /proc/self/fdinfo/N `flags` (O_CLOEXEC bit) for every fd that opening
 * these objects added, and a child process (`ls -l /proc/self/fd`) that must not
 * see any of them. A deliberately inheritable fd checks that both oracles see
 * the difference.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { DeviceBuilder, Rtnetlink, enterNetns, openNetnsFd, sys, constants } from '@tunpipe/core';
import { openQueues } from '@tunpipe/linux-mq';
import { openTun } from '@tunpipe/streams';
import { createNetns, requireNetAdmin } from '@tunpipe/testkit';
import { FDINFO_CLOEXEC, fdTable, newFds, parseLsFd, type FdEntry } from './support/fd-table.js';

/** The fds a child process started now can see, by number. */
function childFds(): Map<number, string> {
  const r = spawnSync('ls', ['-l', '/proc/self/fd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ls failed: ${r.stderr}`);
  return parseLsFd(r.stdout);
}

/** The fds in `fds` that a child started now inherits (same number, same target). */
function inherited(fds: readonly FdEntry[]): FdEntry[] {
  const child = childFds();
  return fds.filter((e) => child.get(e.fd) === e.target);
}

t.test('the oracles tell an inheritable fd from a close-on-exec one', async (t) => {
  const before = fdTable();
  const leaky = sys.open('/dev/null', constants.O_RDONLY, 0);
  const tight = sys.open('/dev/null', constants.O_RDONLY | constants.O_CLOEXEC, 0);
  t.ok(leaky >= 0 && tight >= 0, 'opened /dev/null twice');
  try {
    const added = newFds(before, fdTable());
    const byFd = new Map(added.map((e) => [e.fd, e]));
    t.equal(byFd.get(leaky)!.flags & FDINFO_CLOEXEC, 0, 'fdinfo: no O_CLOEXEC without the flag');
    t.equal(byFd.get(tight)!.flags & FDINFO_CLOEXEC, FDINFO_CLOEXEC, 'fdinfo: O_CLOEXEC with it');
    t.same(inherited(added).map((e) => e.fd), [leaky], 'the child inherits exactly the fd without the flag');
  } finally {
    sys.close(leaky);
    sys.close(tight);
  }
});

t.test('every fd opened by builders, queues, queue sets, openTun, Rtnetlink and netns is close-on-exec', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'cloexec');
  const before = fdTable();
  const closers: Array<() => unknown> = [];
  t.teardown(async () => {
    for (const close of closers.reverse()) await close();
  });

  const nsFd = openNetnsFd(ns.name);
  closers.push(() => sys.close(nsFd));
  const entry = enterNetns(nsFd); // holds an fd of the namespace to come back to
  closers.push(() => entry.exit());
  const dev = new DeviceBuilder().name('tpcx0').ipv4('198.18.11.1', 24).multiQueue(true).build();
  closers.push(() => dev[Symbol.asyncDispose]());
  const queue = dev.cloneQueue();
  closers.push(() => queue[Symbol.asyncDispose]());
  const rtnl = Rtnetlink.open();
  closers.push(() => rtnl.close());
  const set = await openQueues({ devices: [new DeviceBuilder().name('tpcx1').ipv4('198.18.12.1', 24)], queues: 2, execArgv: [] });
  closers.push(() => set.close());
  const tun = await openTun({ name: 'tpcx2', ipv4: { address: '198.18.13.1', prefix: 24 }, queues: 2 });
  closers.push(() => tun.close());
  // A waiting recv starts the Device's poll thread and its eventfd.
  const abort = new AbortController();
  const waiting = dev.recv(new Uint8Array(2048), { signal: abort.signal }).catch(() => undefined);
  closers.push(async () => {
    abort.abort();
    await waiting;
  });
  const deadline = Date.now() + 10_000;
  let added = newFds(before, fdTable());
  while (!added.some((e) => e.target === 'anon_inode:[eventfd]') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    added = newFds(before, fdTable());
  }
  entry.exit();

  const count = (pred: (e: FdEntry) => boolean): number => added.filter(pred).length;
  const tunFds = count((e) => e.target === '/dev/net/tun');
  t.ok(tunFds >= 6, `${tunFds} TUN fds (device, cloned queue, 2 queue-set queues, 2 openTun queues)`);
  t.ok(count((e) => e.target === 'anon_inode:[eventfd]') >= 5, 'eventfds (poll thread, queue workers)');
  t.ok(count((e) => e.target.startsWith('socket:')) >= 4, 'netlink sockets (each Device, Rtnetlink)');
  // A bind-mounted namespace reads back as its path, a /proc one as net:[inode].
  t.ok(count((e) => e.target.startsWith('net:') || e.target.startsWith('/run/netns/')) >= 2, 'namespace fds (openNetnsFd, enterNetns)');

  const leaky = added.filter((e) => (e.flags & FDINFO_CLOEXEC) === 0);
  t.same(leaky, [], `all ${added.length} new fds carry O_CLOEXEC`);
  t.same(inherited(added), [], 'a child process inherits none of them');
});
