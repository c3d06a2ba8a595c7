/**
 * A pipeline that writes packets which lie or cannot be sent into `tun.writable`:
 * empty, larger than a TX slot, virtio header fields or queue out of range (each
 * dropped and counted in `stats().rejected`), IP lengths and checksums that lie
 * (written; the kernel drops them), virtio headers that cannot be honoured
 * (counted `txMalformed`). The writable stays open: every valid datagram of the
 * same pipeline reaches a UDP socket in the namespace (the oracle), and the same
 * writable carries a second pipeline afterwards. Chunks that are not packets at
 * all still error the stream (a programming error, not bad input).
 */
import t from 'tap';
import { createNetns, requireNetAdmin, type Netns, type TestContext } from '@tunpipe/testkit';
import { buildUdpPacket, type VirtioNetHdr } from '@tunpipe/offload';
import { packetOf, type Packet } from '../src/packet.js';
import type { WritablePacket } from '../src/packet-sink.js';
import { openTunIn, peerPath } from './device-fixtures.js';
import { readableFrom } from './web-stream-io.js';

const valid = (seq: number): Uint8Array => {
  const payload = new Uint8Array(64);
  new DataView(payload.buffer).setUint32(0, seq);
  return buildUdpPacket({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 5555, dstPort: 7000, payload });
};
const lie = (): Uint8Array => buildUdpPacket({ src: '198.18.0.2', dst: '198.18.0.1', srcPort: 5556, dstPort: 7001, payload: 40 });
const mangled = (edit: (b: Uint8Array, v: DataView) => void): Uint8Array => {
  const c = lie();
  edit(c, new DataView(c.buffer));
  return c;
};
const hdr = (h: Partial<VirtioNetHdr>): VirtioNetHdr => ({ flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, ...h });

/** What a lie becomes: `rejected` by the writable, `malformed` (txMalformed) in the worker, or `written` (the kernel judges). */
const LIES: Array<{ label: string; chunk: WritablePacket; outcome: 'rejected' | 'malformed' | 'written' }> = [
  { label: 'empty', chunk: new Uint8Array(0), outcome: 'rejected' },
  { label: 'larger than a TX slot', chunk: new Uint8Array(70_000).fill(0x45), outcome: 'rejected' },
  { label: 'gso_size 70000 (not a u16)', chunk: packetOf(lie(), { virtioHeader: hdr({ flags: 1, gsoType: 5, hdrLen: 28, gsoSize: 70_000, csumStart: 20, csumOffset: 6 }) }), outcome: 'rejected' },
  { label: 'negative csum_start', chunk: packetOf(lie(), { virtioHeader: hdr({ flags: 1, csumStart: -1, csumOffset: 6 }) }), outcome: 'rejected' },
  { label: 'queue 99 (txQueue: packet)', chunk: packetOf(lie(), { queue: 99 }), outcome: 'rejected' },
  { label: 'IPv4 total length beyond the buffer', chunk: mangled((_, v) => v.setUint16(2, 1000)), outcome: 'written' },
  { label: 'IHL 3', chunk: mangled((b) => (b[0] = 0x43)), outcome: 'written' },
  { label: 'wrong UDP checksum', chunk: mangled((b) => (b[26]! ^= 0xff)), outcome: 'written' },
  { label: 'not IP', chunk: new Uint8Array(40).fill(7), outcome: 'malformed' },
  { label: 'NEEDS_CSUM past the end', chunk: packetOf(lie(), { virtioHeader: hdr({ flags: 1, csumStart: 20, csumOffset: 200 }) }), outcome: 'malformed' },
  { label: 'GSO UDP with gso_size 0', chunk: packetOf(lie(), { virtioHeader: hdr({ flags: 1, gsoType: 5, hdrLen: 28, csumStart: 20, csumOffset: 6 }) }), outcome: 'malformed' },
];

async function receiver(t: TestContext, ns: Netns, expect: number): Promise<() => Promise<{ received: number; seqs: number[] }>> {
  const peer = ns.spawn(t, 'node', [peerPath('udp-count'), '198.18.0.1', '7000', String(expect), '1000']);
  await peer.waitForOutput(/listening/);
  return async () => JSON.parse((await peer.wait()).stdout.trim().split('\n').pop()!) as { received: number; seqs: number[] };
}

t.test('lying and unsendable packets from a pipeline: counted by cause, the writable keeps going', async (t) => {
  if (!requireNetAdmin(t)) return;
  const ns = createNetns(t, 'bad-pipe');
  const tun = await openTunIn(ns, { name: 'tpbadpipe0', ipv4: { address: '198.18.0.1', prefix: 24 }, txQueue: 'packet' });
  t.teardown(() => tun.close());
  const ROUNDS = 3;
  const AFTER = 20;
  const expect = ROUNDS * LIES.length + AFTER;
  const result = await receiver(t, ns, expect);
  // Round r: each lie after a valid datagram, through a transform stage (a pipeline, not direct writes).
  const chunks: WritablePacket[] = [];
  let seq = 0;
  for (let r = 0; r < ROUNDS; r++) for (const l of LIES) chunks.push(valid(seq++), l.chunk);
  await readableFrom(chunks)
    .pipeThrough(new TransformStream<WritablePacket, WritablePacket>())
    .pipeTo(tun.writable, { preventClose: true });
  // The same writable, a second pipeline: the queue and the stream still work.
  await readableFrom(Array.from({ length: AFTER }, () => packetOf(valid(seq++)) as Packet)).pipeTo(tun.writable);
  const got = await result();
  t.equal(got.received, expect, `all ${expect} valid datagrams arrived`);
  t.same([...got.seqs].sort((a, b) => a - b), Array.from({ length: expect }, (_, i) => i), 'each once');
  const count = (o: string) => ROUNDS * LIES.filter((l) => l.outcome === o).length;
  const s = tun.stats();
  t.equal(s.rejected, count('rejected'), `${count('rejected')} unsendable packets rejected by the writable`);
  t.equal(s.sent, expect + count('written') + count('malformed'), 'everything else went into the TX ring');
  t.equal(s.txMalformed, count('malformed'), `${count('malformed')} refused as malformed by the worker`);
  t.equal(s.txErrors, s.txMalformed, 'no other write failed');
  t.equal(s.txPackets, expect + count('written'), 'valid datagrams and the IP lies were written (the kernel drops the lies)');

  // Not a packet at all: still a programming error that errors the stream.
  await t.rejects(readableFrom([{ data: 'nope' } as unknown as WritablePacket]).pipeTo(tun.writable), { code: 'ERR_TUN_INVALID_ARGUMENT' });
});
