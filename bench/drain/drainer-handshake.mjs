/**
 * The start of every drainer of the drain suite (the protocol drain-suite.mjs
 * speaks): create TUN IFNAME without offload, print READY, wait for `go N` on
 * stdin (N packets are now queued in the kernel), and give up after 30 s.
 */
import { createInterface } from 'node:readline';
import { DeviceBuilder } from '@tunpipe/core';

/**
 * Runs the handshake for drainer `label`; resolves with the device and the
 * number of packets to drain (`go N`, or `fallbackCount` when N is missing).
 */
export async function drainerHandshake(label, name, fallbackCount) {
  const device = new DeviceBuilder().name(name).build();
  process.stdout.write('READY\n');
  const rl = createInterface({ input: process.stdin });
  const line = await new Promise((resolve) => rl.once('line', resolve));
  rl.close();
  const count = Number(String(line).split(' ')[1]) || fallbackCount;
  setTimeout(() => {
    process.stderr.write(`${label}: gave up after 30 s\n`);
    process.exit(2);
  }, 30_000).unref();
  return { device, count };
}
