/**
 * The memory suite: resident memory of the tunpipe relay (bench/relay/relay.mjs)
 * with 1 and 2 queues, in keep and split mode, under a tcp4 load (iperf3, 4
 * streams) from the shared harness, all in one run.sh. Each relay runs under
 * rss-probe.mjs, which samples /proc/PID/status (VmRSS, VmHWM) every 100 ms and
 * keeps sampling 2 s after the load has stopped.
 *
 * Reports per relay, in MiB: RSS when ready, the peak under load, VmHWM, RSS 2 s
 * after the load; and per queue: peak / queues, and what the second queue adds
 * (2-queue peak minus 1-queue peak) in the same mode.
 */
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { prepareHarness, runHarness, readResultsTsv, summarize, RELAY_LOCK } from '../relay/harness.mjs';

const here = new URL('.', import.meta.url).pathname;
const relay = join(here, '..', 'relay', 'relay.mjs');
const probe = join(here, 'rss-probe.mjs');

/** The probed relays: label, mode, queues. */
export const MEMORY_MODES = [
  { label: 'mem-keep-1q', mode: 'keep', queues: 1 },
  { label: 'mem-keep-2q', mode: 'keep', queues: 2 },
  { label: 'mem-split-1q', mode: 'split', queues: 1 },
  { label: 'mem-split-2q', mode: 'split', queues: 2 },
];

const mib = (kib) => (kib === null ? null : Number((kib / 1024).toFixed(1)));

/** Runs the suite (`duration` s of load; `quick` shortens the quiet wait); resolves with `{ command, env, relays: [...], exitCode }`. */
export async function memorySuite({ quick = false, duration = 10, outDir, log }) {
  const dir = join(outDir, 'memory');
  mkdirSync(dir, { recursive: true });
  const env = { REPS: '1', DURATION: String(duration), TESTS: 'tcp4', QUIET_WAIT_S: quick ? '5' : '30', OUT: join(dir, 'harness') };
  const args = MEMORY_MODES.map((m) =>
    `${m.label}=${process.execPath} ${probe} --out ${join(dir, `${m.label}.json`)} -- ${process.execPath} ${relay} --mode ${m.mode} --queues ${m.queues}`);
  const harness = prepareHarness();
  let exitCode;
  try {
    exitCode = await runHarness({ dir: harness.dir, modes: args, env, log, logFile: join(outDir, 'memory.log') });
  } finally {
    harness.dispose();
  }
  const tsv = join(env.OUT, 'results.tsv');
  const stats = existsSync(tsv) ? summarize(readResultsTsv(tsv).rows).tcp4 ?? {} : {};
  const relays = MEMORY_MODES.map((m) => {
    const file = join(dir, `${m.label}.json`);
    if (!existsSync(file)) return { ...m, error: 'no probe output' };
    const { summary } = JSON.parse(readFileSync(file, 'utf8'));
    return {
      ...m,
      gbps: stats[m.label]?.median ?? null,
      readyMiB: mib(summary.ready),
      loadPeakMiB: mib(summary.loadPeak),
      hwmMiB: mib(summary.hwm),
      afterMiB: mib(summary.after),
      peakPerQueueMiB: summary.loadPeak === null ? null : Number((summary.loadPeak / 1024 / m.queues).toFixed(1)),
      loadedSamples: summary.loadedSamples,
    };
  });
  for (const r of relays) {
    const one = relays.find((x) => x.mode === r.mode && x.queues === 1);
    r.secondQueueMiB = r.queues === 2 && one?.loadPeakMiB != null && r.loadPeakMiB != null
      ? Number((r.loadPeakMiB - one.loadPeakMiB).toFixed(1)) : null;
  }
  for (const r of relays) {
    log(`memory ${r.label}: ready ${r.readyMiB} MiB, peak under load ${r.loadPeakMiB} MiB (hwm ${r.hwmMiB}), ` +
      `2 s after ${r.afterMiB} MiB, ${r.peakPerQueueMiB} MiB per queue${r.secondQueueMiB != null ? `, 2nd queue +${r.secondQueueMiB} MiB` : ''}; tcp4 ${r.gbps} Gbps`);
  }
  const command = `REPS=1 DURATION=${env.DURATION} TESTS=tcp4 flock ${RELAY_LOCK} ./run.sh ` +
    MEMORY_MODES.map((m) => `'${m.label}=node bench/memory/rss-probe.mjs --out ${m.label}.json -- node bench/relay/relay.mjs --mode ${m.mode} --queues ${m.queues}'`).join(' ');
  return { command, env, relays, exitCode };
}
