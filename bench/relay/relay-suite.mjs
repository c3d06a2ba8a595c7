/**
 * The relay suite: TUN -> userspace relay -> TUN through the shared harness,
 * every relay interleaved in ONE run.sh (so every ratio compares figures taken
 * under the same machine conditions):
 *
 *   vnet, plain, mqvnet   the C reference relay cfwd (-m vnet / plain / mqvnet, 2 queues)
 *   tp-keep, tp-keep-2q   tunpipe, in-worker forwarding, superpackets kept whole (relay.mjs)
 *   tp-split              tunpipe, superpackets split on the way in, GRO on the way out
 *   tp-streams            tunpipe streams only: a.readable.pipeTo(b.writable) and back (fused: in the workers)
 *   tp-streams-main       the same with fusePipes: false (relay-pipe.mjs --unfused): through the main thread
 *   naive-fs              what Node offers without tunpipe: fs.read/fs.write (naive-fs-relay.mjs)
 *   appium                appium-ios-tuntap, the TUN addon on npm (if it installs here)
 *
 * Tests tcp1, tcp4 (Gbps), tcp1v6 (Gbps), udpmm64 (64-byte UDP delivered, pps).
 * Each relay's ratio is taken to its C counterpart (same kind of device: offload
 * or plain, same queue count) and to `cfwd -m vnet` (the chart's baseline).
 */
import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { prepareHarness, runHarness, readResultsTsv, summarize, RELAY_LOCK } from './harness.mjs';
import { ensureAppiumTuntap } from './appium-install.mjs';

const here = new URL('.', import.meta.url).pathname;
const node = process.execPath;

/** The relays of the suite, in run order (the first is run.sh's own ratio baseline). */
export function relayModes(appiumDir) {
  const relay = join(here, 'relay.mjs');
  const modes = [
    { label: 'vnet', spec: 'vnet', kind: 'c', title: 'C cfwd -m vnet' },
    { label: 'plain', spec: 'plain', kind: 'c', title: 'C cfwd -m plain' },
    { label: 'mqvnet', spec: 'mqvnet', kind: 'c', title: 'C cfwd -m mqvnet, 2 queues' },
    { label: 'tp-keep', command: `${node} ${relay} --mode keep`, kind: 'tunpipe', title: 'tunpipe keep, 1 queue', counterpart: 'vnet', target: 0.9 },
    { label: 'tp-keep-2q', command: `${node} ${relay} --mode keep --queues 2`, kind: 'tunpipe', title: 'tunpipe keep, 2 queues', counterpart: 'mqvnet', target: 0.9 },
    { label: 'tp-split', command: `${node} ${relay} --mode split`, kind: 'tunpipe', title: 'tunpipe split + GRO', counterpart: 'plain', target: 2 },
    { label: 'tp-streams', command: `${node} ${join(here, '..', 'streams', 'relay-pipe.mjs')} --mode keep`, kind: 'tunpipe', title: 'tunpipe streams pipeTo (keep, fused)', counterpart: 'vnet', target: 0.8 },
    { label: 'tp-streams-main', command: `${node} ${join(here, '..', 'streams', 'relay-pipe.mjs')} --mode keep --unfused`, kind: 'tunpipe', title: 'tunpipe streams pipeTo (keep, main thread)', counterpart: 'vnet' },
    { label: 'naive-fs', command: `${node} ${join(here, 'naive-fs-relay.mjs')}`, kind: 'node', title: 'Node fs.read/fs.write (naive)', counterpart: 'plain' },
  ];
  if (appiumDir) {
    modes.push({ label: 'appium', command: `${node} ${join(here, 'appium-relay.mjs')} --from ${appiumDir}`, kind: 'node', title: 'appium-ios-tuntap', counterpart: 'plain' });
  }
  return modes;
}

/** run.sh's argument for a mode: a built-in name, or LABEL=COMMAND. */
const modeArg = (m) => m.spec ?? `${m.label}=${m.command}`;

