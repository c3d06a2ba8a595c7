/**
 * A bounded TCP bulk transfer for the examples, run inside a namespace
 * (`ip netns exec NS node tcp-transfer.js ...`), byte-exact by SHA-256:
 *
 *   node tcp-transfer.js sink <host> <port> [n]           prints `listening`, accepts n (1)
 *                                                         connections, prints {bytes, sha256, ms}
 *                                                         for each as it ends, then exits
 *   node tcp-transfer.js source <host> <port> <bytes> [n] sends <bytes> of the same pseudo-random
 *                                                         data over each of n (1) parallel
 *                                                         connections, prints {bytes, sha256, ms} each
 *
 * Several connections are several flows: the kernel spreads flows over a
 * multi-queue device's queues by hash. Both ends give up after 30 s (exit 3).
 */
import { createHash } from 'node:crypto';
import { connect, createServer } from 'node:net';

/** The JSON line each end prints when done. */
export interface TransferReport {
  bytes: number;
  sha256: string;
  ms: number;
}

/** Path of this script once compiled, to run it as a child process. */
export const TCP_TRANSFER_SCRIPT = new URL(import.meta.url).pathname;

/** Parses the report lines a transfer end printed (one per connection). */
export function parseTransferReports(stdout: string): TransferReport[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TransferReport);
}

/** Deterministic pseudo-random bytes (xorshift32), continuing from `state`. */
function fill(buf: Buffer, state: { s: number }): void {
  let s = state.s;
  for (let i = 0; i < buf.length; i++) {
    if ((i & 3) === 0) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
    }
    buf[i] = (s >>> ((i & 3) * 8)) & 0xff;
  }
  state.s = s;
}

function sink(host: string, port: number, connections: number): void {
  const started = Date.now();
  let accepted = 0;
  const server = createServer((sock) => {
    if (++accepted === connections) server.close();
    const hash = createHash('sha256');
    let bytes = 0;
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      hash.update(d);
    });
    sock.on('end', () => {
      console.log(JSON.stringify({ bytes, sha256: hash.digest('hex'), ms: Date.now() - started }));
      sock.end();
    });
    sock.on('error', (e) => fail(`sink: ${e.message}`, 2));
  });
  server.listen(port, host, () => console.log('listening'));
}

function source(host: string, port: number, total: number, connections: number): void {
  for (let i = 0; i < connections; i++) sendOne(host, port, total);
}

function sendOne(host: string, port: number, total: number): void {
  const state = { s: 0x7475_6e70 };
  const hash = createHash('sha256');
  const started = Date.now();
  const chunk = Buffer.alloc(128 * 1024);
  const sock = connect({ host, port }, () => {
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const piece = Buffer.from(chunk.subarray(0, Math.min(chunk.length, total - sent)));
        fill(piece, state);
        hash.update(piece);
        sent += piece.length;
        if (!sock.write(piece)) {
          sock.once('drain', pump);
          return;
        }
      }
      sock.end();
    };
    pump();
  });
  sock.on('close', (hadError) => {
    if (!hadError) console.log(JSON.stringify({ bytes: total, sha256: hash.digest('hex'), ms: Date.now() - started }));
  });
  sock.on('error', (e) => fail(`source: ${e.message}`, 2));
}

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

if (process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1]) {
  const [mode, host, port, a, b] = process.argv.slice(2);
  setTimeout(() => fail(`tcp-transfer ${mode}: gave up after 30 s`, 3), 30_000).unref();
  if (mode === 'sink' && host && port) sink(host, Number(port), Number(a ?? 1));
  else if (mode === 'source' && host && port && a) source(host, Number(port), Number(a), Number(b ?? 1));
  else fail('usage: tcp-transfer sink <host> <port> [n] | source <host> <port> <bytes> [n]', 64);
}
