/**
 * @tunpipe/testkit checks itself: namespaces are created, entered, restored and
 * deleted (with `ip netns list` and /proc as the oracles), teardown cleans up after
 * a test that forgot, the process-exit safety net cleans up after a process that
 * died, and device tests fail instead of skipping under CI=true.
 */
import t from 'tap';
import { readlinkSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createNetns,
  listNetns,
  openFds,
  ping,
  linkJson,
  requireNetAdmin,
  runCommand,
  threadCount,
  withNetns,
  sweepStaleNetns,
  runCommandSync,
  THREAD_NETNS_PATH,
  type Netns,
} from '@tunpipe/testkit';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

/** `net:[inode]` of the calling thread's namespace. */
const threadNs = (): string => readlinkSync(THREAD_NETNS_PATH);
/** `net:[inode]` of a named namespace. */
const nsId = (ns: Netns): string => `net:[${statSync(ns.path).ino}]`;

t.test('a namespace is created with lo up, entered, restored and deleted', async (t) => {
  if (!requireNetAdmin(t)) return;
  const before = threadNs();
  const ns = createNetns(t, 'kit');
  t.match(ns.name, /^tp-kit-\d+-\d+$/);
  t.ok(listNetns().includes(ns.name), 'listed by ip netns list');

  const lo = await linkJson(ns, 'lo');
  t.ok(lo.flags.includes('UP'), 'lo is up inside');

  {
    using _ = ns.enter();
    t.equal(threadNs(), nsId(ns), 'the main thread is in the namespace');
    t.not(threadNs(), before);
    // A child spawned from the entered thread inherits the namespace: `ip link`
    // run plainly sees only the namespace's lo.
    const r = await runCommand('ip', ['-j', 'link', 'show']);
    const names = (JSON.parse(r.stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
    t.same(names, ['lo'], 'children inherit the entered namespace');
  }
  t.equal(threadNs(), before, 'restored on dispose');

  await ns.delete();
  t.notOk(listNetns().includes(ns.name), 'gone from ip netns list after delete()');
  t.notOk(ns.alive);
});

t.test('withNetns runs a function inside a fresh namespace and comes back', async (t) => {
  if (!requireNetAdmin(t)) return;
  const before = threadNs();
  const seen = await withNetns(t, 'with', async (ns) => {
    await new Promise((r) => setTimeout(r, 5));
    return { inside: threadNs(), expected: nsId(ns), name: ns.name };
  });
  t.equal(seen.inside, seen.expected, 'fn ran inside the namespace');
  t.equal(threadNs(), before, 'restored afterwards');
  t.ok(listNetns().includes(seen.name), 'the namespace lives until teardown');
  await t.rejects(
    withNetns(t, 'withthrow', () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  t.equal(threadNs(), before, 'restored after fn threw');
});

t.test('exec runs inside the namespace, bounded by its timeout', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'exec');
  // (this kernel has no `dummy` link type; a veth pair is the simplest subject)
  ns.ipSync('link', 'add', 'tp-veth0', 'type', 'veth', 'peer', 'name', 'tp-veth1');
  ns.ipSync('link', 'set', 'tp-veth0', 'up');
  ns.ipSync('addr', 'add', '198.18.7.1/24', 'dev', 'tp-veth0');
  const r = await ns.exec('ip', ['-o', 'addr', 'show', 'dev', 'tp-veth0']);
  t.equal(r.code, 0);
  t.match(r.stdout, /198\.18\.7\.1\/24/);
  const outside = await runCommand('ip', ['link', 'show', 'tp-veth0']);
  t.not(outside.code, 0, 'the veth link does not exist outside');

  const p = await ping(ns, '198.18.7.1', { count: 2, intervalS: 0.05 });
  t.same([p.transmitted, p.received], [2, 2], 'ping oracle counts replies from a local address');
  const lost = await ping(ns, '198.18.7.99', { count: 1, timeoutS: 1 });
  t.same([lost.transmitted, lost.received], [1, 0], 'ping oracle counts losses');

  const slow = await ns.exec('sleep', ['5'], { timeoutMs: 200 });
  t.ok(slow.timedOut, 'killed at its timeout');
  t.equal(slow.signal, 'SIGKILL');
});

t.test('teardown restores a thread that forgot to leave and deletes the namespace', async (t) => {
  if (!requireNetAdmin(t)) return;
  const before = threadNs();
  let name = '';
  await t.test('forgetful', async (t) => {
    const ns = createNetns(t, 'forget');
    name = ns.name;
    ns.enter();
    const peer = ns.spawn(t, 'sleep', ['30']);
    t.equal(threadNs(), nsId(ns));
    t.notOk(peer.exitedAlready);
  });
  t.equal(threadNs(), before, 'thread restored by teardown');
  t.notOk(listNetns().includes(name), 'namespace deleted by teardown');
  const r = await runCommand('pgrep', ['-f', `ip netns exec ${name}`]);
  t.not(r.code, 0, 'no peer process left');
});

t.test('spawned peers are stopped before the namespace goes', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'peer');
  const peer = ns.spawn(t, 'sh', ['-c', 'echo ready; exec sleep 30']);
  await peer.waitForOutput(/ready/);
  const exit = await peer.stop();
  t.equal(exit.signal, 'SIGTERM');
  t.match(exit.stdout, /ready/);
});