/** Ratios per test and mode: to the counterpart's median and to `cfwd -m vnet`'s. */
export function relayRatios(stats, modes) {
  const out = {};
  for (const [test, byMode] of Object.entries(stats)) {
    out[test] = {};
    for (const m of modes) {
      const s = byMode[m.label];
      if (!s || s.median === null) continue;
      const to = (label) => {
        const b = byMode[label];
        return b && b.median ? Number((s.median / b.median).toFixed(3)) : null;
      };
      out[test][m.label] = { toCounterpart: m.counterpart ? to(m.counterpart) : null, toVnet: to('vnet') };
    }
  }
  return out;
}

/** Every test of the suite, in run order. */
export const RELAY_TESTS = ['tcp1', 'tcp4', 'tcp1v6', 'udpmm64'];

/**
 * The relays named in `only` (labels; all when undefined), plus `vnet` (the
 * chart's baseline) and each one's C counterpart, in suite order; throws on an
 * unknown label.
 */
export function selectModes(modes, only) {
  if (only === undefined) return modes;
  const byLabel = new Map(modes.map((m) => [m.label, m]));
  const keep = new Set(['vnet']);
  for (const label of only) {
    const m = byLabel.get(label);
    if (m === undefined) throw new Error(`relay: unknown relay ${label} (${[...byLabel.keys()].join(', ')})`);
    keep.add(label);
    if (m.counterpart) keep.add(m.counterpart);
  }
  return modes.filter((m) => keep.has(m.label));
}

/** The tests named in `tests` (all when undefined), in suite order; throws on an unknown name. */
export function selectTests(tests) {
  if (tests === undefined) return RELAY_TESTS;
  for (const t of tests) if (!RELAY_TESTS.includes(t)) throw new Error(`relay: unknown test ${t} (${RELAY_TESTS.join(', ')})`);
  return RELAY_TESTS.filter((t) => tests.includes(t));
}

/**
 * Runs the suite: `reps` repetitions of `duration` s per relay and test (`quick`
 * also shortens the harness's wait for a quiet machine to 5 s). Resolves with
 * `{ command, env, modes, tests, header, stats, ratios, appium, exitCode }`.
 * `only` (relay labels) and `tests` (test names) run a subset: selectModes/selectTests.
 */
export async function relaySuite({ quick = false, reps = 3, duration = 10, outDir, log, only, tests }) {
  const appium = ensureAppiumTuntap();
  log(appium.ok
    ? `relay: appium-ios-tuntap ${appium.version} loads (${appium.native}; ${appium.prebuild})`
    : `relay: appium-ios-tuntap unavailable: ${appium.error}`);
  const modes = selectModes(relayModes(appium.ok ? appium.dir : null), only);
  const env = {
    REPS: String(reps),
    DURATION: String(duration),
    TESTS: selectTests(tests).join(' '),
    MQ_QUEUES: '2',
    QUIET_WAIT_S: quick ? '5' : '30',
    OUT: join(outDir, 'relay'),
  };
  const harness = prepareHarness();
  const args = modes.map(modeArg);
  const command = `${Object.entries(env).filter(([k]) => k !== 'OUT').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')} ` +
    `flock ${RELAY_LOCK} ./run.sh ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
  let exitCode;
  try {
    exitCode = await runHarness({ dir: harness.dir, modes: args, env, log, logFile: join(outDir, 'relay.log') });
  } finally {
    harness.dispose();
  }
  const tsv = join(env.OUT, 'results.tsv');
  if (!existsSync(tsv)) return { command, env, modes, tests: [], header: [], stats: {}, ratios: {}, appium, exitCode };
  const { header, rows } = readResultsTsv(tsv);
  const stats = summarize(rows);
  const summaryFile = join(env.OUT, 'summary.txt');
  return {
    command,
    env,
    modes,
    tests: Object.keys(stats),
    header,
    stats,
    ratios: relayRatios(stats, modes),
    summary: existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8') : '',
    appium,
    exitCode,
  };
}
