/**
 * Per-queue router statistics for people: rates between two snapshots of a
 * queue set's counters, shown as one line per (device, queue) worker. On a
 * terminal the lines are rewritten in place (cursor up, clear line); elsewhere
 * each refresh prints them once more, prefixed with the elapsed time.
 *
 * ```
 *  tpa0 q0   4120 pps   3.21 Gbps  fwd  40231  drop 2  superpackets mean 9733 B
 * ```
 */
import type { QueueSet, QueueStats } from '@tunpipe/linux-mq';

/** Where the lines go: a stream with `write`, and `isTTY` for in-place refresh. */
export interface StatsOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Packets a router dropped on purpose or lost: unparsable, handler drops, handler errors, failed writes. */
export function droppedPackets(s: QueueStats): number {
  return s.malformed + s.handlerDrops + s.handlerErrorDrops + s.txErrors;
}

/** One line describing queue `s`, with rates against `prev` over `seconds` (totals when `prev` is null). */
export function formatQueueLine(name: string, s: QueueStats, prev: QueueStats | null, seconds: number): string {
  const label = `${name} q${s.queue}`.padEnd(10);
  const mean = s.rxPackets > 0 ? Math.round(s.rxBytes / s.rxPackets) : 0;
  const tail = `fwd ${String(s.forwarded).padStart(8)}  icmp-err ${s.replied}  drop ${droppedPackets(s)}  mean ${mean} B`;
  if (prev === null || seconds <= 0) {
    return `${label} rx ${String(s.rxPackets).padStart(8)} pkts ${formatBytes(s.rxBytes).padStart(10)}  ${tail}`;
  }
  const pps = (s.rxPackets - prev.rxPackets) / seconds;
  const gbps = ((s.rxBytes - prev.rxBytes) * 8) / seconds / 1e9;
  return `${label} ${pps.toFixed(0).padStart(8)} pps ${gbps.toFixed(2).padStart(6)} Gbps  ${tail}`;
}

/** Refreshes per-queue lines every `intervalMs` until `stop()`. */
export class LiveStats {
  private prev: QueueStats[] | null = null;
  private prevAt = 0;
  private shown = 0;
  private lastLines: string[] = [];
  private readonly started = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly set: QueueSet,
    private readonly names: readonly string[],
    private readonly out: StatsOutput,
    intervalMs = 1000,
  ) {
    this.prev = set.stats();
    this.prevAt = Date.now();
    this.timer = setInterval(() => this.refresh(), intervalMs);
    this.timer.unref();
  }

  /** Prints the current rates now. */
  refresh(): void {
    const now = Date.now();
    const stats = this.set.stats();
    const seconds = (now - this.prevAt) / 1000;
    const lines = stats.map((s, i) => formatQueueLine(this.names[s.device] ?? `dev${s.device}`, s, this.prev?.[i] ?? null, seconds));
    if (this.out.isTTY === true) {
      this.draw(lines);
    } else {
      const t = ((now - this.started) / 1000).toFixed(1);
      this.out.write(lines.map((l) => `[${t}s] ${l}\n`).join(''));
    }
    this.prev = stats;
    this.prevAt = now;
  }

  /**
   * Prints `text` (one or more lines) above the stats: on a terminal the stats
   * block is erased, the text printed and the block drawn again below it.
   */
  log(text: string): void {
    if (this.out.isTTY === true && this.shown > 0) {
      this.out.write(`\x1b[${this.shown}A\x1b[J${text}\n`);
      this.shown = 0;
      this.draw(this.lastLines);
    } else {
      this.out.write(`${text}\n`);
    }
  }

  private draw(lines: string[]): void {
    const up = this.shown > 0 ? `\x1b[${this.shown}A` : '';
    this.out.write(up + lines.map((l) => `\x1b[2K${l}\n`).join(''));
    this.shown = lines.length;
    this.lastLines = lines;
  }

  /** Stops refreshing (the last lines stay on screen). */
  stop(): void {
    clearInterval(this.timer);
  }

  /** Same as stop(). */
  [Symbol.dispose](): void {
    this.stop();
  }
}

/** Final per-queue totals, one line per (device, queue). */
export function finalStatsLines(set: QueueSet, names: readonly string[]): string[] {
  return set.stats().map((s) => formatQueueLine(names[s.device] ?? `dev${s.device}`, s, null, 0));
}

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
