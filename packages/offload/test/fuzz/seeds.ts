/**
 * The fuzz corpus: seed files saved in the repository (test/fuzz/seeds/*.json,
 * hex strings), read from the source tree next to the compiled runner.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex } from './mutate.js';

/** Where the seed files live: the source tree (dist/test/fuzz -> test/fuzz/seeds). */
export const SEED_DIR = fileURLToPath(new URL('../../../test/fuzz/seeds/', import.meta.url));

/** The corpus, decoded. */
export interface Corpus {
  /** Reads from an offload TUN fd: virtio_net_hdr + packet. */
  reads: Uint8Array[];
  /** Batches for GRO: each an array of IP packets. */
  batches: Uint8Array[][];
  /** Single packets and frames for the wire views (IP packets, L4 headers, Ethernet frames). */
  packets: Uint8Array[];
}

let corpus: Corpus | undefined;

/** Loads (once) and returns the corpus. */
export function loadCorpus(): Corpus {
  if (corpus) return corpus;
  const read = (name: string): unknown => JSON.parse(readFileSync(SEED_DIR + name, 'utf8'));
  corpus = {
    reads: (read('virtio-reads.json') as string[]).map(fromHex),
    batches: (read('gro-batches.json') as string[][]).map((b) => b.map(fromHex)),
    packets: (read('packets.json') as string[]).map(fromHex),
  };
  return corpus;
}
