/**
 * The offload fuzz suite for the shared runner (@tunpipe/testkit fuzz-*):
 * the read, GSO split, GRO and checksum entry points and every wire view.
 */
import type { FuzzSuite } from '@tunpipe/testkit';
import { isTunError } from '../../src/index.js';
import { loadCorpus, type Corpus } from './seeds.js';
import { HANG_SELF_TEST, TARGETS } from './targets.js';

/** offload's targets, corpus and documented errors. */
export const SUITE: FuzzSuite<Corpus> = {
  name: 'offload',
  targets: TARGETS,
  hidden: [HANG_SELF_TEST],
  loadCorpus,
  codeOf: (err) => (isTunError(err) ? err.code : undefined),
};
