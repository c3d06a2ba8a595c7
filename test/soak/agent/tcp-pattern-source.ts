/**
 * The sending end of a soak TCP transfer: connects, writes the header and
 * `bytes` pattern bytes with backpressure, half-closes, and resolves when the
 * sink (which closes after verifying) has closed too. Bounded by `timeoutMs`.
 */
import net from 'node:net';
import { PatternStream, transferHeader } from './pattern-stream.js';

const CHUNK = 64 * 1024;

/** Sends one pattern transfer; resolves with its duration, rejects on error or timeout. */
export function sendPatternTransfer(address: string, port: number, seed: number, bytes: number, timeoutMs: number): Promise<{ bytes: number; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const pattern = new PatternStream(seed);
    let sent = 0;
    let settled = false;
    const sock = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      fail(new Error(`transfer ${seed}: not finished within ${timeoutMs} ms (${sent} of ${bytes} bytes written)`));
      sock.destroy();
    }, timeoutMs);
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    };
    const pump = (): void => {
      while (sent < bytes) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK, bytes - sent));
        pattern.fill(chunk);
        sent += chunk.length;
        if (!sock.write(chunk)) {
          sock.once('drain', pump);
          return;
        }
      }
      sock.end();
    };
    sock.once('connect', () => {
      sock.write(transferHeader(seed, bytes));
      pump();
    });
    sock.on('data', () => undefined);
    sock.on('error', (e) => fail(e));
    sock.on('close', () => {
      if (settled) return;
      if (sent < bytes) {
        fail(new Error(`transfer ${seed}: connection closed after ${sent} of ${bytes} bytes`));
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve({ bytes, ms: performance.now() - start });
    });
  });
}
