/**
 * Capture taps: packets crafted with offload's builders flow through `pcapTap`
 * (web streams) and `tapPcap` (RxJS); tcpdump reads the files and prints exactly
 * the packets that passed (and only the filtered ones when a filter is set).
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { buildEthernetFrame, buildIcmpPacket, buildTcpPacket, buildUdpPacket } from '@tunpipe/offload';
import { tcpdumpRead } from '@tunpipe/testkit';
import { packetOf, type Packet } from '../src/packet.js';
import { pcapTap, tapPcap } from '../src/pcap-tap.js';
import { PcapWriter } from '../src/pcap-writer.js';
import { pipeline } from '../src/pipeline.js';
import { packetMatcher } from '../src/protocol-filter.js';
import { readableFrom, recordingWritable } from './web-stream-io.js';

const dir = mkdtempSync(join(tmpdir(), 'tp-pcaptap-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmpFile = (): string => join(dir, `tap${n++}.pcap`);

const T0 = 1_700_000_000_000_000_000n;

/** Crafted traffic and the line tcpdump -nn prints for each packet (after the timestamp). */
function traffic(): Array<[Packet, string]> {
  const rows: Array<[Uint8Array, string]> = [
    [
      buildIcmpPacket({ src: '198.18.0.1', dst: '198.18.0.2', identifier: 4711, sequence: 1, payload: 56 }),
      'IP 198.18.0.1 > 198.18.0.2: ICMP echo request, id 4711, seq 1, length 64',
    ],
    [
      buildIcmpPacket({ src: '198.18.0.2', dst: '198.18.0.1', type: 0, identifier: 4711, sequence: 1, payload: 56 }),
      'IP 198.18.0.2 > 198.18.0.1: ICMP echo reply, id 4711, seq 1, length 64',
    ],
    [
      buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 40000, dstPort: 40001, payload: 30 }),
      'IP 198.18.0.1.40000 > 198.18.0.2.40001: UDP, length 30',
    ],
    [
      buildIcmpPacket({ src: 'fd00::1', dst: 'fd00::2', identifier: 99, sequence: 7, payload: 16 }),
      'IP6 fd00::1 > fd00::2: ICMP6, echo request, id 99, seq 7, length 24',
    ],
    [
      buildUdpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 40000, dstPort: 40001, payload: 3 }),
      'IP6 fd00::1.40000 > fd00::2.40001: UDP, length 3',
    ],
    [
      buildTcpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 40000, dstPort: 40001, seq: 1000, ack: 5, payload: 10 }),
      'IP 198.18.0.1.40000 > 198.18.0.2.40001: Flags [.], seq 1000:1010, ack 5, win 65535, length 10',
    ],
  ];
  return rows.map(([bytes, line], i) => [packetOf(bytes, { timestamp: T0 + BigInt(i + 1) }), line]);
}

const stamp = (i: number): string => `1700000000.00000000${i + 1}`;

t.test('pcapTap in a pipeline: everything passes unchanged; tcpdump prints exactly those packets', async (t) => {
  const rows = traffic();
  const file = tmpFile();
  const writer = new PcapWriter(file, { precision: 'nano' });
  const out: Packet[] = [];
  await pipeline(readableFrom(rows.map(([p]) => p)), pcapTap(writer), recordingWritable(out));
  await writer.close();
  t.equal(out.length, rows.length);
  t.ok(out.every((p, i) => p === rows[i]![0]), 'the same packets, in order, untouched');
  const lines = await tcpdumpRead(file, ['-tt', '--time-stamp-precision=nano']);
  t.same(lines, rows.map(([, line], i) => `${stamp(i)} ${line}`));
  const verbose = (await tcpdumpRead(file, ['-vv'])).join('\n');
  t.equal((verbose.match(/sum ok|cksum 0x[0-9a-f]+ \(correct\)/g) ?? []).length, 4, 'ICMPv6, UDP (v4, v6) and TCP checksums verify: bytes intact');
});

