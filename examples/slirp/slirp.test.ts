/**
 * The slirp example, specified:
 * - the binding's struct layouts match libslirp 4.7's header (SlirpConfig v4 is 184 bytes);
 * - SLIRP_POLL_* and poll(2) bits translate both ways for every combination;
 * - a guest namespace whose only route is a TAP device fetches, through libslirp,
 *   exactly the page an HTTP server on the host namespace's loopback served;
 * - restricted slirp resets every other connection (another network, another port,
 *   slirp's own address) and none of them reaches the host;
 * - the runnable example does the same end to end and explains a missing libslirp.
 * Namespaces H (host) and G (guest) are made by the test; nothing leaves them.
 */
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { closeSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { DeviceBuilder, isTunError, type Device } from '@tunpipe/core';
import { createNetns, isCi, listNetns, openFds, requireNetAdmin, tcpdumpRead, type Netns } from '@tunpipe/testkit';
import {
  SlirpCbType,
  SlirpConfigType,
  inAddr,
  inAddrBytes,
  libSlirpMissing,
  pollToSlirpEvents,
  slirpToPollEvents,
  SLIRP_POLL_ERR,
  SLIRP_POLL_HUP,
  SLIRP_POLL_IN,
  SLIRP_POLL_OUT,
  SLIRP_POLL_PRI,
} from './slirp-binding.js';
import { SlirpStack } from './slirp-stack.js';
import type { FetchResult, ProbeResult } from './guest-client.js';


const GUEST_CLIENT = fileURLToPath(new URL('./guest-client.js', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const TAP = 'tpslirp1';

// ---- layouts and translations ------------------------------------------------------------

t.test('SlirpConfig (version 4) has the layout of <slirp/libslirp.h> 4.7', async (t) => {
  t.equal(koffi.sizeof(SlirpConfigType), 184, 'sizeof(SlirpConfig)');
  const offsets: [string, number][] = [
    ['version', 0], ['restricted', 4], ['in_enabled', 8], ['vnetwork', 12], ['vnetmask', 16],
    ['vhost', 20], ['in6_enabled', 24], ['vprefix_addr6', 28], ['vprefix_len', 44], ['vhost6', 48],
    ['vhostname', 64], ['tftp_server_name', 72], ['tftp_path', 80], ['bootfile', 88],
    ['vdhcp_start', 96], ['vnameserver', 100], ['vnameserver6', 104], ['vdnssearch', 120],
    ['vdomainname', 128], ['if_mtu', 136], ['if_mru', 144], ['disable_host_loopback', 152],
    ['enable_emu', 153], ['outbound_addr', 160], ['outbound_addr6', 168], ['disable_dns', 176],
    ['disable_dhcp', 177],
  ];
  for (const [field, offset] of offsets) t.equal(koffi.offsetof(SlirpConfigType, field), offset, `offsetof(${field})`);
});

t.test('SlirpCb (version 4) is eleven function pointers in header order', async (t) => {
  t.equal(koffi.sizeof(SlirpCbType), 88);
  const order = ['send_packet', 'guest_error', 'clock_get_ns', 'timer_new', 'timer_free', 'timer_mod',
    'register_poll_fd', 'unregister_poll_fd', 'notify', 'init_completed', 'timer_new_opaque'];
  order.forEach((field, i) => t.equal(koffi.offsetof(SlirpCbType, field), i * 8, `offsetof(${field})`));
});

t.test('SLIRP_POLL_* and poll(2) bits translate both ways', async (t) => {
  // poll(2): POLLIN 0x1, POLLPRI 0x2, POLLOUT 0x4, POLLERR 0x8, POLLHUP 0x10 (<asm-generic/poll.h>)
  const table: [string, number, number][] = [
    ['IN', SLIRP_POLL_IN, 0x1],
    ['OUT', SLIRP_POLL_OUT, 0x4],
    ['PRI', SLIRP_POLL_PRI, 0x2],
    ['ERR', SLIRP_POLL_ERR, 0x8],
    ['HUP', SLIRP_POLL_HUP, 0x10],
  ];
  for (const [name, slirp, poll] of table) {
    t.equal(slirpToPollEvents(slirp), poll, `SLIRP_POLL_${name} -> POLL${name}`);
    t.equal(pollToSlirpEvents(poll), slirp, `POLL${name} -> SLIRP_POLL_${name}`);
  }
  for (let set = 0; set < 32; set++) t.equal(pollToSlirpEvents(slirpToPollEvents(set)), set, `round trip of ${set}`);
  t.equal(pollToSlirpEvents(0x20), 0, 'POLLNVAL has no slirp bit');
});

t.test('inAddr gives struct in_addr values (network byte order in memory)', async (t) => {
  t.same([...inAddrBytes('198.18.0.2')], [198, 18, 0, 2]);
  t.same([...inAddrBytes('255.255.255.0')], [255, 255, 255, 0]);
  t.equal(inAddr('0.0.0.0'), 0);
  for (const bad of ['198.18.0', '198.18.0.256', '::1', '198.18.0.2/24', ''])
    t.throws(() => inAddr(bad), { code: 'ERR_TUN_INVALID_OPTION' }, `rejects ${JSON.stringify(bad)}`);
});

t.test('a missing libslirp is reported with the install command', async (t) => {
  const reason = libSlirpMissing('/nonexistent/libslirp.so.0');
  t.match(reason, /apt-get install libslirp0/);
  await t.rejects(SlirpStack.start({ tapFd: -1, forwards: [], libraryPath: '/nonexistent/libslirp.so.0' }), { code: 'ERR_TUN_SLIRP_MISSING' });
});

t.test('slirp refuses a forward on its own address; start fails cleanly', async (t) => {
  if (!requireLibSlirp(t)) return;
  const fdsBefore = openFds();
  const tapFd = devNullFd();
  await t.rejects(
    SlirpStack.start({ tapFd, forwards: [{ guestAddress: '198.18.0.254', guestPort: 80, hostPort: 1 }] }),
    { code: 'ERR_TUN_SLIRP_FORWARD' },
    'restricted slirp: no forward on the vhost',
  );
  await t.rejects(SlirpStack.start({ tapFd, forwards: [], signal: AbortSignal.abort() }), { code: 'ERR_TUN_ABORTED' });
  closeSync(tapFd);
  t.equal(openFds(), fdsBefore, 'no fd left open (eventfd, proxy socket)');
  t.same(readdirSync(tmpdir()).filter((f) => f.startsWith(`tunpipe-slirp-${process.pid}-`)), [], 'no socket file left');
});

// ---- end to end ----------------------------------------------------------------------------

/** A harmless fd standing in for a TAP fd in tests that never reach slirp's loop: /dev/null. */
function devNullFd(): number {
  return openSync('/dev/null', 'r+');
}

/** True when libslirp loads; under CI installs it with apt-get first, and fails if that fails. */
function requireLibSlirp(t: Test): boolean {
  if (libSlirpMissing() === null) return true;
  if (isCi()) {
    const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'libslirp0'], { encoding: 'utf8', timeout: 180_000 });
    const missing = libSlirpMissing();
    if (missing === null) return true;
    t.fail(`libslirp0 is missing and apt-get could not install it (${r.status}: ${r.stderr?.trim()}): ${missing}`);
    return false;
  }
  t.plan(0, `skipped: ${libSlirpMissing()}`);
  return false;
}

/** Runs guest-client.js inside `ns`; returns its JSON lines. */
async function inGuest<T>(t: Test, ns: Netns, args: string[]): Promise<T[]> {
  const r = await ns.exec(process.execPath, [GUEST_CLIENT, ...args], { timeoutMs: 20_000 });
  t.equal(r.code, 0, `guest-client ${args.join(' ')} exits 0 (${r.stderr.trim()})`);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

/** A TAP device opened in the current namespace, moved to `guest` and given 198.18.0.15/24 via .2 there. */
function guestTap(guest: Netns): Device {
  const dev = new DeviceBuilder().name(TAP).layer('l2').enable(false).build();
  dev.moveToNetns(guest.name);
  dev.addAddressV4('198.18.0.15', 24);
  dev.enabled(true);
  dev.addRoute('0.0.0.0/0', { gateway: '198.18.0.2' });
  return dev;
}

t.test('the guest fetches the loopback page through slirp; everything else is reset', async (t) => {
  if (!requireNetAdmin(t) || !requireLibSlirp(t)) return;
  const host = createNetns(t, 'sltest-h');
  const guest = createNetns(t, 'sltest-g');
  using _inHost = host.enter(); // server, device and proxy connections live in H

  // 48 KiB of random text: many TCP segments, so slirp's TCP really carries it.
  const page = randomBytes(36 * 1024).toString('base64');
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} from ${req.socket.remoteAddress}`);
    res.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  // A decoy the guest must NOT reach: 198.18.1.1:80 on H's loopback. An unrestricted
  // slirp would connect to it from H; restricted slirp resets the guest instead.
  host.ipSync('addr', 'add', '198.18.1.1/32', 'dev', 'lo');
  let decoyHits = 0;
  const decoy = createNetServer((s) => {
    decoyHits++;
    s.destroy();
  });
  await new Promise<void>((resolve) => decoy.listen(80, '198.18.1.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => decoy.close(() => resolve())));
  const fdsBefore = openFds();

  const dev = guestTap(guest);
  t.teardown(() => dev.close());
  const routes = (await guest.ipJson('route', 'show')) as { dst: string; gateway?: string; dev: string }[];
  t.same(routes.map((r) => r.dev), [TAP, TAP], 'the guest has no route but the TAP device');
  const links = (await guest.ipJson('link', 'show')) as { ifname: string }[];
  t.same(links.map((l) => l.ifname).sort(), ['lo', TAP].sort(), 'the guest has lo and the TAP device only');

  const guestErrors: string[] = [];
  const stack = await SlirpStack.start({
    tapFd: dev.fd,
    forwards: [{ guestAddress: '198.18.0.2', guestPort: 80, hostPort: port }],
    onGuestError: (m) => guestErrors.push(m),
  });
  t.teardown(() => stack.close());
  t.match(stack.version, /^4\./, `libslirp ${stack.version}`);

  const capture = join(tmpdir(), `tp-slirp-${process.pid}.pcap`);
  t.teardown(() => rmSync(capture, { force: true }));
  // --immediate-mode: without it libpcap holds packets in a ring block for up to a second, and SIGTERM loses them
  const tcpdump = guest.spawn(t, 'tcpdump', ['-i', TAP, '-n', '--immediate-mode', '-U', '-w', capture, 'tcp']);
  await tcpdump.waitForOutput(/listening on/);

  const [fetched] = await inGuest<FetchResult>(t, guest, ['fetch', 'http://198.18.0.2/']);
  t.equal(fetched?.status, 200, 'HTTP 200');
  t.equal(fetched?.body.length, page.length, 'body length');
  t.ok(fetched?.body === page, 'the body is exactly what the server served');
  t.same(requests, ['GET / from 127.0.0.1'], 'the server saw one request, from its loopback');

  const probes = await inGuest<ProbeResult>(t, guest, ['probe', '198.18.1.1:80', '198.18.0.2:81', '198.18.0.254:80']);
  t.same(probes, [
    { target: '198.18.1.1:80', result: 'ECONNREFUSED' },
    { target: '198.18.0.2:81', result: 'ECONNREFUSED' },
    { target: '198.18.0.254:80', result: 'ECONNREFUSED' },
  ], 'another network, another port and slirp\'s own address: reset');
  t.equal(requests.length, 1, 'no probe reached the server');
  t.equal(decoyHits, 0, 'the decoy on 198.18.1.1:80 in H was not reached');

  await tcpdump.stop();
  const lines = await tcpdumpRead(capture);
  for (const from of ['198.18.1.1.80', '198.18.0.2.81', '198.18.0.254.80'])
    t.ok(lines.some((l) => l.includes(`${from} > 198.18.0.15.`) && /Flags \[R/.test(l)), `tcpdump: slirp sent a RST from ${from}`);

  const s = stack.stats();
  t.equal(s.connections, 1, 'one forwarded connection');
  t.ok(s.framesToGuest > page.length / 1500, `slirp -> guest frames (${s.framesToGuest}) carry the page`);
  t.ok(s.framesFromGuest > 5, `guest -> slirp frames (${s.framesFromGuest})`);
  t.equal(s.writeErrors, 0, 'no TAP write failed');
  t.same(guestErrors, [], 'slirp saw no guest misbehaviour');

  await stack.close();
  await stack.close(); // idempotent
  dev.close();
  t.equal(openFds(), fdsBefore, 'fds back to the baseline (tap, eventfd, unix sockets closed)');
});

t.test('the stack reports the device going away', async (t) => {
  if (!requireNetAdmin(t) || !requireLibSlirp(t)) return;
  const host = createNetns(t, 'sltest-h');
  const guest = createNetns(t, 'sltest-g');
  using _inHost = host.enter();
  const dev = guestTap(guest);
  t.teardown(() => dev.close());
  const stack = await SlirpStack.start({ tapFd: dev.fd, forwards: [] });
  t.teardown(() => stack.close());
  await guest.ip('link', 'del', TAP); // destroys the TAP device under the worker's poll
  const deadline = Date.now() + 3000;
  while (stack.failure() === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.ok(isTunError(stack.failure(), 'ERR_TUN_DEVICE_GONE'), `failure: ${stack.failure()?.message}`);
  await stack.close();
});

function runMain(args: string[], netns: string | null): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  const [cmd, argv] = netns === null ? [process.execPath, [MAIN, ...args]] : ['ip', ['netns', 'exec', netns, process.execPath, MAIN, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, pid: child.pid ?? -1 });
    });
  });
}

t.test('the example, run inside a host namespace with --guest, fetches the page and is refused elsewhere', async (t) => {
  if (!requireNetAdmin(t) || !requireLibSlirp(t)) return;
  const host = createNetns(t, 'sltest-h');
  const guest = createNetns(t, 'sltest-g');
  const r = await runMain(['--guest', guest.name], host.name);
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr.trim()})`);
  t.match(r.stdout, /guest GET http:\/\/198\.18\.0\.2\/ -> 200/);
  t.match(r.stdout, /token [0-9a-f]{16}/);
  t.match(r.stdout, /guest connect 198\.18\.1\.1:80 -> ECONNREFUSED/);
  t.match(r.stdout, /frames guest -> slirp: [1-9]\d* .*slirp -> guest: [1-9]\d*/);
  t.match(r.stdout, /OK: the page arrived intact/);
  for (const [ns, what] of [[host, 'no device left in H'], [guest, 'the TAP device is gone from G']] as const) {
    const names = ((await ns.ipJson('link', 'show')) as { ifname: string }[]).map((l) => l.ifname);
    t.same(names, ['lo'], what);
  }
});

t.test('the example, standalone, makes and removes its own namespaces', async (t) => {
  if (!requireNetAdmin(t) || !requireLibSlirp(t)) return;
  const r = await runMain([], null);
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr.trim()})`);
  t.match(r.stdout, /OK: the page arrived intact/);
  t.match(r.stdout, new RegExp(`namespaces: host tp-slirp-h-${r.pid}, guest tp-slirp-g-${r.pid}`));
  t.same(listNetns().filter((n) => n.endsWith(`-${r.pid}`)), [], 'no example namespace left behind');
});

t.test('the example explains a missing libslirp', async (t) => {
  if (!requireNetAdmin(t)) return;
  const r = await runMain(['--libslirp', '/nonexistent/libslirp.so.0'], null);
  t.equal(r.code, 1);
  t.match(r.stderr, /apt-get install libslirp0/);
  t.equal(r.stdout, '', 'nothing was set up');
});
