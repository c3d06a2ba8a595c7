/**
 * enterNetns / openNetnsFd: the calling thread moves into a namespace and back
 * (/proc/thread-self/ns/net and `ip netns` as oracles); failures are coded
 * ERR_TUN_NETNS with errno; nothing leaks.
 */
import t from 'tap';
import { readlinkSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createNetns, openFds, requireNetAdmin } from '@tunpipe/testkit';
import { enterNetns, netnsPath, openNetnsFd } from '../src/netns.js';
import { Rtnetlink } from '../src/netlink/rtnetlink.js';
import { sys } from '../src/libc.js';

const threadNs = (): string => readlinkSync('/proc/thread-self/ns/net');
const nsId = (path: string): string => `net:[${statSync(path).ino}]`;

t.test('netnsPath: names live under /var/run/netns, paths pass through', async (t) => {
  t.equal(netnsPath('tp-x'), '/var/run/netns/tp-x');
  t.equal(netnsPath('/proc/1/ns/net'), '/proc/1/ns/net');
  for (const bad of ['', '.', '..', 'a\0b']) t.throws(() => netnsPath(bad), { code: 'ERR_TUN_NETNS' }, JSON.stringify(bad));
});

t.test('enterNetns moves the calling thread in and back; objects created inside stay inside', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'enter');
  ns.ipSync('link', 'add', 'tp-in0', 'type', 'veth', 'peer', 'name', 'tp-in1');
  const home = threadNs();
  const fds = openFds();
  let rtnl: Rtnetlink;
  {
    using entry = enterNetns(ns.name);
    t.ok(entry.active);
    t.equal(threadNs(), nsId(ns.path), 'inside after enterNetns(name)');
    t.equal(execFileSync('ip', ['-o', 'link', 'show', 'tp-in0']).toString().includes('tp-in0'), true, 'a child spawned now runs inside');
    rtnl = Rtnetlink.open();
  }
  t.equal(threadNs(), home, 'back home after dispose');
  t.ok(rtnl.linkByName('tp-in0'), 'a socket opened inside still sees the namespace');
  rtnl.close();
  t.equal(openFds(), fds, 'no fd left behind');

  const byPath = enterNetns(ns.path);
  t.equal(threadNs(), nsId(ns.path), 'inside after enterNetns(path)');
  byPath.exit();
  byPath.exit(); // idempotent
  t.notOk(byPath.active);
  t.equal(threadNs(), home);

  const fd = openNetnsFd(ns.name);
  const byFd = enterNetns(fd);
  t.equal(threadNs(), nsId(ns.path), 'inside after enterNetns(fd)');
  byFd.exit();
  t.equal(threadNs(), home);
  t.equal(sys.close(fd), 0, 'the caller\'s fd was left open');
  t.equal(openFds(), fds);
});

t.test('nested entries unwind in order', async (t) => {
  if (!requireNetAdmin(t)) return;
  const a = createNetns(t, 'nesta');
  const b = createNetns(t, 'nestb');
  const home = threadNs();
  {
    using _a = enterNetns(a.name);
    {
      using _b = enterNetns(b.name);
      t.equal(threadNs(), nsId(b.path));
    }
    t.equal(threadNs(), nsId(a.path), 'back in a');
  }
  t.equal(threadNs(), home, 'back home');
});

t.test('failures: ERR_TUN_NETNS with errno, and the thread stays where it was', async (t) => {
  if (!requireNetAdmin(t)) return;
  const home = threadNs();
  const fds = openFds();
  t.throws(() => enterNetns('tp-does-not-exist'), { code: 'ERR_TUN_NETNS', sysCode: 'ENOENT', syscall: 'open' });
  t.throws(() => openNetnsFd('tp-does-not-exist'), { code: 'ERR_TUN_NETNS', sysCode: 'ENOENT' });
  t.throws(() => enterNetns('/proc/self/ns/mnt-not-here'), { code: 'ERR_TUN_NETNS', sysCode: 'ENOENT' });
  // A namespace file of another kind: setns(CLONE_NEWNET) refuses it.
  t.throws(() => enterNetns('/proc/self/ns/uts'), { code: 'ERR_TUN_NETNS', sysCode: 'EINVAL', syscall: 'setns' });
  t.throws(() => enterNetns('/etc/hostname'), { code: 'ERR_TUN_NETNS', sysCode: 'EINVAL' }, 'not a namespace at all');
  t.throws(() => enterNetns(-3), { code: 'ERR_TUN_NETNS' });
  t.equal(threadNs(), home, 'still home');
  t.equal(openFds(), fds, 'no fd leaked by failed attempts');
});
