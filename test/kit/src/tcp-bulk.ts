/**
 * The TCP bulk transfer peer (tcp-bulk-peer.ts) as seen by tests: where its
 * compiled script is, what it prints, and one call that runs a transfer.
 */
import type { Netns } from './netns.js';
import type { TestContext } from './test-context.js';

/** Absolute path of the compiled peer script; run it with `process.execPath`. */
export const TCP_BULK_PEER = new URL('./tcp-bulk-peer.js', import.meta.url).pathname;

/** The JSON line either end prints when its transfer is done. */
export interface TcpBulkReport {
  /** Bytes sent (source) or received (sink). */
  bytes: number;
  /** SHA-256 of those bytes, hex. */
  sha256: string;
  /** Milliseconds since the peer started. */
  ms: number;
}

/** The last report line in a peer's stdout; throws when there is none. */
export function parseTcpBulkReport(stdout: string): TcpBulkReport {
  const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`tcp-bulk-peer printed no report: ${JSON.stringify(stdout.slice(-200))}`);
  return JSON.parse(line) as TcpBulkReport;
}

/** Where and how much `tcpBulkTransfer` sends. */
export interface TcpBulkOptions {
  /** Namespace the source runs in. */
  from: Netns;
  /** Namespace the sink listens in. */
  to: Netns;
  /** Address the source connects to (and the sink binds, unless `bind` is given). */
  address: string;
  /** Address the sink binds. Default `address`. */
  bind?: string;
  /** TCP port. Default 5001. */
  port?: number;
  /** Bytes to send. */
  bytes: number;
  /** Seed of the pseudo-random payload. Default 1. */
  seed?: number;
  /** Bound on the whole transfer, in ms. Default 60 000. */
  timeoutMs?: number;
}

/** What each end of a `tcpBulkTransfer` reported. */
export interface TcpBulkResult {
  sent: TcpBulkReport;
  received: TcpBulkReport;
}

/**
 * Runs one bounded TCP bulk transfer between two namespaces (sink started
 * first, then the source) and returns both ends' reports; throws when either end
 * fails or the transfer exceeds its bound. The sink is stopped by `t`'s teardown
 * if the test ends early.
 */
export async function tcpBulkTransfer(t: TestContext, o: TcpBulkOptions): Promise<TcpBulkResult> {
  const port = String(o.port ?? 5001);
  const limit = String(o.timeoutMs ?? 60_000);
  const sink = o.to.spawn(t, process.execPath, [TCP_BULK_PEER, 'sink', o.bind ?? o.address, port, limit]);
  await sink.waitForOutput(/listening/, { timeoutMs: 10_000 });
  const source = await o.from.exec(
    process.execPath,
    [TCP_BULK_PEER, 'source', o.address, port, String(o.bytes), String(o.seed ?? 1), limit],
    { timeoutMs: Number(limit) + 5000 },
  );
  if (source.code !== 0) {
    await sink.stop();
    throw new Error(`tcp-bulk-peer source exited ${source.code}: ${source.stderr.trim()}`);
  }
  const exit = await sink.wait();
  if (exit.code !== 0) throw new Error(`tcp-bulk-peer sink exited ${exit.code}: ${exit.stderr.trim()}`);
  return { sent: parseTcpBulkReport(source.stdout), received: parseTcpBulkReport(exit.stdout) };
}
