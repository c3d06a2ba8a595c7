/**
 * `RxRedirect`: the handle of `QueueSet.redirectTo()`, one device's received
 * packets sent by its own queue workers straight out of a device of another
 * queue set (the splice(2) of tunpipe: no hop through the main thread, no copy).
 *
 * ```
 *   set A, device d                         set B, device t
 *   fd q0 ── worker(d,0) ── egress ─ write ─► fd q0 of t     (same queue index
 *   fd q1 ── worker(d,1) ── egress ─ write ─► fd q1 of t      when attached)
 *            (what would be PASSed to the main thread)
 * ```
 *
 * Life of a redirect, driven by the source set:
 *
 *   1. HOLD: every source worker stops reading (TX and requests go on), so
 *      what it already published to its RX ring is all there is;
 *   2. `drain()` (the caller's): empty the RX rings the ordinary way, e.g.
 *      through the target's writer, so those packets leave first;
 *   3. REDIRECT: each worker learns the target (fds, virtio header, GSO
 *      support, attached flags) and resumes reading; PASS verdicts (every
 *      packet, without a handler) now go to the target, counted `piped`;
 *   4. `revoke()`: UNREDIRECT; once every worker acknowledged (or left its
 *      loop) none of them will touch the target's fds again.
 *
 * Safety of fd numbers: the source workers hold the target's fd numbers, which
 * the target set owns. The target set therefore revokes every redirect into it
 * and waits for the acknowledgements before it closes any fd (`close()`), so a
 * fused write can never land on a reused fd number. A target whose device
 * vanished keeps its fds open until closed: writes to them fail (counted in the
 * source queue's txErrors) and go nowhere else.
 *
 * `ended` settles (never rejects) when the redirect is over for any reason:
 * revoked, the source set closed or a source queue failed (`cause: 'source'`),
 * or the target set closed or a target queue failed (`cause: 'target'`, with
 * the error the target's writer would now throw).
 */
import type { TunError } from '@tunpipe/offload';
import type { QueueSet } from './queue-set.js';

/** Why a redirect ended. */
export type RedirectEndCause = 'revoked' | 'source' | 'target';

/** How a redirect ended (what `RxRedirect.ended` resolves to). */
export interface RedirectEnd {
  /** 'revoked' (by `revoke()`), 'source' (the source set closed or a source queue failed), 'target' (likewise the target). */
  readonly cause: RedirectEndCause;
  /** The failure, if one ended it: the source queue's error, or what the target's writer throws now (ERR_TUN_CLOSED, ERR_TUN_DEVICE_GONE...). */
  readonly error: TunError | undefined;
}

/** Options of `QueueSet.redirectTo()`. */
export interface RedirectOptions {
  /** Source device (index in this set). Default 0. */
  device?: number;
  /** Target device (index in the target set). Default 0. */
  targetDevice?: number;
  /**
   * Runs while the source workers hold their reads, before the switch: empty the
   * source's RX rings here (e.g. write them to the target) so every packet
   * received before the redirect leaves before any redirected one. Without it,
   * what was published stays in the rings for the source's reader.
   */
  drain?: () => Promise<void>;
}

/** A live RX redirect; see the file comment. */
export class RxRedirect {
  /** The set whose device's received packets are redirected. */
  readonly source: QueueSet;
  /** Source device index. */
  readonly device: number;
  /** The set that owns the target device. */
  readonly target: QueueSet;
  /** Target device index. */
  readonly targetDevice: number;
  /** Settles once the redirect is over (see `RedirectEnd`); never rejects. */
  readonly ended: Promise<RedirectEnd>;
  private settle!: (end: RedirectEnd) => void;
  private outcome: RedirectEnd | undefined;
  private switched = false;
  private revoking: Promise<void> | undefined;
  private readonly unredirect: () => Promise<void>;

  /** @internal Created by `QueueSet.redirectTo`; `unredirect` asks every source worker to forget the target and waits for them. */
  constructor(source: QueueSet, device: number, target: QueueSet, targetDevice: number, unredirect: () => Promise<void>) {
    this.source = source;
    this.device = device;
    this.target = target;
    this.targetDevice = targetDevice;
    this.unredirect = unredirect;
    this.ended = new Promise<RedirectEnd>((resolve) => {
      this.settle = resolve;
    });
  }

  /** True while packets go to the target: switched over and not ended. */
  get active(): boolean {
    return this.switched && this.outcome === undefined;
  }

  /** How it ended, once it did. */
  get outcomeIfEnded(): RedirectEnd | undefined {
    return this.outcome;
  }

  /**
   * Ends the redirect: every source worker forgets the target and goes back to
   * passing packets to its RX ring. Resolves once none of them can write to the
   * target any more. Idempotent.
   */
  revoke(): Promise<void> {
    this.end('revoked', undefined);
    this.revoking ??= this.unredirect();
    return this.revoking;
  }

  /** @internal The workers switched over. */
  markSwitched(): void {
    this.switched = true;
  }

  /** @internal Records why it ended (the first cause wins) and settles `ended`. */
  end(cause: RedirectEndCause, error: TunError | undefined): void {
    if (this.outcome !== undefined) return;
    this.outcome = { cause, error };
    this.settle(this.outcome);
  }
}
