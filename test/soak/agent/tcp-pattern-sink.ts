/**
 * A TCP server that verifies pattern transfers (`pattern-stream.ts`) byte by
 * byte as they arrive and reports each finished connection.
 */
import net from 'node:net';
import { PatternStream, TRANSFER_HEADER_LEN, TRANSFER_MAGIC } from './pattern-stream.js';
import type { TcpReceivedEvent } from './agent-protocol.js';

/** The verifying server; `onTransfer` is called once per connection that ended. */
export class TcpPatternSink {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly onTransfer: (e: TcpReceivedEvent) => void;

  /** A sink reporting to `onTransfer`. */
  constructor(onTransfer: (e: TcpReceivedEvent) => void) {
    this.onTransfer = onTransfer;
  }

  /** Listens on address:port. */
  listen(address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((sock) => this.accept(sock));
      server.once('error', reject);
      server.listen(port, address, () => {
        server.removeListener('error', reject);
        this.server = server;
        resolve();
      });
    });
  }

  private accept(sock: net.Socket): void {
    this.sockets.add(sock);
    const header = Buffer.alloc(TRANSFER_HEADER_LEN);
    let headerHave = 0;
    let seed = -1;
    let expected = 0;
    let bytes = 0;
    let mismatchAt = -1;
    let pattern: PatternStream | undefined;
    sock.on('data', (chunk: Buffer) => {
      let at = 0;
      if (headerHave < TRANSFER_HEADER_LEN) {
        const n = Math.min(TRANSFER_HEADER_LEN - headerHave, chunk.length);
        chunk.copy(header, headerHave, 0, n);
        headerHave += n;
        at = n;
        if (headerHave < TRANSFER_HEADER_LEN) return;
        if (header.readUInt32BE(0) !== TRANSFER_MAGIC) mismatchAt = 0;
        seed = header.readUInt32BE(4);
        expected = header.readUInt32BE(8);
        pattern = new PatternStream(seed);
      }
      const body = chunk.subarray(at);
      if (mismatchAt < 0 && pattern !== undefined) {
        const bad = pattern.check(body);
        if (bad >= 0) mismatchAt = bytes + bad;
      }
      bytes += body.length;
    });
    const finish = (): void => {
      if (!this.sockets.delete(sock)) return;
      this.onTransfer({ event: 'tcp-received', seed, bytes, expected, ok: mismatchAt < 0 && seed >= 0 && bytes === expected, mismatchAt });
    };
    sock.on('end', () => {
      finish();
      sock.end();
    });
    sock.on('error', () => finish());
    sock.on('close', () => finish());
  }

  /** Stops listening and destroys open connections. */
  close(): void {
    this.server?.close();
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
  }
}
