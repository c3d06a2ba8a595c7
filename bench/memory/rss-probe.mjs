#!/usr/bin/env node
/**
 * Memory probe around a forwarder (meets the harness's forwarder contract by
 * passing it through): starts COMMAND, relays its stdout (so its READY reaches
 * run.sh), samples the child's /proc/PID/status (VmRSS, VmHWM) and its CPU
 * ticks every 100 ms. On SIGTERM it keeps sampling for --after-ms (the load has
 * stopped: run.sh ends its tests first), writes the samples and a summary to
 * --out as JSON, then stops the child (SIGTERM, SIGKILL after 2 s).
 *
 *   node bench/memory/rss-probe.mjs --out FILE [--after-ms 2000] -- COMMAND [ARGS...]
 *
 * Summary (KiB): ready (first sample after READY), loadPeak (largest VmRSS while
 * the child, after READY, used > 20 % of a core), hwm (VmHWM, the kernel's peak), after (VmRSS
 * at the end of the idle wait), and loadedSamples.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, 'after-ms': { type: 'string', default: '2000' } },
});
if (!values.out || positionals.length === 0) {
  process.stderr.write('usage: rss-probe.mjs --out FILE [--after-ms 2000] -- COMMAND [ARGS...]\n');
  process.exit(2);
}
const HZ = 100; // CLK_TCK on Linux x86-64
const PERIOD_MS = 100;
const child = spawn(positionals[0], positionals.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
let readyAt = -1;
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  if (readyAt < 0 && String(d).includes('READY')) readyAt = samples.length;
});

/** `[VmRSS, VmHWM]` in KiB and utime+stime in ticks of the child, or null once it is gone. */
function sample() {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rss: kib('VmRSS'), hwm: kib('VmHWM'), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

const t0 = performance.now();
const samples = [];
const timer = setInterval(() => {
  const s = sample();
  if (s) samples.push({ t: Math.round(performance.now() - t0), ...s });
}, PERIOD_MS);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  const stopAt = samples.length;
  setTimeout(() => {
    clearInterval(timer);
    const last = sample() ?? samples.at(-1);
    const loaded = samples.filter((s, i) => i > Math.max(readyAt, 0) && s.ticks - samples[i - 1].ticks > (0.2 * HZ * PERIOD_MS) / 1000);
    const afterReady = samples.slice(Math.max(readyAt, 0));
    const summary = {
      ready: afterReady[0]?.rss ?? null,
      loadPeak: loaded.length ? Math.max(...loaded.map((s) => s.rss)) : null,
      hwm: last?.hwm ?? null,
      after: last?.rss ?? null,
      loadedSamples: loaded.length,
      samplesBeforeStop: stopAt,
    };
    // Written before the child is stopped: run.sh SIGKILLs the whole chain 5 s
    // after its SIGTERM, and the child's own shutdown may take most of that.
    writeFileSync(values.out, JSON.stringify({ command: positionals, periodMs: PERIOD_MS, summary, samples }) + '\n');
    const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(killer);
      process.exit(0);
    });
    child.kill('SIGTERM');
  }, Number(values['after-ms']));
});
child.once('exit', (code) => {
  if (!stopping) {
    process.stderr.write(`rss-probe: ${positionals.join(' ')} exited (${code}) before SIGTERM\n`);
    process.exit(1);
  }
});
