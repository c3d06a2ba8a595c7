/** Test support: drives a FrameDecoder chunk by chunk and records what it did. */
import { FrameDecoder, type FrameDecoderOptions, type FrameDecoderStats } from '../src/frame-decoder.js';
import type { Packet } from '../src/packet.js';

/** What `decodeChunks` observed. */
export interface DecodeRun {
  packets: Packet[];
  /** The error the stream failed with, if it did. */
  error: unknown;
  /** Largest `stats().buffered` seen after any chunk. */
  maxBuffered: number;
  stats: FrameDecoderStats;
}

/** Writes `chunks` one by one into a new decoder (reading concurrently), then closes it. */
export async function decodeChunks(chunks: readonly Uint8Array[], options: FrameDecoderOptions = {}): Promise<DecodeRun> {
  const decoder = new FrameDecoder(options);
  const packets: Packet[] = [];
  let error: unknown;
  const reading = (async () => {
    try {
      for await (const p of decoder.readable) packets.push(p);
    } catch (err) {
      error = err;
    }
  })();
  const writer = decoder.writable.getWriter();
  let maxBuffered = 0;
  try {
    for (const chunk of chunks) {
      await writer.write(chunk);
      maxBuffered = Math.max(maxBuffered, decoder.stats().buffered);
    }
    await writer.close();
  } catch (err) {
    error ??= err;
  }
  await reading;
  return { packets, error, maxBuffered, stats: decoder.stats() };
}