for (const how of ['signal', 'exit', 'throw'] as const) {
  t.test(`the exit safety net deletes namespaces of a process that ends by ${how}`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [fixture('netns-orphan'), how], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    t.teardown(() => clearTimeout(timer));
    while (!out.includes('\n') && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
    const name = out.trim();
    t.match(name, /^tp-orphan-\d+-1$/);
    if (how === 'signal') {
      t.ok(listNetns().includes(name), 'exists while the process lives');
      child.kill('SIGTERM');
    }
    const code = await exited;
    t.not(code, 0);
    t.notOk(listNetns().includes(name), 'deleted at process exit');
  });
}

t.test('namespaces left by a SIGKILLed process are swept', async (t) => {
  if (!requireNetAdmin(t)) return;
  // A pid that cannot be alive: above the kernel's pid_max (at most 2^22).
  const stale = 'tp-stale-99999999-1';
  runCommandSync('ip', ['netns', 'add', stale]);
  t.teardown(() => {
    if (listNetns().includes(stale)) runCommandSync('ip', ['netns', 'del', stale]);
  });
  const mine = createNetns(t, 'alive');
  t.ok(sweepStaleNetns().includes(stale), 'the dead process\'s namespace is deleted');
  t.notOk(listNetns().includes(stale));
  t.ok(listNetns().includes(mine.name), 'a live process\'s namespace is kept');
});

t.test('requireNetAdmin: runs as root, skips without CAP_NET_ADMIN, fails under CI=true', async (t) => {
  if (!requireNetAdmin(t)) return;
  const gate = async (ci: string | undefined, dropCap: boolean) => {
    const env = { ...process.env };
    delete env.CI;
    if (ci !== undefined) env.CI = ci;
    const { execFile } = await import('node:child_process');
    const cmd = dropCap ? 'setpriv' : process.execPath;
    const args = dropCap
      ? ['--bounding-set=-net_admin', '--inh-caps=-net_admin', process.execPath, fixture('net-admin-gate')]
      : [fixture('net-admin-gate')];
    return new Promise<{ ok: boolean; fails: string[]; plans: Array<[number, string]> }>((resolve, reject) =>
      execFile(cmd, args, { env, timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout)))),
    );
  };
  const root = await gate('true', false);
  t.same(root, { ok: true, fails: [], plans: [] }, 'root with CAP_NET_ADMIN runs');
  const skipped = await gate(undefined, true);
  t.equal(skipped.ok, false);
  t.same(skipped.fails, []);
  t.equal(skipped.plans.length, 1);
  t.equal(skipped.plans[0][0], 0, 'plan(0) = visible skip');
  t.match(skipped.plans[0][1], /CAP_NET_ADMIN/, 'with the reason');
  const ci = await gate('true', true);
  t.equal(ci.ok, false);
  t.equal(ci.fails.length, 1, 'fails under CI=true');
  t.match(ci.fails[0], /CI=true.*CAP_NET_ADMIN/);
  t.same(ci.plans, []);
});

t.test('leak counters read /proc', async (t) => {
  const fds = openFds();
  const threads = threadCount();
  t.ok(fds > 2 && threads >= 1);
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync('/dev/null', 'r');
  t.equal(openFds(), fds + 1, 'one more fd while open');
  closeSync(fd);
  t.equal(openFds(), fds, 'back after close');
});
