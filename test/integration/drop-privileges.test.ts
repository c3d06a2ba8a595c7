/**
 * Dropping privileges after opening devices (issue #8, security). A child
 * process (dropping privileges in the test runner would break later tests) opens
 * a Device parked in `recv` and a two-queue linux-mq set, then calls
 * `dropPrivileges`. Asserted from outside and inside:
 * - every thread of the process (main, the device's poll thread, both queue
 *   workers, V8 and libuv threads) has the new Uid and Gid in /proc: glibc's
 *   setxid broadcast reached them all;
 * - the open devices keep working: real `ping`s through both are answered, by the
 *   main thread and by the queue workers;
 * - the privileges are gone: a new device is refused by the kernel with EPERM
 *   (the clone device is crw-rw-rw- there, so the file mode is not what stops it),
 *   an MTU change through rtnetlink gets EPERM, setresuid(0) fails.
 */
import t from 'tap';
import { createNetns, ping, requireNetAdmin } from '@tunpipe/testkit';
import { OWNER_UID, OWNER_GID, requireUserSwitch, startWithTun } from './support/tun-user.js';

const EPERM = 1;

interface Task {
  tid: number;
  comm: string;
  uid: string;
  gid: string;
}

t.test('after dropPrivileges, open devices and queue workers keep working and nothing privileged does', async (t) => {
  if (!requireNetAdmin(t) || !requireUserSwitch(t)) return;
  const ns = createNetns(t, 'secdrop');
  ns.disableIpv6Sync();
  const child = startWithTun(t, ns, 'drop-privileges-child', [String(OWNER_UID), String(OWNER_GID)]);

  const opened = await child.next('opened');
  const baseline = new Set(opened.baseline as number[]);
  const added = (opened.opened as number[]).filter((tid) => !baseline.has(tid));
  t.ok(added.length >= 3, `${added.length} threads started by opening (poll thread + 2 queue workers at least)`);

  const dropped = await child.next('dropped');
  t.same(dropped.creds, {
    uid: { real: OWNER_UID, effective: OWNER_UID, saved: OWNER_UID },
    gid: { real: OWNER_GID, effective: OWNER_GID, saved: OWNER_GID },
    groups: [],
    noNewPrivileges: true,
  }, 'dropPrivileges returned the new credentials');
  const tasks = dropped.tasks as Task[];
  const tids = new Set(tasks.map((x) => x.tid));
  for (const tid of added) t.ok(tids.has(tid), `thread ${tid} (started for the devices) is still there and was checked`);
  const ids = (id: number): string => `${id}\t${id}\t${id}\t${id}`;
  for (const task of tasks) {
    t.equal(task.uid, ids(OWNER_UID), `thread ${task.tid} (${task.comm}): Uid`);
    t.equal(task.gid, ids(OWNER_GID), `thread ${task.tid} (${task.comm}): Gid`);
  }

  const refusals = await child.next('refusals');
  t.match(refusals.newDevice, { code: 'ERR_TUN_CREATE', errno: EPERM, syscall: 'ioctl(TUNSETIFF)', sysCode: 'EPERM' }, 'a new device: ERR_TUN_CREATE / EPERM');
  t.match(refusals.setMtu, { code: 'ERR_TUN_NETLINK', errno: EPERM, sysCode: 'EPERM' }, 'an MTU change: ERR_TUN_NETLINK / EPERM');
  t.same(refusals.regain, { ret: -1, errno: EPERM }, 'setresuid(0, 0, 0): EPERM');

  const viaDevice = await ping(ns, '198.18.9.2', { count: 3, timeoutS: 5 });
  t.equal(viaDevice.received, 3, 'pings through the Device (poll thread + main thread) are answered after the drop');
  const viaQueues = await ping(ns, '198.18.10.2', { count: 3, timeoutS: 5 });
  t.equal(viaQueues.received, 3, 'pings through the queue workers are answered after the drop');

  child.send('finish');
  const finished = await child.next('finished');
  t.equal(finished.mainReplies, 3, 'the main thread wrote 3 replies');
  t.equal(finished.workerReplies, 3, 'the queue workers wrote 3 replies');
  t.equal((await child.exited()).code, 0, 'the child closed everything and exited cleanly');
  const links = (await ns.ipJson('link', 'show')) as Array<{ ifname: string }>;
  t.same(links.map((l) => l.ifname), ['lo'], 'the devices went with their fds');
});