t.test('a filter records only what it matches, and everything still passes', async (t) => {
  const rows = traffic();
  const file = tmpFile();
  const writer = new PcapWriter(file, { precision: 'nano' });
  const out: Packet[] = [];
  await pipeline(readableFrom(rows.map(([p]) => p)), pcapTap(writer, { filter: packetMatcher({ protocol: 'icmp' }) }), recordingWritable(out));
  await writer.close();
  t.equal(out.length, rows.length, 'all packets passed');
  const lines = await tcpdumpRead(file, ['-tt', '--time-stamp-precision=nano']);
  const icmpRows = [0, 1, 3];
  t.same(lines, icmpRows.map((i) => `${stamp(i)} ${rows[i]![1]}`), 'only ICMP and ICMPv6 recorded');
  t.equal(writer.stats().packets, 3);
});

t.test('tapPcap (RxJS): records what flows, passes everything on', async (t) => {
  const rows = traffic();
  const file = tmpFile();
  const writer = new PcapWriter(file);
  const out = await lastValueFrom(from(rows.map(([p]) => p)).pipe(tapPcap(writer, { filter: packetMatcher({ protocol: 'udp' }) }), toArray()));
  await writer.close();
  t.equal(out.length, rows.length);
  const lines = await tcpdumpRead(file);
  t.same(lines.map((l) => l.replace(/^\S+ /, '')), [rows[2]![1], rows[4]![1]], 'the two UDP packets, micro precision');
  t.equal(writer.stats().dropped, 0);
});

t.test('TAP frames: an Ethernet capture shows MAC addresses and the IP inside', async (t) => {
  const file = tmpFile();
  const writer = new PcapWriter(file, { linkType: 'ethernet' });
  const ip = buildIcmpPacket({ src: '198.18.0.1', dst: '198.18.0.2', identifier: 1, sequence: 2, payload: 8 });
  const frame = buildEthernetFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', payload: ip });
  await lastValueFrom(from([packetOf(frame, { timestamp: T0 })]).pipe(tapPcap(writer), toArray()));
  await writer.close();
  t.same(await tcpdumpRead(file, ['-e', '-tt']), [
    '1700000000.000000 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 50: 198.18.0.1 > 198.18.0.2: ICMP echo request, id 1, seq 2, length 16',
  ]);
});

t.test('ring reuse after the tap cannot change the capture (bytes copied at once)', async (t) => {
  const ring = new Uint8Array(new SharedArrayBuffer(256));
  const file = tmpFile();
  const writer = new PcapWriter(file, { precision: 'nano' });
  const [[first, line]] = traffic();
  ring.set(first.data);
  const view = packetOf(ring.subarray(0, first.data.length), { timestamp: T0 + 1n });
  const passed = await lastValueFrom(from([view]).pipe(tapPcap(writer), toArray()));
  ring.fill(0); // the ring slot is reused right after the packet passed
  await writer.close();
  t.equal(passed.length, 1);
  t.same(await tcpdumpRead(file, ['-tt', '--time-stamp-precision=nano']), [`${stamp(0)} ${line}`]);
});

t.test('a failing capture sink fails the stream (pcapTap) and the observable (tapPcap)', async (t) => {
  const broken = () =>
    new WritableStream<Uint8Array>({
      write() {
        throw new Error('disk gone');
      },
    });
  const packets = Array.from({ length: 50 }, (_, i) => packetOf(new Uint8Array(100).fill(i), { timestamp: T0 }));
  const w1 = new PcapWriter(broken(), { bufferSize: 256 });
  await t.rejects(pipeline(readableFrom(packets), pcapTap(w1), recordingWritable<Packet>([])), { code: 'ERR_TUN_CAPTURE_WRITE' });
  const w2 = new PcapWriter(broken(), { bufferSize: 256 });
  const slowly = async function* () {
    for (const p of packets) {
      yield p;
      await new Promise((r) => setImmediate(r));
    }
  };
  await t.rejects(lastValueFrom(from(slowly()).pipe(tapPcap(w2))), { code: 'ERR_TUN_CAPTURE_WRITE' });
});
