/**
 * The soak: epochs of relay + load, faults from the seeded schedule applied one
 * after another until the duration is used up, then the books are closed and
 * resources compared with the baseline. Returns everything the report and the
 * test need; `violations` lists every broken promise (empty = pass).
 */
import { fixMallocThresholds } from '@tunpipe/core';
import { QueueWorkerPool } from '@tunpipe/linux-mq';
import type { TestContext } from '@tunpipe/testkit';
import { Deadlines, HangError, sleep } from './deadline.js';
import { Epoch, type EpochRecord, type LoadSettings } from './epoch.js';
import { injectFault } from './fault-injector.js';
import { planFaults, FAULT_KINDS, type Fault, type FaultKind } from './fault-schedule.js';
import { Prng } from './prng.js';
import { reduceHeap, resources, settle, settleBuffers, settleRss, warmUp, ARRAY_BUFFER_SLACK, type Resources } from './resources.js';
import { SoakNamespaces } from './topology.js';
import { leakResident } from './injected-leak.js';
import { formatMemoryMap, memoryMap, rssInUse, type MemoryMap } from './memory-map.js';
import { closeBooks, unaccounted, type UdpBooks } from './udp-books.js';
import type { TcpResults } from './tcp-load.js';

/** Options of `runSoak`. */
export interface SoakOptions {
  /** Seed of the fault schedule and the TCP sizes. */
  seed: number;
  /** Time spent injecting faults (ms); the first round (every kind once) always runs in full. */
  durationMs: number;
  /** Load settings (defaults below). */
  load?: Partial<LoadSettings>;
  /**
   * glibc's malloc thresholds: 'fixed' (default) calls `fixMallocThresholds()`
   * first, as a process that opens and closes queue sets should, and then RSS must
   * come back to the baseline; 'default' keeps glibc's dynamic thresholds, and RSS
   * is only held to RSS_BACKSTOP (exited threads' arenas keep their free tops).
   */
  malloc?: 'fixed' | 'default';
  /**
   * Queue threads: 'pooled' (default) runs every epoch's relay on the threads
   * of a QueueWorkerPool closed at the end, as a process that reopens sets
   * should; 'fresh' starts new ones for each relay (each leaves koffi's
   * per-thread memory behind: README.md).
   */
  threads?: 'pooled' | 'fresh';
  /** RSS allowed above the baseline once the run is over and the allocators gave back what they hold free (bytes). Default RSS_TOLERANCE. */
  rssTolerance?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Logs what RSS consists of (memory-map.ts) at the baseline, after each epoch and at the end. */
  rssReport?: boolean;
  /** In-use RSS allowed above the post-warm-up baseline (bytes). Default RSS_IN_USE_TOLERANCE. */
  rssInUseTolerance?: number;
  /**
   * Runs one short relay lifetime under load (its own namespaces and, when
   * pooled, its own worker pool, all gone again) before the baseline is taken,
   * so that what a process keeps for good after its first relay (malloc arenas,
   * code paged in, V8's compiled code) is in the baseline and the soak is held
   * to what it adds itself. Default true; `false` measures from a cold process.
   */
  warmUp?: boolean;
  /**
   * Bytes of resident native memory leaked on purpose after every epoch
   * (injected-leak.ts), to check that the RSS assertion catches a leak the
   * JavaScript-side checks cannot see. Default 0.
   */
  injectLeakBytes?: number;
}

/**
 * In-use RSS (memory-map.ts: RSS minus what glibc's arenas and V8's heap hold
 * free) that a later epoch or the end may show above the post-warm-up baseline
 * (after epoch 0). Measured after warm-up: -0.5 to +2.3 MiB (V8 code space and
 * pooled pages, malloc bookkeeping); see README.md.
 */
export const RSS_IN_USE_TOLERANCE = 3 << 20;

/**
 * RSS the process may keep above its baseline (both measured after V8 gave back
 * its free memory: resources.ts, settleRss), with fixed malloc thresholds and
 * pooled queue threads, the baseline taken after the warm-up lifetime.
 * RSS_TOLERANCE_COLD when the baseline is the cold process (`warmUp: false`).
 */
export const RSS_TOLERANCE = 5 << 20;

