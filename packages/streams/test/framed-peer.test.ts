/**
 * The framed transport between two processes: packets round-trip through a child
 * `node` process over a real TCP socket on 127.0.0.1, and over the child's stdio.
 */
import t, { type Test } from 'tap';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Peer } from '@tunpipe/testkit';
import { framedStreams } from '../src/framed-streams.js';
import { nodeByteStreams, type StreamPair } from '../src/node-byte-streams.js';
import { packetOf, type Packet } from '../src/packet.js';
import { readAll } from './web-stream-io.js';

const PEER = fileURLToPath(new URL('./fixtures/frame-echo-peer.js', import.meta.url));
const HDR = { flags: 1, gsoType: 4, hdrLen: 86, gsoSize: 1428, csumStart: 54, csumOffset: 16 };

/** 400 packets: sizes 0..~65 KB, every 7th with a virtio header, meta on each. */
function workload(): Packet[] {
  const sizes = [0, 1, 20, 40, 576, 1280, 1500, 9000, 65535, 65600];
  return Array.from({ length: 400 }, (_, i) => {
    const data = new Uint8Array(sizes[i % sizes.length]!);
    for (let j = 0; j < data.length; j++) data[j] = (i + j * 7) & 0xff;
    return packetOf(data, {
      queue: i % 3,
      timestamp: 1_760_000_000_000_000_000n + BigInt(i),
      virtioHeader: i % 7 === 0 ? HDR : undefined,
      meta: { i },
    });
  });
}

/** Sends the workload through `bytes` while reading the answers, and checks every one. */
async function roundTrip(t: Test, bytes: StreamPair<Uint8Array>, peerPid: number): Promise<void> {
  const channel = framedStreams(bytes);
  const sent = workload();
  const writing = (async () => {
    const writer = channel.writable.getWriter();
    for (const p of sent) await writer.write(p);
    await writer.close();
  })();
  const received = await readAll(channel.readable);
  await writing;
  t.equal(received.length, sent.length, 'every packet answered');
  let mismatches = 0;
  for (let i = 0; i < sent.length; i++) {
    const a = sent[i]!;
    const b = received[i]!;
    const ok =
      b.data.length === a.data.length &&
      b.data.every((x, j) => x === a.data[a.data.length - 1 - j]) &&
      b.queue === a.queue &&
      b.timestamp === a.timestamp &&
      JSON.stringify(b.virtioHeader) === JSON.stringify(a.virtioHeader) &&
      JSON.stringify(b.meta) === JSON.stringify({ echo: { i }, pid: peerPid });
    if (!ok) mismatches++;
  }
  t.equal(mismatches, 0, 'bytes reversed by the peer, queue/timestamp/header kept, meta from the peer, in order');
  t.same(channel.stats().decoder.frames, sent.length);
  t.equal(channel.stats().encoder.frames, sent.length);
}

t.test('round trip over a TCP socket on 127.0.0.1 with a child process', async (t) => {
  const server = net.createServer();
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const peer = Peer.start(t, process.execPath, [PEER, 'tcp', String(port)]);
  const socket = await accepted;
  t.teardown(() => socket.destroy());
  t.equal(socket.remoteAddress, '127.0.0.1');
  await roundTrip(t, nodeByteStreams(socket), peer.child.pid!);
  const exit = await peer.wait();
  t.equal(exit.code, 0, `peer exited cleanly: ${exit.stderr.trim()}`);
  t.match(exit.stderr, /"frames":400/, 'the peer decoded all 400 frames');
});

t.test('round trip over a child process stdin/stdout', async (t) => {
  const child = spawn(process.execPath, [PEER, 'stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (s: Buffer) => (stderr += s.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await roundTrip(t, nodeByteStreams({ readable: child.stdout, writable: child.stdin }), child.pid!);
  t.equal(await exited, 0, `peer exited cleanly: ${stderr.trim()}`);
});

t.test('a peer that vanishes mid-frame errors the packet stream with ERR_TUN_FRAME_TRUNCATED', async (t) => {
  const server = net.createServer((s) => {
    // One complete frame and half of another, then FIN.
    const one = new Uint8Array([0, 0, 0, 13, 0x83, 0xa1, 0x76, 1, 0xa1, 0x64, 0xc4, 2, 9, 9, 0xa1, 0x71, 0]);
    s.end(Buffer.concat([one, one.subarray(0, 9)]));
  });
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  const channel = framedStreams(nodeByteStreams(socket));
  const got: Packet[] = [];
  await t.rejects(
    (async () => {
      for await (const p of channel.readable) got.push(p);
    })(),
    { code: 'ERR_TUN_FRAME_TRUNCATED' },
  );
  t.same(got.map((p) => [...p.data]), [[9, 9]], 'the complete frame came through first');
});
