/**
 * `npm run demo`: a TUN device in a private network namespace whose traffic is
 * answered from userspace. `ping` (IPv4 and IPv6) and a UDP client run inside the
 * namespace; every packet the device hands over is printed with what was done to it.
 * Everything is removed at the end (and on Ctrl-C).
 */
import { DeviceBuilder, enterNetns, type Device } from '@tunpipe/core';
import { answerEcho } from '../echo/responder.js';
import { missingPrivileges } from '../lib/privileges.js';
import { ScratchNetns } from '../lib/scratch-netns.js';

const DEVICE = 'tpdemo0';
const V4 = { local: '198.18.0.1', peer: '198.18.0.2' };
const V6 = { local: 'fd00:de::1', peer: 'fd00:de::2' };

const UDP_CLIENT = `
const s = require('node:dgram').createSocket(process.argv[1].includes(':') ? 'udp6' : 'udp4');
const t = setTimeout(() => { console.log('no reply'); process.exit(1); }, 3000);
s.on('message', (m) => { console.log('reply: ' + m); clearTimeout(t); s.close(); });
s.send('hello tunpipe', 7, process.argv[1]);`;

async function main(): Promise<number> {
  const missing = missingPrivileges();
  if (missing) {
    console.error(`tunpipe demo: ${missing}`);
    return 1;
  }
  const started = Date.now();
  using ns = new ScratchNetns('demo');
  let dev: Device;
  {
    using _inside = enterNetns(ns.name); // devices built here live in the namespace
    dev = new DeviceBuilder().name(DEVICE).ipv4(V4.local, 24).ipv6(V6.local, 64).mtu(1500).build();
  }
  using _dev = dev;
  console.log(`tunpipe demo: ${dev.name()} (ifindex ${dev.ifIndex()}) in namespace ${ns.name}`);
  for (const a of dev.addresses()) console.log(`  address ${a.address}/${a.prefix}`);
  console.log(`  answering ICMP echo and UDP echo (port 7) for ${V4.peer} and ${V6.peer} from userspace\n`);

  const seen = { packets: 0, replies: 0, other: 0 };
  const stop = new AbortController();
  const buf = new Uint8Array(65_536);
  const responder = (async () => {
    while (!stop.signal.aborted) {
      let n: number | null;
      try {
        n = await dev.recv(buf, { signal: stop.signal });
      } catch (e) {
        if (stop.signal.aborted) return;
        throw e;
      }
      for (; n !== null; n = dev.tryRecv(buf)) {
        seen.packets++;
        const packet = buf.subarray(0, n);
        const result = answerEcho(packet);
        if (result.replyLength > 0) {
          dev.send(packet.subarray(0, result.replyLength));
          seen.replies++;
          console.log(`  ← ${result.summary}  → replied`);
        } else {
          seen.other++;
          console.log(`  ← ${result.summary}`);
        }
      }
    }
  })();

  const steps: Array<[label: string, shown: string, cmd: string, args: string[]]> = [
    ['ping IPv4', `ping -c 3 ${V4.peer}`, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', V4.peer]],
    ['ping IPv6', `ping -6 -c 3 ${V6.peer}`, 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', V6.peer]],
    ['UDP echo IPv4', `udp-client ${V4.peer} 7`, process.execPath, ['-e', UDP_CLIENT, V4.peer]],
    ['UDP echo IPv6', `udp-client ${V6.peer} 7`, process.execPath, ['-e', UDP_CLIENT, V6.peer]],
  ];
  let failures = 0;
  for (const [label, shown, cmd, args] of steps) {
    console.log(`$ ip netns exec ${ns.name} ${shown}`);
    const r = await ns.run(cmd, args);
    const last = r.stdout.trim().split('\n').filter((l) => /packets transmitted|reply|no reply/.test(l));
    console.log(`  ${label}: ${last.join(' ') || r.stderr.trim()}`);
    if (r.code !== 0) failures++;
  }

  stop.abort();
  await responder;
  console.log(`\nsummary: ${seen.packets} packets seen, ${seen.replies} answered, ${seen.other} left alone; ${failures} failed step(s); ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const err = e as { code?: string; message?: string };
    console.error(`tunpipe demo: ${err.code ?? 'error'}: ${err.message ?? String(e)}`);
    process.exitCode = 1;
  },
);