/**
 * RSS a cold process may keep above its pre-soak baseline. What the first relay
 * adds for good, measured (test/soak/README.md): the malloc arenas of the 13
 * threads that ran at once, each keeping its top up to the trim threshold (3 to
 * 3.5 MiB); the parts of node, koffi and libc it paged in (0.7 to 1.5 MiB);
 * thread stacks glibc caches for the next threads (0.2 to 0.3 MiB); V8's code
 * space (0.3 to 1 MiB).
 */
export const RSS_TOLERANCE_COLD = 8 << 20;

/** Load time of the warm-up lifetime (ms). */
export const WARM_UP_MS = 1_500;

/** With glibc's dynamic malloc thresholds, RSS is held only to this much growth (bytes). */
export const RSS_BACKSTOP = 160 << 20;

/** Longest wait for RSS to come down after the run (ms), once V8 was made to give back its free memory (resources.ts, settleRss). */
export const RSS_SETTLE_MS = 5_000;

/** A memory snapshot of the soak: at the baseline, after each epoch (rings freed), at the end. */
export interface MemorySnapshot {
  /** 'baseline', 'epoch N', 'end' or 'settled' (after V8 gave back its free memory). */
  label: string;
  /** What RSS consisted of. */
  map: MemoryMap;
}

/** Defaults sized for a loaded 2-vCPU machine. */
export const DEFAULT_LOAD: LoadSettings = {
  queues: 2,
  pps: 4000,
  udpSize: 200,
  flows: 8,
  udpPort: 9000,
  maxPacketsPerEpoch: 4_000_000,
  tcpStreams: 2,
  tcpMinBytes: 1 << 20,
  tcpMaxBytes: 6 << 20,
  tcpTimeoutMs: 60_000,
  agentLimitMs: 30 * 60_000,
};

/** A fault as it happened. */
export interface FaultOutcome {
  /** The planned fault. */
  fault: Fault;
  /** Wall time it took (ms). */
  ms: number;
  /** True when the relay moved UDP again afterwards (within the bound). */
  survived: boolean;
}

/** Everything a run produced. */
export interface SoakResult {
  /** The seed. */
  seed: number;
  /** Wall time of the whole run (ms). */
  wallMs: number;
  /** The faults applied, in order. */
  faults: FaultOutcome[];
  /** Survived faults per kind. */
  survivedByKind: Record<FaultKind, number>;
  /** The epochs. */
  epochs: EpochRecord[];
  /** UDP books over all epochs. */
  udp: UdpBooks;
  /** TCP over all epochs. */
  tcp: TcpResults;
  /** Packets the relay's workers read, over all devices and epochs. */
  workerRxPackets: number;
  /** Handler exceptions the workers counted. */
  handlerErrors: number;
  /** Resources before and after. */
  before: Resources;
  after: Resources;
  /** Memory snapshots: baseline, after each epoch, end. */
  memory: MemorySnapshot[];
  /** In-use RSS allowed above the post-warm-up baseline (bytes). */
  rssInUseTolerance: number;
  /** The malloc thresholds the run had. */
  malloc: 'fixed' | 'default';
  /** Whether relays reused pooled threads. */
  threads: 'pooled' | 'fresh';
  /** Threads the pool started (null without a pool). */
  threadsStarted: number | null;
  /** RSS of the cold process before anything ran, after V8 gave back its free memory (bytes). */
  coldRss: number;
  /** Whether a warm-up lifetime ran before the baseline (`SoakOptions.warmUp`). */
  warmedUp: boolean;
  /** RSS at the start (after the warm-up lifetime, if any), after V8 gave back its free memory (bytes). */
  baselineRss: number;
  /** RSS once the run was over and V8 gave back its free memory (bytes). */
  settledRss: number;
  /** How long settling took (ms; about RSS_SETTLE_MS when RSS did not come down). */
  settleMs: number;
  /** RSS allowed above the baseline once settled (bytes). */
  rssTolerance: number;
  /** Slowest time per bounded operation. */
  slowest: Record<string, { ms: number; bound: number; count: number }>;
  /** Broken promises; empty when the soak passed. */
  violations: string[];
}

