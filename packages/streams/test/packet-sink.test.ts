/**
 * `PacketSink` against a recording writer: what reaches linux-mq's writer for
 * each kind of chunk (virtio header encoded, queue by policy, plain bytes),
 * waiting sends keep their own header copy, TX rings are published every 64
 * packets, and a failing write ends the stream.
 */
import t from 'tap';
import type { PacketWriter, SendOptions } from '@tunpipe/linux-mq';
import {
  TunError, VIRTIO_NET_HDR_GSO_TCPV4, createVirtioNetHdr, decodeVirtioNetHdr, type VirtioNetHdr,
} from '@tunpipe/offload';
import { PacketSink } from '../src/packet-sink.js';
import { packetOf } from '../src/packet.js';

interface Call {
  kind: 'try' | 'send';
  data: number[];
  queue: number | undefined;
  header: VirtioNetHdr | undefined;
}

/** A writer that records calls; `room` slots accept trySend, then sends wait for `grant()`. */
class RecordingWriter {
  calls: Call[] = [];
  flushes = 0;
  room = Infinity;
  fail: Error | undefined;
  private waiters: Array<() => void> = [];
  private record(kind: Call['kind'], p: Uint8Array, o: SendOptions | undefined): Call {
    const h = o?.virtioHeader;
    return { kind, data: [...p], queue: o?.queue, header: h === undefined ? undefined : decodeVirtioNetHdr(h) };
  }
  trySend(p: Uint8Array, o?: SendOptions): boolean {
    if (this.fail !== undefined) throw this.fail;
    if (this.room <= 0) return false;
    this.room--;
    this.calls.push(this.record('try', p, o));
    return true;
  }
  async send(p: Uint8Array, o?: SendOptions): Promise<void> {
    const header = o?.virtioHeader;
    await new Promise<void>((r) => this.waiters.push(r));
    this.calls.push(this.record('send', p, { ...o, virtioHeader: header }));
  }
  grant(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  flush(): void {
    this.flushes++;
  }
}

function sinkOver(w: RecordingWriter, policy: 'flow' | 'packet' = 'flow'): PacketSink {
  return new PacketSink(w as unknown as PacketWriter, policy);
}

const GSO = ((): VirtioNetHdr => {
  const h = createVirtioNetHdr();
  h.flags = 1;
  h.gsoType = VIRTIO_NET_HDR_GSO_TCPV4;
  h.gsoSize = 1448;
  h.hdrLen = 52;
  h.csumStart = 20;
  h.csumOffset = 16;
  return h;
})();

t.test('table: what each chunk becomes', async (t) => {
  const rows: Array<[string, 'flow' | 'packet', Parameters<PacketSink['trySend']>[0], Omit<Call, 'kind'>]> = [
    ['plain bytes', 'flow', new Uint8Array([1, 2]), { data: [1, 2], queue: undefined, header: undefined }],
    ['a packet, flow policy', 'flow', packetOf(new Uint8Array([3]), { queue: 1 }), { data: [3], queue: undefined, header: undefined }],
    ['a packet, packet policy', 'packet', packetOf(new Uint8Array([4]), { queue: 1 }), { data: [4], queue: 1, header: undefined }],
    ['a superpacket', 'flow', packetOf(new Uint8Array([5, 6]), { virtioHeader: GSO }), { data: [5, 6], queue: undefined, header: GSO }],
    ['bytes after a superpacket carry no header', 'flow', new Uint8Array([7]), { data: [7], queue: undefined, header: undefined }],
  ];
  const w = new RecordingWriter();
  const sinks = { flow: sinkOver(w, 'flow'), packet: sinkOver(w, 'packet') };
  for (const [name, policy, chunk, want] of rows) {
    t.equal(sinks[policy].trySend(chunk), true, name);
    t.same(w.calls.pop(), { kind: 'try', ...want }, name);
  }
  t.throws(() => sinks.flow.trySend({ data: 'x' } as never), { code: 'ERR_TUN_INVALID_ARGUMENT' }, 'not a packet');
  t.throws(() => sinkOver(w, 'any' as never), { code: 'ERR_TUN_INVALID_ARGUMENT' }, 'unknown policy');
});

t.test('a waiting send keeps its own header while other packets go by', async (t) => {
  const w = new RecordingWriter();
  const sink = sinkOver(w);
  w.room = 0;
  const waiting = sink.send(packetOf(new Uint8Array([1]), { virtioHeader: GSO }));
  w.room = 1;
  const other = createVirtioNetHdr();
  other.flags = 1;
  other.csumStart = 20;
  other.csumOffset = 6;
  t.equal(sink.trySend(packetOf(new Uint8Array([2]), { virtioHeader: other })), true);
  w.grant();
  await waiting;
  t.same(w.calls.map((c) => [c.kind, c.data, c.header]), [
    ['try', [2], other],
    ['send', [1], GSO],
  ]);
});

t.test('TX rings are published every 64 packets (and on flush)', async (t) => {
  const w = new RecordingWriter();
  const sink = sinkOver(w);
  for (let i = 0; i < 130; i++) sink.trySend(new Uint8Array([i]));
  t.equal(w.flushes, 2, '130 packets: two flushes so far');
  sink.flush();
  t.equal(w.flushes, 3);
});

t.test('the writable: backpressure waits, a failing write ends the stream once', async (t) => {
  const w = new RecordingWriter();
  const sink = sinkOver(w);
  let ends = 0;
  const writable = new WritableStream(sink.underlyingSink(() => ends++), new CountQueuingStrategy({ highWaterMark: 1 }));
  const writer = writable.getWriter();
  await writer.write(new Uint8Array([1]));
  w.room = 0;
  const blocked = writer.write(new Uint8Array([2]));
  await new Promise((r) => setImmediate(r));
  t.equal(writer.desiredSize, 0, 'a full ring holds the stream back');
  w.grant();
  await blocked;
  t.same(w.calls.map((c) => c.data), [[1], [2]]);
  w.room = Infinity;
  w.fail = new TunError('ERR_TUN_CLOSED', 'closed');
  await t.rejects(writer.write(new Uint8Array([3])), { code: 'ERR_TUN_CLOSED' });
  t.equal(ends, 1, 'the end was reported');
  await t.rejects(writer.write(new Uint8Array([4])), { code: 'ERR_TUN_CLOSED' }, 'the stream stays errored');
  t.equal(ends, 1, 'and only once');
});
