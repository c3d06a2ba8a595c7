/**
 * The echo example end to end: ping (IPv4, IPv6) and a UDP client inside a
 * private namespace are answered by the queue workers; what is not an echo
 * request is left alone; the runnable example exits 0 and cleans up.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { DeviceBuilder } from '@tunpipe/core';
import { createNetns, listNetns, ping, requireNetAdmin, runCommand } from '@tunpipe/testkit';
import { startEcho, type EchoService } from './echo-service.js';
import { UDP_CLIENT } from './udp-client.js';

t.test('ping v4/v6 and UDP echo answered from userspace, other ports ignored', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'echo');
  let service: EchoService;
  {
    using _ = ns.enter();
    service = await startEcho({ device: new DeviceBuilder().name('tpecho0').ipv4('198.18.10.1', 24).ipv6('fd00:10::1', 64), queues: 2 });
  }
  t.teardown(() => service.close());
  const before = service.totals().replied;

  const v4 = await ping(ns, '198.18.10.2', { count: 4 });
  t.same([v4.transmitted, v4.received], [4, 4], 'IPv4: every request answered');
  t.match(v4.output, /from 198\.18\.10\.2: icmp_seq=4 ttl=64/, 'the reply comes from the pinged address');
  const v6 = await ping(ns, 'fd00:10::2', { count: 4 });
  t.same([v6.transmitted, v6.received], [4, 4], 'IPv6: every request answered');

  const cases: Array<[host: string, text: string, port: string, expected: string]> = [
    ['198.18.10.2', 'hello over IPv4', '7', 'reply from 198.18.10.2 port 7: hello over IPv4'],
    ['fd00:10::2', 'hello over IPv6', '7', 'reply from fd00:10::2 port 7: hello over IPv6'],
    ['198.18.10.77', 'x'.repeat(1200), '7', `reply from 198.18.10.77 port 7: ${'x'.repeat(1200)}`],
    ['198.18.10.2', 'not echo', '9', 'no reply'],
  ];
  for (const [host, text, port, expected] of cases) {
    const r = await ns.exec(process.execPath, ['-e', UDP_CLIENT, host, text, port], { timeoutMs: 6000 });
    t.equal(r.stdout.trim(), expected, `UDP ${host} port ${port}`);
  }
  const totals = service.totals();
  t.equal(totals.replied - before, 4 + 4 + 3, 'the workers answered 8 pings and 3 datagrams, not the port-9 one');
  t.ok(totals.handlerDrops >= 1, 'the port-9 datagram was left alone');
  t.equal(totals.passed, 0, 'nothing reached the main thread');
});

t.test('the runnable example exits 0 and leaves no namespace', async (t) => {
  if (!requireNetAdmin(t)) return;
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const r = await runCommand(process.execPath, [main], { timeoutMs: 30_000 });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /ping IPv4: 3 packets transmitted, 3 received/);
  t.match(r.stdout, /ping IPv6: 3 packets transmitted, 3 received/);
  t.match(r.stdout, /UDP IPv4: reply from 198\.18\.9\.2 port 7: hello over IPv4/);
  t.match(r.stdout, /UDP IPv6: reply from fd00:9::2 port 7: hello over IPv6/);
  t.match(r.stdout, /0 failed step\(s\)/);
  t.same(listNetns().filter((n) => n.startsWith('tp-echo-')), [], 'namespace deleted');
});