/** Runs the soak. Namespaces are deleted at the end and in `ctx`'s teardown. */
export async function runSoak(ctx: TestContext, options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => undefined);
  const load: LoadSettings = { ...DEFAULT_LOAD, agentLimitMs: options.durationMs + 10 * 60_000, ...options.load };
  const deadlines = new Deadlines();
  // Planned generously (the plan's cost estimates are rough): the run stops at its duration.
  const schedule = planFaults(options.seed, options.durationMs * 3);
  const tcpPrng = new Prng(options.seed ^ 0x5eed7c9);
  const violations: string[] = [];
  const outcomes: FaultOutcome[] = [];
  const epochs: EpochRecord[] = [];
  const malloc = options.malloc ?? 'fixed';
  const threads = options.threads ?? 'pooled';
  const pool = threads === 'pooled' ? new QueueWorkerPool() : undefined;
  if (malloc === 'fixed') fixMallocThresholds();
  await warmUp();
  const coldRss = await reduceHeap();
  const cold = resources();
  const warmed = options.warmUp ?? true;
  if (warmed) {
    const rec = await warmUpLifetime(ctx, load, deadlines, new Prng(options.seed ^ 0x3a2f), threads === 'pooled');
    const u = unaccounted(rec.udp);
    log(`warm-up: a relay lifetime of ${WARM_UP_MS} ms (UDP sent ${rec.udp.sent}, received ${rec.udp.received}, unaccounted ${u}; ${rec.tcp.transfers} TCP transfers), closed before the baseline`);
    if (u !== 0) violations.push(`warm-up: ${u} UDP datagrams unaccounted (sent ${rec.udp.sent}, received ${rec.udp.received})`);
    for (const f of rec.tcp.failures) violations.push(`warm-up TCP: ${f}`);
  }
  // Threads of the warm-up's pool exit a little after it closed.
  const before = warmed ? await settle(cold) : cold;
  const baselineRss = warmed ? await reduceHeap() : coldRss;
  const memory: MemorySnapshot[] = [];
  const snapshot = async (label: string): Promise<void> => {
    await settleBuffers(before);
    const map = memoryMap();
    memory.push({ label, map });
    if (options.rssReport === true) log(`memory ${label}: ${formatMemoryMap(map)}`);
  };
  await snapshot('baseline');
  const started = performance.now();
  const spaces = new SoakNamespaces(ctx);
  let epoch: Epoch | undefined;
  let nextSeq = 0;
  try {
    epoch = await Epoch.open(0, spaces, load, deadlines, tcpPrng, nextSeq, pool);
    log(`epoch 0: relay open (devices ${epoch.names.join(', ')})`);
    const end = performance.now() + options.durationMs;
    for (const fault of schedule) {
      if (!fault.firstRound && performance.now() + fault.gapMs >= end) break;
      await sleep(fault.gapMs);
      const t0 = performance.now();
      const mark = epoch.relay.counters.relayed;
      if (fault.kind === 'netns-recreate') {
        const rec = await epoch.finish(fault.side);
        epochs.push(rec);
        nextSeq += rec.udp.issued;
        log(`epoch ${rec.index} closed (${rec.end}): UDP sent ${rec.udp.sent}, received ${rec.udp.received}, unaccounted ${unaccounted(rec.udp)}; readers ended ${JSON.stringify(rec.readerEnds)}; RSS ${mib(rec.closed.rss)} MiB, array buffers ${mib(rec.closed.arrayBuffers)} MiB, external ${mib(rec.closed.external)} MiB`);
        epoch = undefined;
        leakResident(options.injectLeakBytes ?? 0);
        await snapshot(`epoch ${rec.index}`);
        epoch = await Epoch.open(rec.index + 1, spaces, load, deadlines, tcpPrng, nextSeq, pool);
        log(`epoch ${epoch.index}: relay open on a recreated namespace ${fault.side}`);
      } else {
        await injectFault(fault, epoch, spaces, deadlines);
      }
      // Survived: UDP flows through the relay again (20 more datagrams), within 20 s.
      const from = fault.kind === 'netns-recreate' ? 0 : mark;
      const recoverBy = performance.now() + 20_000;
      while (epoch.relay.counters.relayed < from + 20 && performance.now() < recoverBy) await sleep(20);
      const survived = epoch.relay.counters.relayed >= from + 20;
      const ms = performance.now() - t0;
      outcomes.push({ fault, ms, survived });
      log(`fault ${fault.index} ${fault.kind} (${describe(fault)}): ${survived ? 'survived' : 'UDP DID NOT RECOVER'} in ${ms.toFixed(0)} ms`);
      if (!survived) violations.push(`fault ${fault.index} ${fault.kind}: UDP did not flow again within 20 s`);
    }
    const last = await epoch.finish(null);
    epochs.push(last);
    epoch = undefined;
    leakResident(options.injectLeakBytes ?? 0);
    await snapshot(`epoch ${last.index}`);
    log(`epoch ${last.index} closed: UDP sent ${last.udp.sent}, received ${last.udp.received}, unaccounted ${unaccounted(last.udp)}; RSS ${mib(last.closed.rss)} MiB, array buffers ${mib(last.closed.arrayBuffers)} MiB, external ${mib(last.closed.external)} MiB`);
  } catch (e) {
    violations.push(e instanceof HangError ? `hang: ${e.message}` : `error: ${(e as Error).stack ?? String(e)}`);
    if (epoch !== undefined) {
      violations.push(`state at the failure: ${epoch.describeState()}`);
      await epoch.abandon();
    }
  } finally {
    await spaces.deleteAll().catch((e: unknown) => violations.push(`namespace cleanup: ${String(e)}`));
    if (pool !== undefined) {
      await deadlines.within('close the worker pool', 10_000, pool.close()).catch((e: unknown) => violations.push(`worker pool: ${String(e)}`));
    }
  }
  const after = await settle(cold);
  await snapshot('end');
  const rssTolerance = options.rssTolerance ?? (warmed ? RSS_TOLERANCE : RSS_TOLERANCE_COLD);
  const settleStart = performance.now();
  const settledRss = await settleRss(baselineRss + rssTolerance, RSS_SETTLE_MS);
  const settleMs = performance.now() - settleStart;
  await snapshot('settled');
  const wallMs = performance.now() - started;

  const udp = closeBooks(epochs.map((e) => e.udp));
  const tcp: TcpResults = { transfers: 0, bytes: 0, slowestMs: 0, refused: 0, failures: [] };
  let workerRxPackets = 0;
  let handlerErrors = 0;
  for (const e of epochs) {
    tcp.transfers += e.tcp.transfers;
    tcp.bytes += e.tcp.bytes;
    tcp.slowestMs = Math.max(tcp.slowestMs, e.tcp.slowestMs);
    tcp.refused += e.tcp.refused;
    tcp.failures.push(...e.tcp.failures);
    for (const s of e.stats) {
      workerRxPackets += s.rxPackets;
      handlerErrors += s.handlerErrors;
    }
    const u = unaccounted(e.udp);
    if (u !== 0) violations.push(`epoch ${e.index}: ${u} UDP datagrams unaccounted (sent ${e.udp.sent}, received ${e.udp.received})`);
    if (e.end !== 'finished') {
      const side = e.end.endsWith('A deleted') ? 0 : 1;
      if (e.readerEnds[side] !== 'ERR_TUN_DEVICE_GONE') violations.push(`epoch ${e.index}: device ${side}'s reader ended with ${e.readerEnds[side]}, not ERR_TUN_DEVICE_GONE`);
    }
  }
  if (udp.duplicates + udp.outOfRange + udp.badPayload !== 0) {
    violations.push(`UDP: ${udp.duplicates} duplicates, ${udp.outOfRange} out of range, ${udp.badPayload} corrupted`);
  }
  if (udp.received === 0) violations.push('UDP: nothing was received');
  for (const f of tcp.failures) violations.push(`TCP: ${f}`);
  if (tcp.transfers === 0) violations.push('TCP: no transfer completed');
  const survivedByKind = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  for (const o of outcomes) if (o.survived) survivedByKind[o.fault.kind]++;
  // fds, threads and buffers against the cold process: the warm-up keeps none.
  if (before.fds !== cold.fds || before.threads !== cold.threads) {
    violations.push(`warm-up: fds ${cold.fds} → ${before.fds}, threads ${cold.threads} → ${before.threads}`);
  }
  if (after.fds !== cold.fds) violations.push(`fds: ${cold.fds} before, ${after.fds} after`);
  if (after.threads !== cold.threads) violations.push(`threads: ${cold.threads} before, ${after.threads} after`);
  if (after.arrayBuffers - cold.arrayBuffers > ARRAY_BUFFER_SLACK) {
    violations.push(`array buffers grew by ${((after.arrayBuffers - cold.arrayBuffers) / 1048576).toFixed(1)} MiB (rings or packets retained)`);
  }
  // RSS in use (net of what glibc and the main isolate hold free) after every
  // later epoch within a tolerance of the post-warm-up value (after epoch 0, once
  // the arenas and V8's code exist). With fresh threads only: pooled threads idle
  // between epochs, and their isolates' heaps (which the main thread cannot see
  // into) count as in use; with a pool the settled RSS below is the measure.
  const rssInUseTolerance = options.rssInUseTolerance ?? RSS_IN_USE_TOLERANCE;
  const warm = memory.find((m) => m.label === 'epoch 0');
  if (warm !== undefined && threads === 'fresh') {
    for (const m of memory.slice(memory.indexOf(warm) + 1)) {
      const above = rssInUse(m.map) - rssInUse(warm.map);
      if (above > rssInUseTolerance) {
        violations.push(`RSS in use ${m.label === 'end' ? 'at the end' : `after ${m.label}`} is ${mib(above)} MiB above the post-warm-up baseline (${mib(rssInUse(warm.map))} MiB after epoch 0; allowed ${mib(rssInUseTolerance)}): memory retained`);
      }
    }
  }
  // RSS back to the baseline: once the run is over and the allocators gave back what they hold free.
  if (malloc === 'fixed' && settledRss - baselineRss > rssTolerance) {
    violations.push(`RSS did not come back: ${mib(settledRss - baselineRss)} MiB above the baseline (${mib(baselineRss)} MiB) after ${(settleMs / 1000).toFixed(1)} s (allowed ${mib(rssTolerance)})`);
  }
  if (malloc === 'default' && settledRss - baselineRss > RSS_BACKSTOP) {
    violations.push(`RSS grew by ${mib(settledRss - baselineRss)} MiB (allowed ${mib(RSS_BACKSTOP)} with glibc's dynamic malloc thresholds)`);
  }
  return {
    seed: options.seed,
    wallMs,
    coldRss,
    warmedUp: warmed,
    faults: outcomes,
    survivedByKind,
    epochs,
    udp,
    tcp,
    workerRxPackets,
    handlerErrors,
    before: cold,
    after,
    memory,
    rssInUseTolerance,
    malloc,
    threads,
    threadsStarted: pool?.counts.started ?? null,
    baselineRss,
    settledRss,
    settleMs,
    rssTolerance,
    slowest: Object.fromEntries(deadlines.slowest),
    violations,
  };
}

