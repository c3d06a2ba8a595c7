/**
 * A point-to-point IP tunnel: the packets of a TUN device carried over one TCP
 * connection to the other end's device, each as a length-prefixed msgpack frame
 * (`@tunpipe/streams` framed transport). In keep mode offload superpackets cross
 * whole, their virtio header in the frame, so one frame can carry 64 KB.
 *
 * ```
 *  tun.readable ─► framedStreams.writable ─ encode ─► socket ═══ TCP ═══► socket ─ decode ─► framedStreams.readable ─► tun.writable
 *  tun.writable ◄─ ... the same, the other way ◄═══════════════════════════════════════════════════════════════════════ tun.readable
 * ```
 */
import { connect, createServer, type Socket } from 'node:net';
import { framedStreams, nodeByteStreams, type TunStreams } from '@tunpipe/streams';
import type { Endpoint } from './endpoint.js';

/** How a tunnel ended and what it carried. */
export interface TunnelResult {
  /** 'peer-closed' (the other end went away), 'aborted' (our signal), or 'error'. */
  reason: 'peer-closed' | 'aborted' | 'error';
  /** The error when `reason` is 'error'. */
  error?: unknown;
  /** Frames (packets) sent to and received from the peer, and their bytes on the wire. */
  framesOut: number;
  bytesOut: number;
  framesIn: number;
  bytesIn: number;
}

/** Live counters of a running tunnel. */
export interface TunnelCounters {
  framesOut: number;
  bytesOut: number;
  framesIn: number;
  bytesIn: number;
}

/**
 * Carries packets between `tun` and `socket` both ways until the peer closes the
 * connection, `signal` aborts, or either side fails. `onCounters` receives a
 * function to read the counters while it runs. The socket is destroyed at the end;
 * the device stays open (the caller owns it).
 */
export async function carryPackets(
  tun: TunStreams,
  socket: Socket,
  { signal, onCounters }: { signal?: AbortSignal; onCounters?: (read: () => TunnelCounters) => void } = {},
): Promise<TunnelResult> {
  socket.setNoDelay(true);
  const peer = framedStreams(nodeByteStreams(socket));
  const read = (): TunnelCounters => {
    const s = peer.stats();
    return { framesOut: s.encoder.frames, bytesOut: s.encoder.bytes, framesIn: s.decoder.frames, bytesIn: s.decoder.bytes };
  };
  onCounters?.(read);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const outbound = tun.readable.pipeTo(peer.writable, { signal: stop.signal });
  const inbound = peer.readable.pipeTo(tun.writable, { signal: stop.signal, preventClose: true });
  let reason: TunnelResult['reason'] = 'peer-closed';
  let error: unknown;
  try {
    // The inbound side ends when the peer closes; the outbound one only fails.
    await Promise.race([inbound, outbound]);
  } catch (e) {
    if (signal?.aborted) reason = 'aborted';
    else {
      reason = 'error';
      error = e;
    }
  }
  if (signal?.aborted) reason = 'aborted';
  stop.abort();
  await Promise.allSettled([inbound, outbound]);
  signal?.removeEventListener('abort', onAbort);
  socket.destroy();
  return { reason, ...(error === undefined ? {} : { error }), ...read() };
}

/** Accepts exactly one TCP connection on `at` (stops listening then); `onListening` once bound. */
export function acceptOne(at: Endpoint, { signal, onListening }: { signal?: AbortSignal; onListening?: () => void } = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const server = createServer({ noDelay: true });
    const onAbort = (): void => {
      server.close();
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    server.once('connection', (socket) => {
      signal?.removeEventListener('abort', onAbort);
      server.close();
      resolve(socket);
    });
    server.once('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    server.listen(at.port, at.host, () => onListening?.());
  });
}

/** Connects to `to`, retrying every 200 ms while refused, for at most `timeoutMs`. */
export async function connectWithRetry(to: Endpoint, { timeoutMs = 10_000, signal }: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host: to.host, port: to.port, noDelay: true });
        socket.once('connect', () => {
          socket.removeAllListeners('error');
          resolve(socket);
        });
        socket.once('error', reject);
      });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((code !== 'ECONNREFUSED' && code !== 'ENETUNREACH' && code !== 'EHOSTUNREACH') || Date.now() > deadline || signal?.aborted) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
