/**
 * The core fuzz entry points, in a stable order: `addressText` (address-text.ts:
 * the address, CIDR, netmask, MAC and interface-name parsers and every validate*
 * wrapper). It needs no root: it parses generated text, and opens nothing.
 */
import type { FuzzTarget } from '@tunpipe/testkit';
import { addressTextTarget } from './address-text.js';
import type { CoreCorpus } from './seeds.js';

/** Every core entry point. */
export const TARGETS: readonly FuzzTarget<CoreCorpus>[] = [addressTextTarget];
