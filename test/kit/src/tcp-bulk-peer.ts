/**
 * A bounded, byte-exact TCP bulk transfer peer for device tests, run as a child
 * process inside a namespace (`Netns.exec` / `Netns.spawn` with `process.execPath`):
 *
 *   node tcp-bulk-peer.js sink ADDRESS PORT [LIMIT_MS]
 *       prints `listening`, accepts one connection, prints
 *       {"bytes":N,"sha256":"…","ms":T} when the peer closes, then exits
 *   node tcp-bulk-peer.js source ADDRESS PORT BYTES SEED [LIMIT_MS]
 *       sends BYTES of seeded pseudo-random data, prints the same line, exits
 *
 * The bytes come from a xorshift32 generator seeded by SEED, so a test can check
 * delivery by comparing the two ends' SHA-256. Either end gives up after LIMIT_MS
 * (default 60 s) with exit 3; a socket error exits 2; bad usage exits 64.
 * `TCP_BULK_PEER` (tcp-bulk.ts) is this file's compiled path.
 */
import { createHash } from 'node:crypto';
import { connect, createServer } from 'node:net';

const [mode, address, portText, ...rest] = process.argv.slice(2);
const port = Number(portText);
const limitMs = Number((mode === 'source' ? rest[2] : rest[0]) ?? 60_000);
const started = performance.now();

function fail(message: string, code: number): never {
  process.stderr.write(`tcp-bulk-peer ${mode ?? ''}: ${message}\n`);
  process.exit(code);
}

function report(bytes: number, sha256: string): void {
  process.stdout.write(`${JSON.stringify({ bytes, sha256, ms: performance.now() - started })}\n`);
}

/** Fills `buf` (a multiple of 4 bytes, or the tail) from the xorshift32 state, little-endian words. */
function fill(buf: Buffer, state: { s: number }): void {
  let s = state.s;
  for (let i = 0; i < buf.length; i += 4) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    for (let k = 0; k < 4 && i + k < buf.length; k++) buf[i + k] = (s >>> (8 * k)) & 0xff;
  }
  state.s = s;
}

function sink(): void {
  const server = createServer((sock) => {
    server.close();
    const hash = createHash('sha256');
    let bytes = 0;
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      hash.update(d);
    });
    sock.on('end', () => {
      report(bytes, hash.digest('hex'));
      sock.end();
    });
    sock.on('error', (e) => fail(e.message, 2));
  });
  server.on('error', (e) => fail(e.message, 2));
  server.listen(port, address, () => process.stdout.write('listening\n'));
}

function source(total: number, seed: number): void {
  const state = { s: seed >>> 0 || 1 };
  const hash = createHash('sha256');
  const sock = connect({ host: address, port }, () => {
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const chunk = Buffer.allocUnsafe(Math.min(256 * 1024, total - sent));
        fill(chunk, state);
        hash.update(chunk);
        sent += chunk.length;
        if (!sock.write(chunk)) {
          sock.once('drain', pump);
          return;
        }
      }
      sock.end();
    };
    pump();
  });
  sock.on('close', (hadError) => {
    if (!hadError) report(total, hash.digest('hex'));
  });
  sock.on('error', (e) => fail(e.message, 2));
}

if (!Number.isSafeInteger(limitMs) || limitMs <= 0 || address === undefined || !(port > 0 && port < 65536)) {
  fail('usage: sink ADDRESS PORT [LIMIT_MS] | source ADDRESS PORT BYTES SEED [LIMIT_MS]', 64);
}
setTimeout(() => fail(`no result within ${limitMs} ms`, 3), limitMs).unref();
if (mode === 'sink') sink();
else if (mode === 'source' && Number.isSafeInteger(Number(rest[0])) && Number(rest[0]) >= 0 && rest[1] !== undefined) {
  source(Number(rest[0]), Number(rest[1]));
} else fail('usage: sink ADDRESS PORT [LIMIT_MS] | source ADDRESS PORT BYTES SEED [LIMIT_MS]', 64);
