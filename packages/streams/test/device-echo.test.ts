/**
 * A device answered by streams: `tun.readable` → `pcapTap` → an echo
 * TransformStream → `tun.writable`. The real `ping` (v4 and v6) in the
 * namespace gets every reply, and `tcpdump -r` on the tap's file shows exactly
 * the packets that passed through the pipeline, byte for byte.
 *
 * ```
 *  ns: ping 198.18.0.2 / fd00::2 ─► tpe0 ══ queue worker ═► readable ─► pcapTap ─► echo ─► writable ═► tpe0 ─► ping
 * ```
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireNetAdmin, createNetns, ping, tcpdumpRead } from '@tunpipe/testkit';
import { PcapWriter } from '../src/pcap-writer.js';
import { pcapTap } from '../src/pcap-tap.js';
import { pipeline } from '../src/pipeline.js';
import type { Packet } from '../src/packet.js';
import { echoReply, openTunIn, until } from './device-fixtures.js';
import { readPcap } from './pcap-file.js';

const dir = mkdtempSync(join(tmpdir(), 'tp-echo-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

for (const mode of ['split', 'keep'] as const) {
  t.test(`ping v4 and v6 answered by a stream pipeline with a pcap tap (${mode} mode, offload)`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `echo${mode}`);
    const tun = await openTunIn(ns, {
      name: 'tpe0',
      ipv4: { address: '198.18.0.1', prefix: 24 },
      ipv6: [{ address: 'fd00::1', prefix: 64 }],
      offload: true,
      mode,
    });
    t.teardown(() => tun.close());
    const file = join(dir, `echo-${mode}.pcap`);
    const writer = new PcapWriter(file);
    const passed: Packet[] = [];
    let replies = 0;
    const echo = new TransformStream<Packet, Packet>({
      transform(packet, controller) {
        passed.push(packet.copy());
        const reply = echoReply(packet);
        if (reply !== null) {
          replies++;
          controller.enqueue(reply);
        }
      },
    });
    const stop = new AbortController();
    const running = pipeline(tun.readable, pcapTap(writer), echo, tun.writable, { signal: stop.signal });
    running.catch(() => undefined);

    const v4 = await ping(ns, '198.18.0.2', { count: 3 });
    const v6 = await ping(ns, 'fd00::2', { count: 3 });
    t.equal(v4.received, 3, `IPv4: ${v4.output.trim().split('\n').pop()}`);
    t.equal(v6.received, 3, `IPv6: ${v6.output.trim().split('\n').pop()}`);
    t.equal(replies, 6, 'the echo stage answered 3 + 3 requests');

    stop.abort();
    await t.rejects(running, { code: 'ERR_TUN_ABORTED' }, 'aborting ends the pipeline');
    await writer.close();
    // pipeline() settles at the abort; the cancel then travels back stage by stage.
    t.ok(await until(() => tun.activeConsumer === undefined), 'the aborted pipeline released the device');

    const lines = await tcpdumpRead(file);
    t.equal(lines.length, passed.length, `tcpdump shows ${lines.length} packets, ${passed.length} passed the tap`);
    t.equal(lines.filter((l) => / IP 198\.18\.0\.1 > 198\.18\.0\.2: ICMP echo request/.test(l)).length, 3, 'three ICMPv4 echo requests');
    t.equal(lines.filter((l) => / IP6 fd00::1 > fd00::2: ICMP6, echo request/.test(l)).length, 3, 'three ICMPv6 echo requests');
    const records = readPcap(new Uint8Array(readFileSync(file))).records;
    t.same(
      records.map((r) => Buffer.from(r.data).toString('hex')),
      passed.map((p) => Buffer.from(p.data).toString('hex')),
      'the records are the passed packets, in order, byte for byte',
    );
    const stats = tun.stats();
    t.ok(stats.delivered >= passed.length, `linux-mq delivered ${stats.delivered} packets to the stream`);
    t.equal(stats.sent, 6, 'six replies went into the TX ring');
  });
}
