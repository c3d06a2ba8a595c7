/**
 * Test peer: a TCP server that accepts one connection, hashes everything it
 * receives, and prints `{"bytes":N,"sha256":"..."}` when the peer closes.
 * Prints `listening` once bound. Exits after `limitMs` regardless.
 *
 *   node tcp-sink.js ADDRESS PORT [LIMIT_MS]
 */
import net from 'node:net';
import { createHash } from 'node:crypto';

const [address, portText, limitText] = process.argv.slice(2);
const limit = setTimeout(() => process.exit(3), Number(limitText ?? 60_000));
const server = net.createServer((sock) => {
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
    clearTimeout(limit);
  });
  sock.on('error', (e) => {
    process.stderr.write(`sink: ${e.message}\n`);
    process.exit(2);
  });
});
server.listen(Number(portText), address, () => process.stdout.write('listening\n'));
