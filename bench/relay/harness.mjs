/**
 * The shared forwarder harness (/work/shared/bench, beside the checkout) as the
 * relay and memory suites use it: a built scratch copy (shared/ is read-only),
 * every run.sh under one lock, its results.tsv parsed into medians.
 *
 * run.sh uses fixed names (namespaces tb-a/tb-b, devices tunA/tunB), so two runs
 * at once would break each other: every invocation goes through
 * `flock /tmp/tp-relay-bench.lock`, and after each one no tb-* namespace may be
 * left (netns-teardown.sh is run, under the lock, if one is).
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, chmodSync, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The lock every run.sh invocation holds (other sessions' runs take it too). */
export const RELAY_LOCK = '/tmp/tp-relay-bench.lock';
/** Set in the environment by run.mjs when it already holds RELAY_LOCK for the whole run. */
export const LOCK_HELD_ENV = 'TP_RELAY_BENCH_LOCKED';

/** The command prefix that takes the lock, or nothing when this process tree holds it already. */
function locked(args) {
  return process.env[LOCK_HELD_ENV] === '1' ? args : ['flock', '-w', '3600', RELAY_LOCK, ...args];
}
/** Where the shared harness lives: /work/shared/bench when the checkout is /work/main. */
export const SHARED_BENCH = new URL('../../../shared/bench/', import.meta.url).pathname;

/** Copies the harness into a scratch directory and builds cfwd and udpgen there; returns `{ dir, dispose }`. */
export function prepareHarness() {
  if (!existsSync(join(SHARED_BENCH, 'run.sh'))) throw new Error(`the C reference harness is not at ${SHARED_BENCH}`);
  const dir = mkdtempSync(join(tmpdir(), 'tunpipe-bench-'));
  cpSync(SHARED_BENCH, dir, { recursive: true });
  chmodSync(dir, 0o755); // the copy keeps shared/'s read-only mode; make writes cfwd and udpgen here
  execFileSync('make', ['-C', dir], { stdio: 'ignore' });
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Names of the harness's namespaces (tb-*) that exist now. */
export function leftoverNamespaces() {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith('tb-'));
}

/**
 * Runs `flock RELAY_LOCK bash run.sh ...modes` (plain `bash run.sh` when the
 * lock is held for the whole run, see LOCK_HELD_ENV) in the harness copy with `env`
 * (REPS, DURATION, TESTS, OUT, ...), output teed to `log` (a line callback) and
 * appended to `logFile`. Resolves with the exit code once nothing of the run is left.
 */
export function runHarness({ dir, modes, env, log, logFile }) {
  return new Promise((resolve) => {
    const file = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
    const [cmd, ...args] = locked(['bash', join(dir, 'run.sh'), ...modes]);
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    let started = false; // run.sh printed something: it holds the lock, the tb-* namespaces are ours
    const onData = (d) => {
      started = true;
      file?.write(d);
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const l of lines) log(l);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('close', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (partial) log(partial);
      // Only after our own run.sh ran: while we waited for the lock, tb-* belong to another run.
      if (started && leftoverNamespaces().length > 0) {
        log(`harness: namespaces left (${leftoverNamespaces().join(' ')}): netns-teardown.sh`);
        const [teardown, ...targs] = locked([join(dir, 'netns-teardown.sh')]);
        try {
          execFileSync(teardown, targs, { stdio: 'ignore' });
        } catch (e) {
          log(`harness: netns-teardown.sh failed (${e.signal ?? e.status}): run it by hand`);
        }
      }
      file?.end();
      resolve(code ?? 1);
    });
  });
}

/** One row of run.sh's results.tsv. */
function parseRow(line) {
  const [mode, rep, test, gbps, pps, fwdCpu, sysCpu, bgCpu, extra] = line.split('\t');
  const num = (x) => (x === undefined || x === '-' || x === 'ERR' || x === '' ? null : Number(x));
  return { mode, rep: Number(rep), test, gbps: num(gbps), pps: num(pps), fwdCpu: num(fwdCpu), sysCpu: num(sysCpu), bgCpu: num(bgCpu), extra: extra ?? '' };
}

/** Reads run.sh's results.tsv: `{ header: [comment lines], rows: [...] }`. */
export function readResultsTsv(path) {
  const header = [];
  const rows = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) header.push(line.slice(2));
    else if (!line.startsWith('mode\t')) rows.push(parseRow(line));
  }
  return { header, rows };
}

/** Median, min, max and count of the non-null numbers in `xs` (null fields when there are none). */
export function spread(xs) {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return { median: null, min: null, max: null, n: 0 };
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: m, min: s[0], max: s[s.length - 1], n: s.length };
}

/** The figure a test is judged by: delivered pps for the udp tests, receiver Gbps for TCP. */
export function unitOf(test) {
  return test.startsWith('udp') ? 'pps' : 'Gbps';
}

/**
 * Per test and mode: `{ unit, median, min, max, n, fwdCpu, bgCpu }` (fwdCpu and
 * bgCpu are medians, in % of one core / of the box) from the parsed rows.
 */
export function summarize(rows) {
  const out = {};
  for (const r of rows) {
    out[r.test] ??= {};
    out[r.test][r.mode] ??= [];
    out[r.test][r.mode].push(r);
  }
  for (const [test, modes] of Object.entries(out)) {
    const unit = unitOf(test);
    for (const [mode, rs] of Object.entries(modes)) {
      modes[mode] = {
        unit,
        ...spread(rs.map((r) => (unit === 'pps' ? r.pps : r.gbps))),
        fwdCpu: spread(rs.map((r) => r.fwdCpu)).median,
        bgCpu: spread(rs.map((r) => r.bgCpu)).median,
      };
    }
  }
  return out;
}
