/**
 * Test peer: connects to ADDRESS:PORT and sends MEGABYTES MiB of seeded
 * pseudo-random bytes (xorshift32, so the receiver's hash is reproducible), then
 * prints `{"bytes":N,"sha256":"...","ms":T}`.
 *
 *   node tcp-source.js ADDRESS PORT MEGABYTES SEED
 */
import net from 'node:net';
import { createHash } from 'node:crypto';

const [address, portText, mbText, seedText] = process.argv.slice(2);
const total = Number(mbText) * 1024 * 1024;
let state = Number(seedText) >>> 0 || 1;
const hash = createHash('sha256');
const chunkSize = 256 * 1024;
const start = performance.now();

function chunk(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i + 4 <= n; i += 4) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    b.writeUInt32LE(state, i);
  }
  return b;
}

const sock = net.connect(Number(portText), address, () => {
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const b = chunk(Math.min(chunkSize, total - sent));
      hash.update(b);
      sent += b.length;
      if (!sock.write(b)) {
        sock.once('drain', pump);
        return;
      }
    }
    sock.end();
  };
  pump();
});
sock.on('close', () => {
  process.stdout.write(JSON.stringify({ bytes: total, sha256: hash.digest('hex'), ms: performance.now() - start }) + '\n');
});
sock.on('error', (e) => {
  process.stderr.write(`source: ${e.message}\n`);
  process.exit(2);
});
setTimeout(() => process.exit(3), 60_000).unref();
