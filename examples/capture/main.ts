/**
 * The capture example: a TUN device in a scratch namespace answers ping from
 * userspace while every packet it reads and writes goes into a pcap file, which
 * `tcpdump -r` then reads back.
 *
 *   node examples/dist/capture/main.js [FILE]     (default /tmp/tunpipe-capture.pcap)
 */
import { spawnSync } from 'node:child_process';
import { enterNetns } from '@tunpipe/core';
import { missingPrivileges } from '../lib/privileges.js';
import { ScratchNetns } from '../lib/scratch-netns.js';
import { startEchoCapture, type EchoCapture } from './echo-capture.js';
import { runMain } from '../lib/run-main.js';

async function main(): Promise<number> {
  const missing = missingPrivileges();
  if (missing) {
    console.error(`capture example: ${missing}`);
    return 1;
  }
  const file = process.argv[2] ?? '/tmp/tunpipe-capture.pcap';
  using ns = new ScratchNetns('capture');
  let capture: EchoCapture;
  {
    using _inside = enterNetns(ns.name);
    capture = await startEchoCapture({ name: 'tpcap0', ipv4: { address: '198.18.12.1', prefix: 24 }, ipv6: [{ address: 'fd00:12::1', prefix: 64 }] }, file);
  }
  console.log(`capture: tpcap0 in ${ns.name}, recording to ${file}`);
  let failures = 0;
  for (const args of [['-4', '-n', '-c', '3', '-i', '0.2', '-W', '2', '198.18.12.2'], ['-6', '-n', '-c', '3', '-i', '0.2', '-W', '2', 'fd00:12::2']]) {
    const r = await ns.run('ping', args, 10_000);
    console.log(`$ ping ${args.join(' ')}: ${r.stdout.split('\n').find((l) => l.includes('transmitted')) ?? r.stderr.trim()}`);
    if (r.code !== 0) failures++;
  }
  const records = await capture.stop();
  console.log(`capture: ${records} packets written; tcpdump -nn -r ${file}:`);
  const dump = spawnSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8' });
  if (dump.error) console.log(`  (tcpdump not available: ${dump.error.message})`);
  else console.log(dump.stdout.trimEnd().replace(/^/gm, '  '));
  return failures === 0 ? 0 : 1;
}

runMain('capture example', main);
