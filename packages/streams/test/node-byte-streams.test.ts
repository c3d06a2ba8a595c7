/**
 * The Node <-> web byte-stream adapters: half-close, backpressure both ways,
 * errors and premature close, cancel and abort.
 */
import t from 'tap';
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { nodeByteStreams, nodeReadableToWeb, nodeWritableToWeb } from '../src/node-byte-streams.js';
import { concatBytes, readAll } from './web-stream-io.js';

t.test('half-close: the readable ends at the peer FIN while the writable still works', async (t) => {
  const received = new Promise<string>((resolve) => {
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      let text = '';
      s.on('data', (b: Buffer) => (text += b.toString()));
      s.on('end', () => {
        resolve(text);
        s.end();
      });
      s.end('question'); // FIN after the data; keeps reading
    });
    t.teardown(() => server.close());
    server.listen(0, '127.0.0.1', () => {
      const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      t.teardown(() => socket.destroy());
      const { readable, writable } = nodeByteStreams(socket);
      void (async () => {
        const got = Buffer.from(concatBytes(await readAll(readable))).toString();
        t.equal(got, 'question', 'readable closed after the FIN');
        const w = writable.getWriter();
        await w.write(new TextEncoder().encode('answer to ' + got));
        await w.close();
      })();
    });
  });
  t.equal(await received, 'answer to question', 'written after our readable had ended');
});

t.test('readable: an unread stream pushes back on the Node writer', async (t) => {
  const source = new PassThrough({ highWaterMark: 16 * 1024 });
  const readable = nodeReadableToWeb(source);
  const chunk = new Uint8Array(8 * 1024);
  let accepted = 0;
  // Write as a well-behaved producer does (wait for 'drain'), until drain stops coming.
  for (;;) {
    if (source.write(chunk)) {
      accepted += chunk.length;
      continue;
    }
    accepted += chunk.length;
    const drained = await Promise.race([
      new Promise<boolean>((r) => source.once('drain', () => r(true))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 100)),
    ]);
    if (!drained || accepted > 64 * 1024 * 1024) break;
  }
  // The web queue (64 KiB) plus Node's own buffers (2 x 16 KiB), then nothing.
  t.ok(accepted <= 160 * 1024, `the producer was held back after ${accepted} bytes`);
  t.ok(accepted >= 64 * 1024, 'the web queue filled first');
  t.equal(source.isPaused(), true, 'source paused while nobody reads');
  source.end();
  const all = concatBytes(await readAll(readable));
  t.ok(all.length >= accepted, 'everything written arrives once read');
});

t.test('readable: errors, premature close and cancel', async (t) => {
  const failing = new PassThrough();
  const r1 = nodeReadableToWeb(failing);
  failing.destroy(new Error('boom'));
  await t.rejects(readAll(r1), { code: 'ERR_TUN_BYTE_STREAM', cause: { message: 'boom' } }, 'a Node error errors the readable');

  const cut = new PassThrough();
  const r2 = nodeReadableToWeb(cut);
  cut.write('partial');
  cut.destroy();
  await t.rejects(readAll(r2), { code: 'ERR_TUN_PREMATURE_CLOSE' }, 'close without end is an error');

  const cancelled = new PassThrough();
  const r3 = nodeReadableToWeb(cancelled);
  await r3.cancel();
  t.equal(cancelled.destroyed, true, 'cancel destroys the Node stream');

  const ended = new PassThrough();
  ended.end();
  ended.resume();
  await new Promise((r) => ended.once('end', r));
  t.same(await readAll(nodeReadableToWeb(ended)), [], 'an already ended stream gives an empty readable');
});

t.test('writable: waits for drain, so Node never buffers much more than its highWaterMark', async (t) => {
  let maxBuffered = 0;
  const written: Uint8Array[] = [];
  const sink: Writable = new Writable({
    highWaterMark: 4096,
    write(chunk: Buffer, _enc, cb) {
      maxBuffered = Math.max(maxBuffered, sink.writableLength);
      written.push(chunk);
      setTimeout(cb, 1);
    },
  });
  const writer = nodeWritableToWeb(sink).getWriter();
  for (let i = 0; i < 50; i++) await writer.write(new Uint8Array(1000).fill(i));
  await writer.close();
  t.equal(written.length, 50);
  t.ok(maxBuffered <= 4096 + 1000, `Node buffered at most ${maxBuffered} bytes`);
  t.equal(sink.writableFinished, true, 'close() waits for finish');
});

t.test('writable: a Node error fails the writes (as a TunError keeping errno); abort destroys the Node stream', async (t) => {
  const sink = new Writable({
    write(_chunk, _enc, cb) {
      cb(new Error('disk full'));
    },
  });
  const writer = nodeWritableToWeb(sink).getWriter();
  await writer.write(new Uint8Array(1)).catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  await t.rejects(writer.write(new Uint8Array(1)), { code: 'ERR_TUN_BYTE_STREAM', cause: { message: 'disk full' } });

  const epipe = new Writable({
    write(_chunk, _enc, cb) {
      cb(Object.assign(new Error('write EPIPE'), { errno: -32, code: 'EPIPE', syscall: 'write' }));
    },
  });
  const w3 = nodeWritableToWeb(epipe).getWriter();
  await w3.write(new Uint8Array(1)).catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  await t.rejects(w3.write(new Uint8Array(1)), { code: 'ERR_TUN_BYTE_STREAM', errno: 32, sysCode: 'EPIPE', syscall: 'write' });

  const victim = new PassThrough();
  const w2 = nodeWritableToWeb(victim).getWriter();
  await w2.abort(new Error('stop'));
  t.equal(victim.destroyed, true);
});
