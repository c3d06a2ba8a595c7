/**
 * The core fuzz suite for the shared runner (@tunpipe/testkit fuzz-*): address
 * text and validators, and rtnetlink reply decoding. scripts/fuzz.mjs finds it as
 * packages/core/dist/test/fuzz/suite.js.
 */
import { isTunError } from '@tunpipe/offload';
import type { FuzzSuite } from '@tunpipe/testkit';
import { loadCorpus, type CoreCorpus } from './seeds.js';
import { TARGETS } from './targets.js';

/** core's targets, corpus and documented errors. */
export const SUITE: FuzzSuite<CoreCorpus> = {
  name: 'core',
  targets: TARGETS,
  loadCorpus,
  codeOf: (err) => (isTunError(err) ? err.code : undefined),
};
