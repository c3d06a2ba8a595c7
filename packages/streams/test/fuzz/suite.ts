/**
 * The streams fuzz suite for the shared runner (@tunpipe/testkit fuzz-*):
 * framed-transport decoding (stream and body) and pcap writing of odd sizes.
 */
import type { FuzzSuite } from '@tunpipe/testkit';
import { isTunError } from '@tunpipe/offload';
import { loadCorpus, type StreamsCorpus } from './seeds.js';
import { ALLOC_SELF_TEST, TARGETS } from './targets.js';

/** streams' targets, corpus and documented errors. */
export const SUITE: FuzzSuite<StreamsCorpus> = {
  name: 'streams',
  targets: TARGETS,
  hidden: [ALLOC_SELF_TEST],
  loadCorpus,
  codeOf: (err) => (isTunError(err) ? err.code : undefined),
};
