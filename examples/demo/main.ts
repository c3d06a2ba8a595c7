/**
 * `npm run demo`: tunpipe's userspace router end to end, in under a minute.
 *
 * ```
 *  ns A  198.18.1.1  tpra0 ══ router (one worker per queue per device, TTL-1, in-worker) ══ tprb0  198.18.2.1  ns B
 *        ping, TCP source ────────────────────────────────────────────────────────────────► ping replies, TCP sink, tcpdump
 * ```
 *
 * Creates two private namespaces, starts the router (examples/router) on every
 * core with live per-queue stats, drives ping (IPv4, IPv6, TTL 1) and a bounded
 * parallel TCP transfer from A to B through it, prints the final per-queue stats
 * and a summary of what tcpdump captured on B's side, and removes everything
 * (also on Ctrl-C). Exit status 0 when every step worked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { missingPrivileges } from '../lib/privileges.js';
import { ScratchNetns } from '../lib/scratch-netns.js';
import { TCP_TRANSFER_SCRIPT, parseTransferReports } from '../lib/tcp-transfer.js';
import { startRouter } from '../router/router.js';
import { exampleSides, EXAMPLE_HOSTS } from '../router/topology.js';
import { LiveStats, finalStatsLines } from '../router/live-stats.js';
import { countProtocols, formatCounts } from './capture-summary.js';
import { runMain } from '../lib/run-main.js';

/** Parallel TCP connections (flows spread over the queues) and bytes each carries. */
const CONNECTIONS = 4;
const BYTES_PER_CONNECTION = 48 * 1024 * 1024;
const PORT = 5201;

async function main(): Promise<number> {
  const missing = missingPrivileges();
  if (missing) {
    console.error(`tunpipe demo: ${missing}`);
    console.error('  it creates two network namespaces and two TUN devices (CAP_NET_ADMIN, CAP_SYS_ADMIN),');
    console.error('  and runs ping, tcpdump and ip inside them; everything is removed when it ends.');
    console.error('  run: sudo npm run demo   (or, once built: sudo node examples/dist/demo/main.js)');
    return 1;
  }
  const started = Date.now();
  const queues = Math.min(availableParallelism(), 4);
  using a = new ScratchNetns('demo-a');
  using b = new ScratchNetns('demo-b');
  const set = await startRouter({ sides: exampleSides(a.name, b.name), queues, checksum: 'incremental' });
  const names = set.devices.map((d) => d.name());
  const dir = mkdtempSync(join(tmpdir(), 'tunpipe-demo-'));
  const pcap = join(dir, 'tprb0.pcap');
  let failures = 0;
  try {
    console.log('tunpipe demo: a userspace IP router between two network namespaces');
    console.log(`  ${a.name}: ${EXAMPLE_HOSTS.a.ipv4}/24 ${EXAMPLE_HOSTS.a.ipv6}/64 on ${names[0]}`);
    console.log(`  ${b.name}: ${EXAMPLE_HOSTS.b.ipv4}/24 ${EXAMPLE_HOSTS.b.ipv6}/64 on ${names[1]}`);
    console.log(`  router: ${queues} queue(s) per device, one worker thread each, keep mode (superpackets routed whole),`);
    console.log('          TTL/hop limit decremented in the workers (RFC 1624 checksum update), ICMP time exceeded at TTL 1\n');

    const tcpdump = await startCapture(b, names[1]!, pcap);
    const live = new LiveStats(set, names, process.stdout, 500);
    const step = (line: string): void => live.log(line);

    const pings: Array<[label: string, args: string[], expect: RegExp]> = [
      ['ping IPv4', ['-4', '-n', '-c', '5', '-i', '0.2', '-W', '2', EXAMPLE_HOSTS.b.ipv4], /ttl=63/],
      ['ping IPv6', ['-6', '-n', '-c', '5', '-i', '0.2', '-W', '2', EXAMPLE_HOSTS.b.ipv6], /ttl=63/],
      ['ping TTL 1', ['-4', '-n', '-c', '1', '-W', '2', '-t', '1', EXAMPLE_HOSTS.b.ipv4], /Time to live exceeded/],
    ];
    for (const [label, args, expect] of pings) {
      step(`$ ip netns exec ${a.name} ping ${args.join(' ')}`);
      const r = await a.run('ping', args, 15_000);
      const summary = /\d+ packets transmitted, \d+ received/.exec(r.stdout)?.[0] ?? r.stderr.trim();
      const detail = expect.exec(r.stdout)?.[0];
      const first = r.stdout.split('\n').find((l) => expect.test(l))?.trim();
      step(`  ${label}: ${summary}${first ? `; ${first}` : ''}`);
      // ping -t 1 exits 1 (no reply, an error instead): judged by the error line.
      if (detail === undefined || (label !== 'ping TTL 1' && r.code !== 0)) failures++;
    }

    step(`$ TCP: ${CONNECTIONS} connections × ${BYTES_PER_CONNECTION / 1048576} MiB from ${EXAMPLE_HOSTS.a.ipv4} to ${EXAMPLE_HOSTS.b.ipv4}:${PORT}`);
    const tcp = await transfer(a, b);
    step(`  TCP: ${tcp.summary}`);
    if (!tcp.ok) failures++;

    await stopCapture(tcpdump);
    live.refresh();
    live.stop();

    console.log('\nfinal per-queue stats (one worker per line):');
    for (const line of finalStatsLines(set, names)) console.log(`  ${line}`);
    const totals = [set.totals(0), set.totals(1)];
    const used = [...new Set(set.stats().filter((s) => s.rxPackets > 0).map((s) => s.queue))].sort();
    console.log(`  forwarded ${totals[0]!.forwarded + totals[1]!.forwarded} packets in the workers, ${totals[0]!.passed + totals[1]!.passed} to the main thread; queues used: ${used.join(', ')}`);

    const lines = await readCapture(pcap);
    console.log(`\ncapture summary (tcpdump on ${names[1]} in ${b.name}): ${lines.length} packets: ${formatCounts(countProtocols(lines))}`);
  } finally {
    await set.close();
    rmSync(dir, { recursive: true, force: true });
    a.delete();
    b.delete();
  }
  console.log(`\ncleaned up: router closed, namespaces ${a.name} and ${b.name} deleted`);
  console.log(`${failures} failed step(s); ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return failures === 0 ? 0 : 1;
}

/** Starts tcpdump on `dev` inside `ns`, writing headers only (96 bytes) to `file`, bounded in packets. */
function startCapture(ns: ScratchNetns, dev: string, file: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns.name, 'tcpdump', '-n', '-i', dev, '-s', '96', '-c', '200000', '-U', '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tcpdump did not start within 5 s')), 5000);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/listening on/.test(err)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('error', (e) => reject(new Error(`cannot run tcpdump: ${e.message} (install tcpdump)`)));
    child.on('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err.trim()}`)));
  });
}

