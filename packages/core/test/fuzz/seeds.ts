/**
 * The core fuzz corpus: seed files saved in the repository (test/fuzz/seeds/*.json),
 * read from the source tree next to the compiled suite. make-seeds.ts writes them;
 * the fuzzers only read them.
 *
 * - address-text.json: strings by kind (IPv4, IPv6, CIDR, netmask, MAC, interface
 *   name), valid ones and near misses.
 * - netlink-replies.json: datagrams a real kernel sent to a NETLINK_ROUTE socket
 *   (host byte order: captured on a little-endian machine), each with what was asked.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex } from '@tunpipe/testkit';

/** Where the seed files live: the source tree (dist/test/fuzz -> test/fuzz/seeds). */
export const SEED_DIR = fileURLToPath(new URL('../../../test/fuzz/seeds/', import.meta.url));

/** Seed strings by kind, as saved in address-text.json. */
export interface AddressSeeds {
  ipv4: string[];
  ipv6: string[];
  cidr: string[];
  netmask: string[];
  mac: string[];
  name: string[];
}

/** One saved kernel datagram as netlink-replies.json holds it. */
export interface SavedReply {
  /** The request it answered (and which datagram of the answer it is). */
  what: string;
  hex: string;
}

/** One kernel datagram, decoded from hex. */
export interface Reply {
  what: string;
  bytes: Uint8Array;
}

/** The corpus, decoded. */
export interface CoreCorpus {
  /** Seed strings by kind. */
  text: AddressSeeds;
  /** Every seed string, kinds mixed (for splices). */
  allText: string[];
  /** Kernel datagrams. */
  replies: Reply[];
}

let corpus: CoreCorpus | undefined;

/** Loads (once) and returns the corpus. */
export function loadCorpus(): CoreCorpus {
  if (corpus) return corpus;
  const read = (name: string): unknown => JSON.parse(readFileSync(SEED_DIR + name, 'utf8'));
  const text = read('address-text.json') as AddressSeeds;
  corpus = {
    text,
    allText: Object.values(text).flat() as string[],
    replies: (read('netlink-replies.json') as SavedReply[]).map((r) => ({ what: r.what, bytes: fromHex(r.hex) })),
  };
  return corpus;
}
