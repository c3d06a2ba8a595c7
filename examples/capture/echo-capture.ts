/**
 * A device whose traffic is recorded while it runs: packets from the device go
 * through a pcap tap, echo requests become replies (echoReplies), the replies go
 * through the same tap and back into the device.
 *
 * ```
 * tun.readable ──► pcapTap ──► echoReplies ──► pcapTap ──► tun.writable
 *                  (requests)                  (replies)
 * ```
 */
import { PcapWriter, openTun, pcapTap, pipeline, type OpenTunOptions, type TunStreams } from '@tunpipe/streams';
import { echoReplies } from '../echo/echo-transform.js';

/** A running capture. */
export interface EchoCapture {
  readonly tun: TunStreams;
  readonly writer: PcapWriter;
  /** Stops the pipeline, closes the pcap file (flushed) and the device; resolves with the records written. */
  stop(): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Opens the device (in the calling thread's namespace) and starts recording to `file`. */
export async function startEchoCapture(device: OpenTunOptions, file: string): Promise<EchoCapture> {
  const tun = await openTun(device);
  const writer = new PcapWriter(file, { linkType: 'raw' });
  const controller = new AbortController();
  const running = pipeline(tun.readable, pcapTap(writer), echoReplies(), pcapTap(writer), tun.writable, { signal: controller.signal });
  running.catch(() => undefined);
  let stopped: Promise<number> | undefined;
  const stop = (): Promise<number> =>
    (stopped ??= (async () => {
      controller.abort();
      await running.catch((e: unknown) => {
        if (!controller.signal.aborted) throw e;
      });
      await writer.close();
      await tun.close();
      return writer.stats().packets;
    })());
  return { tun, writer, stop, [Symbol.asyncDispose]: async () => void (await stop()) };
}