/** Stops tcpdump (it flushes the file on SIGINT), killing it if it lingers. */
function stopCapture(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/** `tcpdump -nn -r file` lines. */
function readCapture(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('tcpdump', ['-nn', '-r', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out.split('\n').filter((l) => l !== '')));
  });
}

/** A TCP sink in B, parallel sources in A; byte-exact when every connection's SHA-256 matches. */
async function transfer(a: ScratchNetns, b: ScratchNetns): Promise<{ ok: boolean; summary: string }> {
  const sink = spawn('ip', ['netns', 'exec', b.name, process.execPath, TCP_TRANSFER_SCRIPT, 'sink', EXAMPLE_HOSTS.b.ipv4, String(PORT), String(CONNECTIONS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let sinkOut = '';
  const sinkDone = new Promise<void>((resolve) => sink.on('close', () => resolve()));
  const killTimer = setTimeout(() => sink.kill('SIGKILL'), 35_000);
  try {
    await new Promise<void>((resolve, reject) => {
      sink.stdout.on('data', (d: Buffer) => {
        sinkOut += d.toString();
        if (sinkOut.includes('listening')) resolve();
      });
      sink.on('close', (code) => reject(new Error(`TCP sink exited ${code} before listening`)));
    });
    const source = await a.run(process.execPath, [TCP_TRANSFER_SCRIPT, 'source', EXAMPLE_HOSTS.b.ipv4, String(PORT), String(BYTES_PER_CONNECTION), String(CONNECTIONS)], 35_000);
    await sinkDone;
    const sent = parseTransferReports(source.stdout);
    const got = parseTransferReports(sinkOut);
    const bytes = got.reduce((n, r) => n + r.bytes, 0);
    const expected = CONNECTIONS * BYTES_PER_CONNECTION;
    const exact = sent.length === CONNECTIONS && got.length === CONNECTIONS && got.every((r) => r.sha256 === sent[0]!.sha256 && r.bytes === BYTES_PER_CONNECTION);
    const ms = Math.max(1, ...sent.map((r) => r.ms));
    const gbps = ((bytes * 8) / ms / 1e6).toFixed(2);
    return {
      ok: exact && source.code === 0,
      summary: `${got.length} connections, ${bytes} of ${expected} bytes received, SHA-256 ${exact ? 'match' : 'MISMATCH'}, ${gbps} Gbps in ${ms} ms${source.code === 0 ? '' : ` (source: ${source.stderr.trim()})`}`,
    };
  } finally {
    clearTimeout(killTimer);
    if (sink.exitCode === null) sink.kill('SIGKILL');
  }
}

runMain('tunpipe demo', main);
