/**
 * How many packets a batch API call handles at most in the common case: the
 * reader's `bufs` length, and the segments one read can produce (a 64 KB TCP
 * superpacket cut at an MSS of 536 is 123 segments). Same value as
 * wireguard-go's conn.IdealBatchSize.
 */
export const IDEAL_BATCH_SIZE = 128;
