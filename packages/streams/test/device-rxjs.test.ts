/**
 * RxJS operators on real traffic from a device's shared `packets$`: an echo
 * subscriber answers the real `ping` while another watches the same packets
 * through `icmp()` and `flowKey()`; `rateWindow()` and `udp()` measure a paced
 * UDP burst whose every datagram is accounted for.
 */
import t from 'tap';
import { requireNetAdmin, createNetns, ping } from '@tunpipe/testkit';
import { icmp, udp } from '../src/protocol-filter.js';
import { flowKey } from '../src/flow-key.js';
import { rateWindow, type RateSample } from '../src/rate-window.js';
import { echoReply, openTunIn, runPeer, kernelDrops, udpSeq, sleep } from './device-fixtures.js';

t.test('icmp() and flowKey() see the echo requests a shared echo subscriber answers', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'rxping');
  const tun = await openTunIn(ns, {
    name: 'tpr0',
    ipv4: { address: '198.18.0.1', prefix: 24 },
    ipv6: [{ address: 'fd00::1', prefix: 64 }],
  });
  t.teardown(() => tun.close());
  const sendErrors: unknown[] = [];
  const echo = tun.packets$.subscribe((p) => {
    const reply = echoReply(p);
    if (reply !== null) tun.send(reply).catch((e: unknown) => sendErrors.push(e));
  });
  const keys: string[] = [];
  const watch = tun.packets$.pipe(icmp(), flowKey()).subscribe((k) => keys.push(k.key));
  t.equal(tun.activeConsumer, 'packets$', 'two subscribers, one consumer');

  const v4 = await ping(ns, '198.18.0.2', { count: 3 });
  const v6 = await ping(ns, 'fd00::2', { count: 3 });
  echo.unsubscribe();
  watch.unsubscribe();
  t.equal(tun.activeConsumer, undefined, 'the last unsubscribe released the device');
  t.equal(v4.received, 3, 'ping answered by the echo subscriber (v4)');
  t.equal(v6.received, 3, 'and (v6)');
  t.same(sendErrors, []);

  const echoKeys = keys.filter((k) => !k.includes('|0|'));
  const v4Keys = echoKeys.filter((k) => k.startsWith('1|198.18.0.1|'));
  const v6Keys = echoKeys.filter((k) => k.startsWith('58|fd00::1|'));
  t.equal(v4Keys.length, 3, `three ICMPv4 echo requests: ${v4Keys[0]}`);
  t.equal(new Set(v4Keys).size, 1, 'one flow (ping keeps its identifier)');
  t.match(v4Keys[0], /^1\|198\.18\.0\.1\|(\d+)\|198\.18\.0\.2\|\1$/, 'identifier stands in for both ports');
  t.equal(v6Keys.length, 3, `three ICMPv6 echo requests: ${v6Keys[0]}`);
  t.match(v6Keys[0], /^58\|fd00::1\|(\d+)\|fd00::2\|\1$/);
  t.equal(echoKeys.length, 6, 'no other echo traffic (our replies go out, they are not read back)');
});

t.test('rateWindow() and udp() over a paced UDP burst', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'rxrate');
  ns.disableIpv6Sync(); // the drop counter must count only the test's packets
  const tun = await openTunIn(ns, { name: 'tpr1', ipv4: { address: '198.18.0.1', prefix: 24 } });
  t.teardown(() => tun.close());
  const COUNT = 3000;
  const PPS = 2000;
  const PAYLOAD = 64;
  const samples: RateSample[] = [];
  const seqs = new Set<number>();
  const flows = new Set<string>();
  const rates = tun.packets$.pipe(udp({ dstPort: 9000 }), rateWindow({ windowMs: 250 })).subscribe((s) => samples.push(s));
  const keyed = tun.packets$.pipe(udp({ dstPort: 9000 }), flowKey()).subscribe((k) => {
    flows.add(k.key);
    seqs.add(udpSeq(k.packet.data)!.seq);
  });
  const { sent } = await runPeer<{ sent: number }>(ns, 'udp-burst', ['198.18.0.2', 9000, COUNT, 4, PAYLOAD, PPS]);
  await sleep(600); // two more windows, so the last one is complete
  rates.unsubscribe();
  keyed.unsubscribe();
  const dropped = await kernelDrops(ns, 'tpr1');
  t.equal(sent, COUNT);
  t.equal(seqs.size + dropped, sent, `received ${seqs.size} + dropped ${dropped} = sent ${sent}`);
  t.equal(flows.size, 4, 'four flows (source ports)');
  const total = samples.reduce((a, s) => a + s.packets, 0);
  t.equal(total, seqs.size, 'the windows together counted every datagram once');
  t.equal(samples.reduce((a, s) => a + s.bytes, 0), total * (20 + 8 + PAYLOAD), 'and their bytes (IPv4 + UDP + payload)');
  const busy = samples.filter((s) => s.packets > 0);
  const middle = busy.slice(1, -1).map((s) => s.pps).sort((a, b) => a - b);
  t.ok(middle.length >= 3, `${middle.length} full windows inside the burst`);
  const median = middle[Math.floor(middle.length / 2)]!;
  t.ok(median > PPS * 0.7 && median < PPS * 1.3, `median rate ${median.toFixed(0)} pps of a ${PPS} pps burst`);
  const off = samples.filter((s) => Math.abs(s.bps - s.pps * 8 * (20 + 8 + PAYLOAD)) > 1e-6 * Math.max(1, s.bps));
  t.same(off, [], 'bps follows pps in every window (equal-sized packets)');
});
