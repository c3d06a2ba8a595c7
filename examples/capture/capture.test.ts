/**
 * The capture example end to end: while ping (IPv4 and IPv6) runs against a
 * device answered by a streams pipeline, every request and reply is written to a
 * pcap, and `tcpdump -r` must read back exactly those ICMP packets, in order,
 * with valid checksums. Then the runnable example as a child process.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, listNetns, ping, requireNetAdmin, runCommand, tcpdumpRead } from '@tunpipe/testkit';
import { startEchoCapture, type EchoCapture } from './echo-capture.js';

function scratchFile(t: { teardown(fn: () => void): void }, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tp-capture-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

/** tcpdump's echo request/reply lines, without their timestamps. */
function echoLines(lines: string[]): string[] {
  return lines.filter((l) => / echo (request|reply), /.test(l)).map((l) => l.replace(/^\S+ /, ''));
}

t.test('a pcap of the device while ping runs holds exactly the echo requests and replies', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'capture');
  const file = scratchFile(t, 'ping.pcap');
  let capture: EchoCapture;
  {
    using _ = ns.enter();
    capture = await startEchoCapture({ name: 'tpcap0', ipv4: { address: '198.18.13.1', prefix: 24 }, ipv6: [{ address: 'fd00:13::1', prefix: 64 }] }, file);
  }
  t.teardown(() => capture.stop());
  const v4 = await ping(ns, '198.18.13.2', { count: 3 });
  t.equal(v4.received, 3, 'IPv4 ping answered through the pipeline');
  const v6 = await ping(ns, 'fd00:13::2', { count: 2 });
  t.equal(v6.received, 2, 'IPv6 ping answered through the pipeline');
  const records = await capture.stop();

  const lines = await tcpdumpRead(file);
  t.equal(lines.length, records, 'tcpdump reads every record the writer wrote');
  const echo = echoLines(lines);
  const id4 = /id (\d+)/.exec(echo[0] ?? '')?.[1];
  const id6 = /id (\d+)/.exec(echo[6] ?? '')?.[1];
  const expected = [
    ...[1, 2, 3].flatMap((seq) => [
      `IP 198.18.13.1 > 198.18.13.2: ICMP echo request, id ${id4}, seq ${seq}, length 64`,
      `IP 198.18.13.2 > 198.18.13.1: ICMP echo reply, id ${id4}, seq ${seq}, length 64`,
    ]),
    ...[1, 2].flatMap((seq) => [
      `IP6 fd00:13::1 > fd00:13::2: ICMP6, echo request, id ${id6}, seq ${seq}, length 64`,
      `IP6 fd00:13::2 > fd00:13::1: ICMP6, echo reply, id ${id6}, seq ${seq}, length 64`,
    ]),
  ];
  t.same(echo, expected, 'each request followed by its reply, in order');
  const others = lines.filter((l) => !/ echo (request|reply), /.test(l));
  t.ok(others.every((l) => /ICMP6, (router solicitation|multicast listener report)/.test(l)), `anything else is the kernel's own IPv6 chatter: ${others.join(' | ')}`);
  const verbose = await tcpdumpRead(file, ['-vv']);
  // tcpdump's checksum complaints: "bad cksum", "[bad udp|icmp6|tcp cksum ...]",
  // "wrong icmp cksum", "cksum 0x... (incorrect -> ...)". Not a bare /bad/: a random
  // link-local address (fe80::bad2:...) would match it.
  t.notOk(verbose.some((l) => /bad (udp |icmp6 |icmp |tcp )?cksum|wrong icmp cksum|\(incorrect/i.test(l)), 'tcpdump -vv finds no bad checksum');
  t.ok(lines.every((l) => /^\d\d:\d\d:\d\d\.\d{6} /.test(l)), 'every record has a microsecond timestamp');
});

t.test('the runnable example exits 0, prints the capture and leaves no namespace', async (t) => {
  if (!requireNetAdmin(t)) return;
  const file = scratchFile(t, 'main.pcap');
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const r = await runCommand(process.execPath, [main, file], { timeoutMs: 30_000 });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /ping -4 .*: 3 packets transmitted, 3 received/);
  t.match(r.stdout, /ping -6 .*: 3 packets transmitted, 3 received/);
  t.match(r.stdout, /IP 198\.18\.12\.2 > 198\.18\.12\.1: ICMP echo reply, id \d+, seq 3, length 64/);
  t.match(r.stdout, /IP6 fd00:12::2 > fd00:12::1: ICMP6, echo reply, id \d+, seq 3, length 64/);
  t.equal(echoLines(await tcpdumpRead(file)).length, 12, 'the file holds 6 requests and 6 replies');
  t.same(listNetns().filter((n) => n.startsWith('tp-capture-')), [], 'namespace deleted');
});
