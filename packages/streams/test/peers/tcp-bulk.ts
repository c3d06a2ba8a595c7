/**
 * Test peer for byte-exact TCP transfers, run inside a namespace.
 *
 *   node tcp-bulk.js sink ADDRESS PORT        prints `listening`, accepts one connection,
 *                                              prints {"bytes":N,"sha256":"..."} at its end
 *   node tcp-bulk.js source ADDRESS PORT MIB SEED
 *                                              sends MIB MiB of seeded pseudo-random bytes,
 *                                              prints {"bytes":N,"sha256":"...","ms":T}
 *
 * The bytes come from a 32-bit xorshift generator, so both ends hash the same
 * stream; comparing the hashes checks delivery byte for byte. Both ends give up
 * after 60 s.
 */
import { createHash } from 'node:crypto';
import { createServer, connect } from 'node:net';

const [mode, address, portText, mibText, seedText] = process.argv.slice(2);
const port = Number(portText);
setTimeout(() => {
  process.stderr.write(`tcp-bulk ${mode}: no result within 60 s\n`);
  process.exit(3);
}, 60_000).unref();

function fail(what: string, e: Error): never {
  process.stderr.write(`tcp-bulk ${what}: ${e.message}\n`);
  process.exit(2);
}

if (mode === 'sink') {
  const server = createServer((sock) => {
    const hash = createHash('sha256');
    let bytes = 0;
    sock.on('data', (chunk) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    sock.on('end', () => {
      process.stdout.write(JSON.stringify({ bytes, sha256: hash.digest('hex') }) + '\n');
      sock.end();
      server.close();
    });
    sock.on('error', (e) => fail('sink', e));
  });
  server.listen(port, address, () => process.stdout.write('listening\n'));
} else if (mode === 'source') {
  const total = Number(mibText) * 1024 * 1024;
  let state = Number(seedText) >>> 0 || 1;
  const hash = createHash('sha256');
  const started = performance.now();
  const next = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 4) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      b.writeUInt32LE(state, i);
    }
    return b;
  };
  const sock = connect({ host: address, port }, () => {
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const chunk = next(Math.min(256 * 1024, total - sent));
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
  sock.on('close', () => {
    const ms = performance.now() - started;
    process.stdout.write(JSON.stringify({ bytes: total, sha256: hash.digest('hex'), ms }) + '\n');
  });
  sock.on('error', (e) => fail('source', e));
} else {
  process.stderr.write('usage: tcp-bulk.js sink ADDRESS PORT | source ADDRESS PORT MIB SEED\n');
  process.exit(1);
}
