/**
 * Packets through a TUN device, judged from outside: UDP datagrams sent by a
 * program inside the namespace arrive through `recv`; echo replies written with
 * `send` make the real `ping` (IPv4 and IPv6) succeed. Every loop is bounded in
 * packets and time; only 198.18.0.0/24 and fd00::/64 inside the test namespace.
 */
import t, { type Test } from 'tap';
import { TunError } from '@tunpipe/offload';
import { createNetns, ping, requireNetAdmin, type Netns } from '@tunpipe/testkit';
import { DeviceBuilder } from '../src/builder.js';
import type { Device } from '../src/device.js';
import {
  arpReply, echoReply, etherEchoReply, etherType, summarize, udpPayload, ETH_HLEN, ETH_P_ARP, ETH_P_IP, PROTO_ICMP, PROTO_ICMPV6,
} from './support/packets.js';

/** Packets any loop below reads at most. */
const MAX_PACKETS = 200;

function tunDevice(t: Test, ns: Netns, name: string): Device {
  let dev: Device;
  {
    using _ = ns.enter();
    dev = new DeviceBuilder().name(name).ipv4('198.18.0.1', 24).ipv6('fd00::1', 64).build();
  }
  t.teardown(() => dev.close());
  return dev;
}

/** Reads until `match` accepts a packet; bounded by MAX_PACKETS and `timeoutMs`. */
async function recvUntil(dev: Device, buf: Uint8Array, timeoutMs: number, match: (n: number) => boolean): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < MAX_PACKETS; i++) {
    const n = await dev.recv(buf, { timeout: Math.max(1, deadline - performance.now()) });
    if (match(n)) return n;
  }
  throw new Error(`no matching packet among ${MAX_PACKETS}`);
}

/** A node one-liner sending one UDP datagram from inside the namespace. */
function sendUdp(ns: Netns, family: 'udp4' | 'udp6', host: string, port: number, text: string): Promise<unknown> {
  const script = `const s=require('node:dgram').createSocket('${family}');s.send(${JSON.stringify(text)},${port},'${host}',(e)=>{s.close();if(e){console.error(e);process.exit(1)}})`;
  return ns.exec(process.execPath, ['-e', script]);
}

for (const [family, peer, source] of [['udp4', '198.18.0.2', '198.18.0.1'], ['udp6', 'fd00::2', 'fd00::1']] as const) {
  t.test(`UDP over IPv${family === 'udp4' ? 4 : 6} from the namespace arrives through recv`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, `udp${family}`);
    const dev = tunDevice(t, ns, 'tpudp0');
    const buf = new Uint8Array(2048);
    const text = `hello over ${family}`;
    const arrived = recvUntil(dev, buf, 5000, (n) => udpPayload(buf, n)?.dstPort === 4321);
    const sender = await sendUdp(ns, family, peer, 4321, text);
    t.match(sender, { code: 0 }, 'the sender ran');
    const n = await arrived;
    const ip = summarize(buf, n);
    t.equal(ip?.version, family === 'udp4' ? 4 : 6);
    t.equal(ip?.src, source, 'from the device address');
    t.equal(ip?.dst, peer, 'to the peer');
    t.equal(ip?.length, n, 'recv returned exactly one packet');
    t.equal(new TextDecoder().decode(udpPayload(buf, n)?.payload), text, 'payload intact');
  });
}

