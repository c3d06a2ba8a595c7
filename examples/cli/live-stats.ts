/**
 * Per-queue statistics while a command runs. On a terminal: one line per queue,
 * redrawn in place every interval (cursor up + clear line), with rates computed
 * from the previous sample. With `--json`: one JSON line per interval. Otherwise
 * (a pipe or a file): plain lines per interval when `--stats-interval` was given,
 * nothing when it was not.
 */
import type { QueueStats } from '@tunpipe/linux-mq';

/** Where the renderer writes (process.stdout in the CLI). */
export interface StatsOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** How the renderer draws. */
export interface LiveStatsOptions {
  out: StatsOutput;
  /** Sampling interval in ms. */
  intervalMs: number;
  /** `live`: redraw in place; `lines`: append plain lines; `json`: JSON lines; `off`. */
  style: 'live' | 'lines' | 'json' | 'off';
  /** Interface name of each device index. */
  deviceNames: readonly string[];
  /** Current counters of every queue. */
  sample: () => readonly QueueStats[];
}

/** Packets the queue lost on its own side: a full RX ring (the kernel then drops), unparsable packets, failed writes. */
export function queueDrops(s: QueueStats): number {
  return s.ringFull + s.malformed + s.txErrors + s.handlerErrorDrops;
}

/** One queue's rates over an interval. */
export interface QueueRates {
  device: string;
  queue: number;
  rxPps: number;
  rxGbps: number;
  txPps: number;
  txGbps: number;
  rxPackets: number;
  txPackets: number;
  drops: number;
}

/** Rates between two samples of the same queues, `ms` apart. */
export function computeRates(prev: readonly QueueStats[], now: readonly QueueStats[], ms: number, names: readonly string[]): QueueRates[] {
  const seconds = Math.max(ms, 1) / 1000;
  return now.map((s, i) => {
    const p = prev[i];
    const d = (k: 'rxPackets' | 'rxBytes' | 'txPackets' | 'txBytes') => s[k] - (p?.[k] ?? 0);
    return {
      device: names[s.device] ?? `dev${s.device}`,
      queue: s.queue,
      rxPps: d('rxPackets') / seconds,
      rxGbps: (d('rxBytes') * 8) / seconds / 1e9,
      txPps: d('txPackets') / seconds,
      txGbps: (d('txBytes') * 8) / seconds / 1e9,
      rxPackets: s.rxPackets,
      txPackets: s.txPackets,
      drops: queueDrops(s),
    };
  });
}

/** The text of one queue line. */
export function formatQueueLine(r: QueueRates): string {
  const pps = (n: number) => Math.round(n).toString().padStart(8);
  const gbps = (n: number) => n.toFixed(3).padStart(7);
  return `${r.device} q${r.queue}  rx ${pps(r.rxPps)} pps ${gbps(r.rxGbps)} Gbps  tx ${pps(r.txPps)} pps ${gbps(r.txGbps)} Gbps  drops ${r.drops}  (total rx ${r.rxPackets} tx ${r.txPackets})`;
}

/** Samples every interval and draws; `stop()` draws the last sample and ends. */
export class LiveStats {
  readonly #o: LiveStatsOptions;
  #prev: readonly QueueStats[];
  #prevAt = Date.now();
  #drawnLines = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LiveStatsOptions) {
    this.#o = options;
    this.#prev = options.sample();
  }

  /** Starts the periodic drawing (nothing for style `off`). */
  start(): this {
    if (this.#o.style !== 'off') {
      this.#timer = setInterval(() => this.#tick(), this.#o.intervalMs);
      this.#timer.unref();
    }
    return this;
  }

  /** Stops drawing; the live view keeps its last frame on screen (and clears the line below, where a terminal echoed `^C`). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#o.style === 'live' && this.#drawnLines > 0) this.#o.out.write('\r\x1b[2K');
  }

  #tick(): void {
    const now = this.#o.sample();
    const at = Date.now();
    const rates = computeRates(this.#prev, now, at - this.#prevAt, this.#o.deviceNames);
    this.#prev = now;
    this.#prevAt = at;
    const { out, style } = this.#o;
    if (style === 'json') {
      out.write(`${JSON.stringify({ event: 'stats', time: new Date(at).toISOString(), queues: rates })}\n`);
    } else if (style === 'lines') {
      out.write(rates.map((r) => `${new Date(at).toISOString()} ${formatQueueLine(r)}\n`).join(''));
    } else if (style === 'live') {
      const up = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}A` : '';
      out.write(up + rates.map((r) => `\r\x1b[2K${formatQueueLine(r)}\n`).join(''));
      this.#drawnLines = rates.length;
    }
  }
}

/** The drawing style for a command's `--json` / `--stats-interval` and its output. */
export function statsStyle(json: boolean, intervalGiven: boolean, out: StatsOutput): LiveStatsOptions['style'] {
  if (json) return intervalGiven ? 'json' : 'off';
  if (out.isTTY === true) return 'live';
  return intervalGiven ? 'lines' : 'off';
}
