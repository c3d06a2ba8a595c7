/**
 * `npm run demo` end to end, judged from its output and the system afterwards:
 * exit 0 within 60 s; every ping answered with ttl=63 (one routed hop) and the
 * TTL-1 ping answered by the router's Time Exceeded; the TCP transfer
 * byte-exact; final per-queue stats for every (device, queue); a capture summary
 * whose per-protocol counts are consistent with the traffic; no namespace left.
 * Without privileges it exits 1 and says what it needs.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { listNetns, requireNetAdmin } from '@tunpipe/testkit';

const demo = fileURLToPath(new URL('./main.js', import.meta.url));

function run(prefix: readonly string[] = []): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const [cmd, ...args] = [...prefix, process.execPath, demo];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

t.test('the demo routes ping and TCP between two namespaces, reports stats and a capture, and cleans up', async (t) => {
  if (!requireNetAdmin(t)) return;
  const r = await run();
  t.equal(r.code, 0, `exit status 0 (stderr: ${r.stderr.trim()})`);
  t.ok(r.ms < 60_000, `finished within 60 s (${r.ms} ms)`);
  t.match(r.stdout, /ping IPv4: 5 packets transmitted, 5 received; 64 bytes from 198\.18\.2\.1: icmp_seq=1 ttl=63/);
  t.match(r.stdout, /ping IPv6: 5 packets transmitted, 5 received; 64 bytes from fd00:2::1: icmp_seq=1 ttl=63/);
  t.match(r.stdout, /ping TTL 1: .*From 198\.18\.1\.254 icmp_seq=1 Time to live exceeded/);
  const tcp = /TCP: 4 connections, (\d+) of (\d+) bytes received, SHA-256 match/.exec(r.stdout);
  t.ok(tcp, 'TCP transfer reported byte-exact');
  t.equal(tcp?.[1], tcp?.[2], 'every TCP byte arrived');

  const final = r.stdout.slice(r.stdout.indexOf('final per-queue stats'));
  const queues = Math.min(availableParallelism(), 4);
  for (const dev of ['tpra0', 'tprb0']) {
    for (let q = 0; q < queues; q++) t.match(final, new RegExp(`\\n  ${dev} q${q} +rx +\\d+ pkts`), `final stats line for ${dev} q${q}`);
  }
  t.match(final, /forwarded \d+ packets in the workers, 0 to the main thread/);
  if (queues > 1) t.match(final, /queues used: 0, 1/, 'the flows used more than one queue');

  const capture = /capture summary \(tcpdump on tprb0 in tp-demo-b-\d+\): (\d+) packets: (.*)/.exec(r.stdout);
  t.ok(capture, 'capture summary printed');
  const counts = Object.fromEntries((capture?.[2] ?? '').split(', ').map((e) => [e.replace(/ \d+$/, ''), Number(/\d+$/.exec(e)?.[0])]));
  t.equal(counts.ICMP, 10, '5 IPv4 echo requests and 5 replies captured on B');
  // B's own interface may add a router solicitation or MLD report of its own.
  t.ok((counts.ICMPv6 ?? 0) >= 10, `5 IPv6 echo requests and 5 replies captured on B (${counts.ICMPv6})`);
  t.ok((counts.TCP ?? 0) > 100, `TCP captured (${counts.TCP})`);
  t.match(r.stdout, /0 failed step\(s\)/);
  t.same(listNetns().filter((n) => n.startsWith('tp-demo-')), [], 'no demo namespace left behind');
});

t.test('without privileges the demo says what it needs and exits 1', async (t) => {
  if (!requireNetAdmin(t)) return; // dropping capabilities needs them first
  const r = await run(['setpriv', '--bounding-set=-all', '--inh-caps=-all']);
  t.equal(r.code, 1);
  t.match(r.stderr, /needs root/);
  t.match(r.stderr, /sudo npm run demo/);
  t.equal(r.stdout, '', 'nothing else happened');
});
