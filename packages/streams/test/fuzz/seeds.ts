/**
 * The streams fuzz corpus: seed files saved in the repository
 * (test/fuzz/seeds/*.json), read from the source tree next to the compiled suite.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex } from '@tunpipe/testkit';

/** Where the seed files live: the source tree (dist/test/fuzz -> test/fuzz/seeds). */
export const SEED_DIR = fileURLToPath(new URL('../../../test/fuzz/seeds/', import.meta.url));

/** One pcap writer scenario: options and the sizes of the packets written. */
export interface PcapCase {
  snaplen: number;
  bufferSize: number;
  precision: 'micro' | 'nano';
  linkType: 'raw' | 'ethernet';
  sizes: number[];
}

/** The corpus, decoded. */
export interface StreamsCorpus {
  /** Byte streams of frames (prefix + msgpack body each). */
  frameStreams: Uint8Array[];
  /** Pcap writer scenarios. */
  pcapCases: PcapCase[];
  /** IP packets and Ethernet frames for header parsing (`link` says which). */
  packets: { link: 'ip' | 'ethernet'; bytes: Uint8Array }[];
}

let corpus: StreamsCorpus | undefined;

/** Loads (once) and returns the corpus. */
export function loadCorpus(): StreamsCorpus {
  if (corpus) return corpus;
  const read = (name: string): unknown => JSON.parse(readFileSync(SEED_DIR + name, 'utf8'));
  corpus = {
    frameStreams: (read('frame-streams.json') as string[]).map(fromHex),
    pcapCases: read('pcap-cases.json') as PcapCase[],
    packets: (read('packets.json') as { link: 'ip' | 'ethernet'; hex: string }[]).map((p) => ({ link: p.link, bytes: fromHex(p.hex) })),
  };
  return corpus;
}
