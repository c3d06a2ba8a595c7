/**
 * Verdicts of an in-worker packet handler: one byte per packet in a preallocated
 * `Uint8Array`, preset to PASS before every batch. No objects per packet.
 *
 * ```
 *   0  DROP            the packet goes nowhere (counted as handlerDrops)
 *   1  PASS            to the main thread's RX ring (batches()); while an RX redirect
 *                      is active (QueueSet.redirectTo), out of its target device
 *   2  TX              back out of the device it came from (a reply)
 *  16+d FORWARD(d)     out of device d of the set, same queue index when attached
 * ```
 */

/** Verdict values. */
export const Verdict = {
  /** Drop the packet. */
  DROP: 0,
  /** Hand the packet to the main thread. */
  PASS: 1,
  /** Write the packet back out of its own device (a reply; rewrite it first). */
  TX: 2,
  /** Base of FORWARD verdicts: `FORWARD + d` sends to device `d`; use `Verdict.forward(d)`. */
  FORWARD: 16,
  /** The verdict that forwards a packet to device `device` of the set. */
  forward(device: number): number {
    if (!Number.isInteger(device) || device < 0 || device > MAX_FORWARD_DEVICE) {
      throw new RangeError(`forward target must be a device index 0..${MAX_FORWARD_DEVICE}, got ${device}`);
    }
    return 16 + device;
  },
} as const;

/** Highest device index a FORWARD verdict can name. */
export const MAX_FORWARD_DEVICE = 255 - 16;
