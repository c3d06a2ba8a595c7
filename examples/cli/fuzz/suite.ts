/**
 * The CLI fuzz suite for the shared runner (@tunpipe/testkit fuzz-*): command
 * lines through the parser and every command's plan step.
 */
import { isTunError } from '@tunpipe/core';
import type { FuzzSuite } from '@tunpipe/testkit';
import { loadCorpus, type CliCorpus } from './seeds.js';
import { TARGETS } from './targets.js';

/** The CLI's targets, corpus and documented errors. */
export const SUITE: FuzzSuite<CliCorpus> = {
  name: 'cli',
  targets: TARGETS,
  loadCorpus,
  codeOf: (err) => (isTunError(err) ? err.code : undefined),
};
