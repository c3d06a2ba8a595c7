/**
 * The echo example: a TUN device in a scratch namespace whose echo traffic is
 * answered from userspace. `ping` (IPv4, IPv6) and a UDP client run inside the
 * namespace; the counters of the queue workers are printed at the end.
 *
 *   node examples/dist/echo/main.js
 */
import { DeviceBuilder, enterNetns } from '@tunpipe/core';
import { missingPrivileges } from '../lib/privileges.js';
import { ScratchNetns } from '../lib/scratch-netns.js';
import { startEcho, type EchoService } from './echo-service.js';
import { UDP_CLIENT } from './udp-client.js';
import { runMain } from '../lib/run-main.js';

/** The namespace side of the device and the peer addresses answered by the service. */
const V4 = { local: '198.18.9.1', peer: '198.18.9.2' };
const V6 = { local: 'fd00:9::1', peer: 'fd00:9::2' };

async function main(): Promise<number> {
  const missing = missingPrivileges();
  if (missing) {
    console.error(`echo example: ${missing}`);
    return 1;
  }
  using ns = new ScratchNetns('echo');
  let service: EchoService;
  {
    using _inside = enterNetns(ns.name); // the device and its queue workers live in the namespace
    service = await startEcho({ device: new DeviceBuilder().name('tpecho0').ipv4(V4.local, 24).ipv6(V6.local, 64), queues: 2 });
  }
  await using _service = service;
  console.log(`echo: tpecho0 in ${ns.name}, answering ${V4.peer} and ${V6.peer} (ICMP echo, UDP port 7) in 2 queue workers`);

  const steps: Array<[string, string, string[]]> = [
    ['ping IPv4', 'ping', ['-4', '-n', '-c', '3', '-i', '0.2', '-W', '2', V4.peer]],
    ['ping IPv6', 'ping', ['-6', '-n', '-c', '3', '-i', '0.2', '-W', '2', V6.peer]],
    ['UDP IPv4', process.execPath, ['-e', UDP_CLIENT, V4.peer, 'hello over IPv4']],
    ['UDP IPv6', process.execPath, ['-e', UDP_CLIENT, V6.peer, 'hello over IPv6']],
  ];
  let failures = 0;
  for (const [label, cmd, args] of steps) {
    const r = await ns.run(cmd, args, 10_000);
    const summary = r.stdout.split('\n').filter((l) => /packets transmitted|reply/.test(l)).join(' ');
    console.log(`${label}: ${summary || r.stderr.trim()}`);
    if (r.code !== 0) failures++;
  }
  const t = service.totals();
  console.log(`queue workers: ${t.rxPackets} packets received, ${t.replied} answered, ${t.handlerDrops} left alone; ${failures} failed step(s)`);
  return failures === 0 ? 0 : 1;
}

runMain('echo example', main);
