/**
 * Markdown tables from a results.json written by run.mjs: one function per
 * section of BENCHMARKS.md (machine, relay, drain, offload, memory) and the
 * README's headline table. run.mjs prints them as its summary; report.mjs
 * writes them into BENCHMARKS.md and README.md between their markers.
 */

const fmtGbps = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));
const fmtKpps = (x) => (x === null || x === undefined ? '–' : String(Math.round(x / 1000)));
const fmtRatio = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));
const fmtMiB = (x) => (x === null || x === undefined ? '–' : x.toFixed(1));

/** "median [min–max]" of a relay figure in its unit (Gbps, or kpps for pps). */
function cell(s) {
  if (!s || s.median === null) return '–';
  const f = s.unit === 'pps' ? fmtKpps : fmtGbps;
  return s.n > 1 ? `${f(s.median)} [${f(s.min)}–${f(s.max)}]` : f(s.median);
}

const TEST_HEAD = { tcp1: 'tcp1 (Gbps)', tcp4: 'tcp4 (Gbps)', tcp1v6: 'tcp1v6 (Gbps)', tcp4v6: 'tcp4v6 (Gbps)', udpmm64: '64 B UDP delivered (kpps)', udp64: 'udp64 (kpps)' };

/** The machine and run table. */
export function machineTable(results) {
  const m = results.machine;
  const rows = [
    ['CPU', `${m.cpu}, ${m.cpus} vCPU${m.hypervisor ? ` (${m.hypervisor} VM)` : ''}, ${m.memGiB} GiB`],
    ['kernel', `Linux ${m.kernel}`],
    ['Node', m.node],
    ['run', `${results.started} → ${results.finished ?? '(unfinished)'}, \`${results.command}\`${results.quick ? ' (quick pass: figures indicative only)' : ''}`],
    ['load average at start', m.loadavg],
  ];
  const relay = results.suites.relay;
  if (relay?.stats) {
    const bg = Object.values(relay.stats).flatMap((byMode) => Object.values(byMode).map((x) => x.bgCpu)).filter((x) => x !== null).sort((a, b) => a - b);
    if (bg.length) rows.push(['other load during the relay tests', `median ${bg[Math.floor(bg.length / 2)]} % of the box (run.sh's bgCPU: busy CPU in the 0.5 s before each test, after waiting up to ${relay.env.QUIET_WAIT_S} s for it to drop below 25 %)`]);
  }
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

/** Relay: medians [min–max] per relay and test, then ratios to the C counterpart and to cfwd -m vnet. */
export function relayTables(relay) {
  if (!relay || !relay.tests?.length) return '_No relay results in this run._';
  const { modes, tests, stats, ratios } = relay;
  const out = [];
  out.push(`| relay | ${tests.map((t) => TEST_HEAD[t] ?? t).join(' | ')} | forwarder CPU, tcp1 (% of a core) |`);
  out.push(`|---|${tests.map(() => '---').join('|')}|---|`);
  for (const m of modes) {
    const cpu = stats.tcp1?.[m.label]?.fwdCpu;
    out.push(`| ${m.title} | ${tests.map((t) => cell(stats[t]?.[m.label])).join(' | ')} | ${cpu ?? '–'} |`);
  }
  out.push('');
  out.push(`| ratio (same run) | C counterpart | ${tests.join(' | ')} | target |`);
  out.push(`|---|---|${tests.map(() => '---').join('|')}|---|`);
  for (const m of modes.filter((x) => x.counterpart)) {
    const cp = modes.find((x) => x.label === m.counterpart);
    out.push(`| ${m.title} | ${cp.title.replace(/^C /, '')} | ${tests.map((t) => fmtRatio(ratios[t]?.[m.label]?.toCounterpart)).join(' | ')} | ${m.target ? `≥ ${m.target}` : ''} |`);
  }
  out.push('');
  out.push(`| ratio to \`cfwd -m vnet\` (the chart) | ${tests.join(' | ')} |`);
  out.push(`|---|${tests.map(() => '---').join('|')}|`);
  for (const m of modes.filter((x) => x.label !== 'vnet')) {
    out.push(`| ${m.title} | ${tests.map((t) => fmtRatio(ratios[t]?.[m.label]?.toVnet)).join(' | ')} |`);
  }
  return out.join('\n');
}

/** Drain: pps median [min–max] and ratio to the C loop per drainer. */
export function drainTable(drain) {
  if (!drain?.results) return '_No drain results in this run._';
  const targets = { worker: '≥ 0.8', batches: '≥ 0.7', readable: '≥ 0.5' };
  const out = [`| drainer (${drain.packets} × 64 B, ${drain.reps} reps) | kpps, median [min–max] | ratio to C | reader CPU ns/pkt (C/this) | target |`, '|---|---|---|---|---|'];
  for (const [via, r] of Object.entries(drain.results)) {
    const range = drain.reps > 1 ? ` [${fmtKpps(r.min)}–${fmtKpps(r.max)}]` : '';
    const cpu = r.workerNsPerPacket === undefined ? '' : `${r.workerNsPerPacket} (${via === 'c' ? '1' : fmtRatio(r.cpuRatio)})`;
    out.push(`| ${r.label} | ${fmtKpps(r.median)}${range} | ${via === 'c' ? '1' : fmtRatio(r.ratio)} | ${cpu} | ${targets[via] ?? ''} |`);
  }
  out.push('', `Load average ${drain.load.before} before, ${drain.load.after} after.`);
  return out.join('\n');
}

/** Offload: the per-core micro-benchmarks. */
export function offloadTable(offload) {
  if (!offload) return '_No offload results in this run._';
  const out = ['| benchmark (one core) | result |', '|---|---|'];
  const c = offload.checksum;
  if (c) {
    const sizes = ['64', '256', '1500', '65535'].filter((s) => c.aligned[s] !== undefined);
    out.push(`| RFC 1071 checksum, ${sizes.map((s) => `${s} B`).join(' / ')} | ${sizes.map((s) => c.aligned[s]).join(' / ')} GB/s (odd start: ${sizes.map((s) => c.oddStart[s]).join(' / ')}) |`);
  }
  const s = offload.split;
  if (s) {
    for (const f of ['tcp4', 'tcp6']) {
      const x = s[f];
      out.push(`| split a 64 KB ${f === 'tcp4' ? 'TCPv4' : 'TCPv6'} superpacket → ${s.segments} × ${s.mss}, full checksums | ${x.payloadGbps} Gbps of payload [${x.payloadGbpsMin ?? '?'}–${x.payloadGbpsMax ?? '?'}], ${x.usPerSuperpacket} µs each |`);
    }
  }
  const g = offload.gro;
  if (g) {
    for (const f of ['tcp4', 'tcp6']) {
      const x = g[f];
      out.push(`| GRO ${g.segments} × ${g.mss} → 1, ${f === 'tcp4' ? 'TCPv4' : 'TCPv6'} | ${x.usPerBatch} µs per batch [${x.usPerBatchMin ?? '?'}–${x.usPerBatchMax ?? '?'}], ${x.payloadGbps} Gbps of payload |`);
      const t = g[`${f}trusted`];
      if (t) out.push(`| GRO, ${f === 'tcp4' ? 'TCPv4' : 'TCPv6'}, segments the worker split itself (\`checksumsValid\`) | ${t.usPerBatch} µs per batch [${t.usPerBatchMin ?? '?'}–${t.usPerBatchMax ?? '?'}], ${t.payloadGbps} Gbps of payload |`);
    }
  }
  const sg = offload['split-gro'];
  if (sg?.tcp4) {
    for (const f of ['tcp4', 'tcp6']) {
      const x = sg[f];
      if (x) out.push(`| split mode's worker path per superpacket, ${f === 'tcp4' ? 'TCPv4' : 'TCPv6'} (CPU µs): split / split + GRO verifying / split + GRO trusted | ${x.split} / ${x.splitGroVerify} / ${x.splitGroTrusted} |`);
    }
  }
  return out.join('\n');
}

/** Memory: RSS of the relay per mode and queue count. */
export function memoryTable(memory) {
  if (!memory?.relays) return '_No memory results in this run._';
  const out = [
    '| relay | queues | tcp4 load (Gbps) | RSS ready (MiB) | peak RSS under load (MiB) | VmHWM (MiB) | RSS 2 s after (MiB) | peak per queue (MiB) | 2nd queue adds (MiB) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of memory.relays) {
    out.push(`| tunpipe ${r.mode} | ${r.queues} | ${fmtGbps(r.gbps)} | ${fmtMiB(r.readyMiB)} | ${fmtMiB(r.loadPeakMiB)} | ${fmtMiB(r.hwmMiB)} | ${fmtMiB(r.afterMiB)} | ${fmtMiB(r.peakPerQueueMiB)} | ${r.secondQueueMiB === null || r.secondQueueMiB === undefined ? '' : fmtMiB(r.secondQueueMiB)} |`);
  }
  return out.join('\n');
}

/** The README's headline: each non-C relay's ratio to its C counterpart, and the drain ratios. */
export function headlineTable(results) {
  const relay = results.suites.relay;
  const drain = results.suites.drain;
  const tests = ['tcp1', 'tcp4', 'tcp1v6', 'udpmm64'];
  const out = ['| same-run ratio to the C reference, 2 vCPU VM | tcp1 | tcp4 | tcp1v6 | 64 B UDP |', '|---|---|---|---|---|'];
  if (relay?.tests?.length) {
    for (const m of relay.modes.filter((x) => x.counterpart)) {
      const cp = relay.modes.find((x) => x.label === m.counterpart);
      out.push(`| ${m.title} / \`${cp.title.replace(/^C /, '').replace(/, 2 queues$/, '')}\` | ${tests.map((t) => fmtRatio(relay.ratios[t]?.[m.label]?.toCounterpart)).join(' | ')} |`);
    }
  }
  if (drain?.results) {
    for (const via of ['worker', 'batches', 'readable', 'rxjs']) {
      const r = drain.results[via];
      if (r) out.push(`| receive drain, ${r.label} / C read loop | | | | ${fmtRatio(r.ratio)} |`);
    }
  }
  out.push('', `From \`${results.command}\` of ${results.started.slice(0, 10)} (medians; min–max and the absolute figures in BENCHMARKS.md).`);
  return out.join('\n');
}