/**
 * One relay lifetime under UDP and TCP load, without faults, on namespaces and
 * (pooled) a worker pool of its own, all closed again before it returns.
 */
async function warmUpLifetime(ctx: TestContext, load: LoadSettings, deadlines: Deadlines, tcpPrng: Prng, pooled: boolean): Promise<EpochRecord> {
  const spaces = new SoakNamespaces(ctx);
  const pool = pooled ? new QueueWorkerPool() : undefined;
  let epoch: Epoch | undefined;
  try {
    epoch = await Epoch.open(0, spaces, load, deadlines, tcpPrng, 0, pool);
    await sleep(WARM_UP_MS);
    const rec = await epoch.finish(null);
    epoch = undefined;
    return rec;
  } finally {
    if (epoch !== undefined) await epoch.abandon();
    await spaces.deleteAll();
    if (pool !== undefined) await deadlines.within('close the warm-up worker pool', 10_000, pool.close());
  }
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/** A short description of a fault's parameters. */
export function describe(f: Fault): string {
  switch (f.kind) {
    case 'queue-detach': return `${f.role} queue ${f.queue} for ${f.holdMs} ms`;
    case 'link-flap': return `${f.role} down ${f.holdMs} ms`;
    case 'mtu-change': return `${f.role} MTU ${f.mtu} for ${f.holdMs} ms`;
    case 'consumer-stall': return `main-thread consumer ${f.holdMs} ms`;
    case 'worker-stall': return `${f.role} worker ${f.holdMs} ms`;
    case 'handler-exception': return `${f.count} batches on ${f.role}`;
    case 'ring-full-burst': return `${f.count} datagrams unpaced`;
    case 'netns-recreate': return `namespace ${f.side}`;
  }
}