for (const [peer, proto] of [['198.18.0.2', PROTO_ICMP], ['fd00::2', PROTO_ICMPV6]] as const) {
  t.test(`ping ${peer}: echo replies written with send() satisfy the real ping`, async (t) => {
    if (!requireNetAdmin(t)) return;
    const ns = createNetns(t, 'ping');
    const dev = tunDevice(t, ns, 'tpping0');
    const buf = new Uint8Array(2048);
    const stop = new AbortController();
    const seen: string[] = [];
    const responder = (async (): Promise<number> => {
      let replies = 0;
      for (let i = 0; i < MAX_PACKETS; i++) {
        let n: number;
        try {
          n = await dev.recv(buf, { signal: stop.signal, timeout: 15_000 });
        } catch (e) {
          if (e instanceof TunError && e.code === 'ERR_TUN_ABORTED') break;
          throw e;
        }
        const ip = summarize(buf, n);
        if (ip?.protocol === proto && ip.dst === peer) seen.push(`${ip.src}>${ip.dst}`);
        const reply = echoReply(buf, n);
        if (reply !== null && summarize(reply)?.src === peer) {
          t.equal(dev.send(reply), reply.length, 'send wrote the whole reply');
          replies++;
        }
      }
      return replies;
    })();
    const result = await ping(ns, peer, { count: 3 });
    stop.abort();
    const replies = await responder;
    t.equal(result.transmitted, 3);
    t.equal(result.received, 3, 'ping got 3 replies', { output: result.output });
    t.equal(replies, 3, 'the responder answered 3 requests');
    t.ok(seen.length >= 3 && seen.every((s) => s.endsWith(`>${peer}`)), 'requests went to the peer', { seen });
  });
}

t.test('TAP: frames in and out; ARP and echo replies written with send() satisfy the real ping', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'tapping');
  let dev: Device;
  {
    using _ = ns.enter();
    dev = new DeviceBuilder().name('tptap0').layer('l2').macAddr('02:00:5e:00:00:01').ipv4('198.18.0.1', 24).build();
  }
  t.teardown(() => dev.close());
  const peerIp = new Uint8Array([198, 18, 0, 2]);
  const peerMac = new Uint8Array([2, 0, 0x5e, 0, 0, 2]);
  const buf = new Uint8Array(2048);
  const stop = new AbortController();
  const counts = { arp: 0, echo: 0 };
  const responder = (async (): Promise<void> => {
    for (let i = 0; i < MAX_PACKETS; i++) {
      let n: number;
      try {
        n = await dev.recv(buf, { signal: stop.signal, timeout: 15_000 });
      } catch (e) {
        if (e instanceof TunError && e.code === 'ERR_TUN_ABORTED') return;
        throw e;
      }
      const arp = arpReply(buf, n, peerIp, peerMac);
      if (arp !== null) {
        t.same([...buf.subarray(6, 12)], [2, 0, 0x5e, 0, 0, 1], 'the ARP request comes from the device MAC');
        dev.send(arp);
        counts.arp++;
        continue;
      }
      const echo = etherEchoReply(buf, n);
      if (echo !== null && summarize(echo.subarray(ETH_HLEN))?.src === '198.18.0.2') {
        t.same([...buf.subarray(0, 6)], [...peerMac], 'the echo request is addressed to the MAC we announced');
        t.equal(etherType(buf), ETH_P_IP);
        dev.send(echo);
        counts.echo++;
      }
    }
  })();
  const result = await ping(ns, '198.18.0.2', { count: 3 });
  stop.abort();
  await responder;
  t.equal(result.received, 3, 'ping got 3 replies over Ethernet', { output: result.output });
  t.ok(counts.arp >= 1, `answered ${counts.arp} ARP request(s) (EtherType 0x${ETH_P_ARP.toString(16)})`);
  t.equal(counts.echo, 3);
  const neigh = (await ns.ipJson('neigh', 'show', 'dev', 'tptap0')) as Array<{ dst: string; lladdr?: string }>;
  t.equal(neigh.find((e) => e.dst === '198.18.0.2')?.lladdr, '02:00:5e:00:00:02', 'ip neigh learned our ARP reply');
});

t.test('send on a device that is down fails with a coded error', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'senddown');
  const dev = tunDevice(t, ns, 'tpdown0');
  dev.enabled(false);
  const packet = new Uint8Array(28);
  packet.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1]);
  try {
    dev.send(packet);
    t.fail('send on a down device succeeded');
  } catch (e) {
    t.ok(e instanceof TunError, 'a TunError');
    t.equal((e as TunError).code, 'ERR_TUN_WRITE');
    t.equal((e as TunError).sysCode, 'EIO', 'the kernel says EIO');
    t.equal((e as TunError).syscall, 'write');
  }
});
