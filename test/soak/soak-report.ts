/**
 * The soak's report: packets moved, faults survived, drops by cause, resources,
 * slowest bounded operations, and the verdict; as text or as JSON.
 */
import { DROP_CAUSES, totalDrops } from './udp-books.js';
import { FAULT_KINDS } from './fault-schedule.js';
import type { SoakResult } from './soak-run.js';
import { allocatorSlack, rssInUse } from './memory-map.js';

const MiB = 1048576;

function n(v: number): string {
  return v.toLocaleString('en-US');
}

/** The report as text lines. */
export function formatReport(r: SoakResult): string {
  const u = r.udp;
  const out: string[] = [];
  out.push(`soak: seed ${r.seed}, ${(r.wallMs / 1000).toFixed(1)} s, ${r.epochs.length} epoch(s)`);
  out.push('');
  out.push('packets moved');
  out.push(`  UDP  sent ${n(u.sent)} (attempted ${n(u.issued)}), received ${n(u.received)}, dropped ${n(totalDrops(u))}, unaccounted ${n(u.unaccounted)}`);
  out.push(`  TCP  ${n(r.tcp.transfers)} transfers byte-exact, ${(r.tcp.bytes / MiB).toFixed(1)} MiB, slowest ${(r.tcp.slowestMs / 1000).toFixed(1)} s, failed ${r.tcp.failures.length}; not started (connect refused while a link was down) ${n(r.tcp.refused)}`);
  out.push(`  relay workers read ${n(r.workerRxPackets)} packets; handler exceptions ${n(r.handlerErrors)}`);
  out.push('');
  out.push(`faults survived: ${r.faults.filter((f) => f.survived).length} of ${r.faults.length}`);
  for (const k of FAULT_KINDS) out.push(`  ${k.padEnd(18)} ${r.survivedByKind[k]}`);
  out.push('');
  out.push('UDP drops by cause');
  for (const c of DROP_CAUSES) out.push(`  ${c.padEnd(18)} ${n(u.drops[c])}`);
  const errs = Object.entries(u.sendErrors).map(([k, v]) => `${k} ${n(v)}`).join(', ') || 'none';
  out.push(`  not sent (sender's kernel refused): ${errs}`);
  out.push(`  duplicates ${u.duplicates}, out of range ${u.outOfRange}, corrupted ${u.badPayload}; receiving device rx_dropped ${n(u.udpBRxDropped)} (writes refused, already in deviceWriteFailed)`);
  out.push('');
  out.push('resources before → after');
  out.push(`  fds ${r.before.fds} → ${r.after.fds}, threads ${r.before.threads} → ${r.after.threads}, array buffers ${(r.before.arrayBuffers / MiB).toFixed(1)} → ${(r.after.arrayBuffers / MiB).toFixed(1)} MiB, V8 external ${(r.before.external / MiB).toFixed(1)} → ${(r.after.external / MiB).toFixed(1)} MiB`);
  out.push(`  RSS ${(r.before.rss / MiB).toFixed(1)} → ${(r.after.rss / MiB).toFixed(1)} MiB (after each epoch: ${r.epochs.map((e) => (e.closed.rss / MiB).toFixed(0)).join(', ')})`);
  const verdict = r.malloc === 'fixed' ? `allowed +${(r.rssTolerance / MiB).toFixed(1)}` : 'glibc\'s dynamic malloc thresholds: only a backstop';
  const grown = (r.settledRss - r.baselineRss) / MiB;
  const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  const fromCold = (r.settledRss - r.coldRss) / MiB;
  const baseline = r.warmedUp ? `baseline after a warm-up lifetime (cold process ${(r.coldRss / MiB).toFixed(1)} MiB, ${signed(fromCold)} from there)` : 'baseline of the cold process';
  out.push(`  RSS back to baseline: ${(r.baselineRss / MiB).toFixed(1)} → ${(r.settledRss / MiB).toFixed(1)} MiB (${signed(grown)}; ${verdict}), ${baseline}, each after V8 gave back its free memory; malloc thresholds ${r.malloc}; queue threads ${r.threads}${r.threadsStarted === null ? '' : ` (${r.threadsStarted} started for ${r.epochs.length} relays)`}`);
  const snap = (f: (m: SoakResult['memory'][number]['map']) => number): string => r.memory.map((m) => `${m.label} ${(f(m.map) / MiB).toFixed(1)}`).join(', ');
  out.push(`  RSS, rings freed (MiB): ${snap((m) => m.rss)}`);
  out.push(`    in use: ${snap(rssInUse)} (allowed: epoch 0 + ${(r.rssInUseTolerance / MiB).toFixed(1)})`);
  out.push(`    held free by glibc arenas and V8: ${snap(allocatorSlack)}`);
  out.push('');
  out.push('slowest bounded operations (ms / bound)');
  const slow = Object.entries(r.slowest).sort((a, b) => b[1].ms / b[1].bound - a[1].ms / a[1].bound).slice(0, 6);
  for (const [label, s] of slow) out.push(`  ${label.padEnd(36)} ${s.ms.toFixed(0).padStart(6)} / ${s.bound} (×${s.count})`);
  out.push('');
  if (r.violations.length === 0) out.push('PASS: every datagram accounted for, every transfer byte-exact, nothing hung, nothing leaked');
  else {
    out.push(`FAIL: ${r.violations.length} violation(s)`);
    for (const v of r.violations) out.push(`  - ${v}`);
  }
  return out.join('\n');
}

/** The report as a JSON-able object. */
export function reportJson(r: SoakResult): unknown {
  return {
    seed: r.seed,
    wallMs: Math.round(r.wallMs),
    pass: r.violations.length === 0,
    violations: r.violations,
    udp: r.udp,
    tcp: r.tcp,
    workerRxPackets: r.workerRxPackets,
    handlerErrors: r.handlerErrors,
    faults: r.faults.map((f) => ({ ...f.fault, ms: Math.round(f.ms), survived: f.survived })),
    survivedByKind: r.survivedByKind,
    epochs: r.epochs.map((e) => ({ index: e.index, end: e.end, udp: e.udp, tcp: e.tcp, relay: e.relay, readerEnds: e.readerEnds })),
    resources: { before: r.before, after: r.after, coldRss: r.coldRss, warmedUp: r.warmedUp, baselineRss: r.baselineRss, settledRss: r.settledRss, settleMs: Math.round(r.settleMs), malloc: r.malloc, threads: r.threads, threadsStarted: r.threadsStarted, rssTolerance: r.rssTolerance },
    memory: r.memory.map((m) => ({ label: m.label, rssInUse: rssInUse(m.map), allocatorSlack: allocatorSlack(m.map), ...m.map })),
    slowest: r.slowest,
  };
}
