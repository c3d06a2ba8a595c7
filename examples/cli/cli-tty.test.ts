/**
 * The live statistics in a real pseudo-terminal: `tunpipe up --queues 2
 * --stats-interval 200` runs in a tmux pane (a private tmux server), and the
 * screen must hold exactly one line per queue, redrawn in place with counters
 * that change while ping runs; Ctrl-C ends it cleanly (exit 0, device removed).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createNetns, ping, requireNetAdmin } from '@tunpipe/testkit';
import { CLI_MAIN, linkNames } from './cli-process.js';

const socket = `tp-cli-${process.pid}`;

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The visible screen, without trailing blank lines. */
function screen(): string[] {
  return tmux('capture-pane', '-p', '-t', 'cli').split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
}

/** The queue lines on screen: total rx per queue. */
function queueLines(lines: string[]): Map<string, { count: number; rx: number }> {
  const out = new Map<string, { count: number; rx: number }>();
  for (const line of lines) {
    const m = /^tptty0 (q\d) +rx +\d+ pps +[\d.]+ Gbps +tx +\d+ pps +[\d.]+ Gbps +drops \d+ +\(total rx (\d+) tx \d+\)$/.exec(line);
    if (m === null) continue;
    const prev = out.get(m[1]!);
    out.set(m[1]!, { count: (prev?.count ?? 0) + 1, rx: Number(m[2]) });
  }
  return out;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen().join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('live stats: one refreshing line per queue in a terminal', async (t) => {
  if (!requireNetAdmin(t)) return;
  if (spawnSync('tmux', ['-V']).status !== 0) {
    t.plan(0, 'tmux is not installed');
    return;
  }
  const ns = createNetns(t, 'clitty');
  const cli = `ip netns exec ${ns.name} ${process.execPath} ${CLI_MAIN} up --name tptty0 --addr 198.18.8.1/24 --queues 2 --stats-interval 200`;
  tmux('new-session', '-d', '-s', 'cli', '-x', '120', '-y', '20', `${cli}; echo EXIT=$?; sleep 30`);
  t.teardown(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server'], { timeout: 5000 });
  });

  await waitFor('two queue lines', () => (queueLines(screen()).size === 2 ? true : undefined));
  const pinging = ping(ns, '198.18.8.2', { count: 30, intervalS: 0.05, timeoutS: 0.2 });
  const samples: number[] = [];
  const shots: string[][] = [];
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const lines = screen();
    shots.push(lines);
    const queues = queueLines(lines);
    t.equal(queues.size, 2, `shot ${i}: a line for q0 and q1`);
    t.ok([...queues.values()].every((q) => q.count === 1), `shot ${i}: each queue's line once (redrawn in place, not scrolled)`);
    samples.push([...queues.values()].reduce((s, q) => s + q.rx, 0));
  }
  await pinging;
  t.ok(new Set(samples).size >= 3, `the counters changed while ping ran: ${samples.join(', ')}`);
  t.ok(samples.every((v, i) => i === 0 || v >= samples[i - 1]!), 'and only grew');
  const total = await waitFor('30 requests counted', () => {
    const q = queueLines(screen());
    const sum = [...q.values()].reduce((s, x) => s + x.rx, 0);
    return sum >= 30 ? sum : undefined;
  });
  t.ok(total >= 30, `every request counted (${total})`);
  t.ok(shots.every((s) => s.length <= 3), 'the screen holds the banner and the two queue lines only');

  tmux('send-keys', '-t', 'cli', 'C-c');
  const after = await waitFor('exit', () => {
    const lines = screen();
    return lines.some((l) => l.startsWith('EXIT=')) ? lines : undefined;
  });
  t.ok(after.includes('EXIT=0'), 'Ctrl-C: exit 0');
  t.ok(after.some((l) => /^tunpipe: tptty0 removed on SIGINT/.test(l)), 'says it removed the device, on a clean line (no ^C left in front)');
  t.notOk((await linkNames(ns)).includes('tptty0'), 'device gone');
});
